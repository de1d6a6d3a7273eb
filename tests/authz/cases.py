"""The set-ups of the authorization matrix (tests/authz/matrix.yaml ``case``): for one cell, create what the
request needs in a fresh organization and say what to send.

Every case gets a ``Scene`` with brand-new orgs and users (one per column), so no cell sees another cell's
writes. Resources are created by ``scene.creator`` (another member of the org) unless the case is an
"own" one, where the member column's user creates them.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from tests.fixtures.db import (
    SAMPLE_CONFIG_JSON,
    Conn,
    Org,
    User,
    create_org,
    create_user,
    create_voice_config,
    create_voice_session,
)

COLUMNS = ("anon", "other", "member", "admin", "owner", "platform", "bot")


@dataclass
class Scene:
    conn: Conn
    invoke: Callable[..., Any]
    org: Org
    other_org: Org
    creator: User  # a member of org who owns the resources (not one of the columns)
    users: dict[str, User | None]  # column -> caller (anon and bot: None)

    # Every org a scene created (tests/authz/conftest.py ends their live sessions after the package).
    created_orgs: ClassVar[list[uuid.UUID]] = []

    @classmethod
    def new(cls, conn: Conn, invoke: Callable[..., Any]) -> Scene:
        org, other = create_org(conn), create_org(conn)
        cls.created_orgs += [org.id, other.id]
        users: dict[str, User | None] = {
            "anon": None,
            "other": create_user(conn, other, "org_user"),
            "member": create_user(conn, org, "org_user"),
            "admin": create_user(conn, org, "org_admin"),
            "owner": create_user(conn, org, "org_owner"),
            "platform": create_user(conn, None, sys_role="sys_admin"),
            "bot": None,
        }
        return cls(conn, invoke, org, other, create_user(conn, org, "org_user"), users)

    @property
    def member(self) -> User:
        user = self.users["member"]
        assert user is not None
        return user

    @property
    def admin(self) -> User:
        user = self.users["admin"]
        assert user is not None
        return user

    def user(self, column: str) -> User | None:
        return self.users[column]

    # --- resources ------------------------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        return create_voice_config(self.conn, self.org, self.admin, config_json=SAMPLE_CONFIG_JSON)

    def session(self, status: str = "pending", *, own: bool = False, **columns: Any) -> dict[str, Any]:
        creator = self.member if own else self.creator
        config = self.config()
        return create_voice_session(self.conn, self.org, creator, status, config_id=config["id"], **columns)

    def kb(self) -> uuid.UUID:
        row = self.conn.execute(
            "INSERT INTO public.kb_bases (org_id, name, description) VALUES (%s, %s, 'authz') RETURNING id",
            (self.org.id, f"KB {secrets.token_hex(3)}"),
        ).fetchone()
        assert row is not None
        self.conn.execute(
            "INSERT INTO public.kb_docs (kb_id, title, content) VALUES (%s, 'Doc', 'Some grounding text.')",
            (row["id"],),
        )
        return uuid.UUID(str(row["id"]))

    def kb_link(self, session: dict[str, Any]) -> uuid.UUID:
        kb = self.kb()
        self.conn.execute(
            "INSERT INTO public.voice_session_kb (session_id, kb_id, added_by) VALUES (%s, %s, %s)",
            (session["id"], kb, session["created_by"]),
        )
        return kb

    def transcript(self) -> tuple[dict[str, Any], uuid.UUID]:
        session = self.session("completed")
        segments = [{"seq": 1, "speaker": "bot", "text": "Hello.", "start_time": 0.0, "end_time": 1.0}]
        row = self.conn.execute(
            "INSERT INTO public.voice_transcripts (org_id, session_id, transcript_text, speaker_segments,"
            " word_count, created_by) VALUES (%s, %s, 'bot: Hello.', %s, 1, %s) RETURNING id",
            (self.org.id, session["id"], json.dumps(segments), self.creator.id),
        ).fetchone()
        assert row is not None
        return session, uuid.UUID(str(row["id"]))

    def credential(self, *, platform: bool = False, service: str = "deepgram") -> str:
        """Created through the API, as its admin would (the key goes to Secrets Manager)."""
        body: dict[str, Any] = {"serviceName": service, "apiKey": f"authz-{secrets.token_hex(8)}"}
        if platform:
            creator = self.users["platform"]
            body["scope"] = "platform"
        else:
            creator = self.admin
            body["orgId"] = str(self.org.id)
        created = self.invoke("voice-credentials", "POST", "/api/voice/credentials", user=creator, body=body)
        assert created.status in (200, 201), created.body
        return str(created.data["id"])


@dataclass
class Request:
    """What a cell sends: the route's Lambda and path come from module.json; ``bot_session`` names the
    session whose bot token the ``bot`` column presents (a random one for user routes)."""

    path: str
    query: dict[str, str] | None = None
    body: Any = None
    bot_session: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


Case = Callable[[Scene], Request]
CASES: dict[str, Case] = {}


def case(fn: Case) -> Case:
    CASES[fn.__name__] = fn
    return fn


def _config_body(s: Scene) -> dict[str, Any]:
    return {
        "orgId": str(s.org.id),
        "name": f"Authz {secrets.token_hex(4)}",
        "interviewType": "technical",
        "configJson": {
            "botName": "Interviewer",
            "systemPrompt": "You interview.",
            "voice": {"provider": "cartesia", "voiceId": "sonic-english"},
            "transcription": {"provider": "deepgram", "model": "nova-2"},
            "llm": {"provider": "openai", "model": "gpt-4o-mini"},
            "interview": {"questions": [{"id": "q1", "text": "Why?"}]},
        },
    }


# --- health --------------------------------------------------------------------------------------------


@case
def health(s: Scene) -> Request:
    return Request("/api/voice/health")


# --- configurations ------------------------------------------------------------------------------------


@case
def list_configs(s: Scene) -> Request:
    s.config()
    return Request("/api/voice/configs", query={"orgId": str(s.org.id)})


@case
def create_config(s: Scene) -> Request:
    return Request("/api/voice/configs", body=_config_body(s))


@case
def get_config(s: Scene) -> Request:
    return Request(f"/api/voice/configs/{s.config()['id']}")


@case
def update_config(s: Scene) -> Request:
    return Request(f"/api/voice/configs/{s.config()['id']}", body={"description": "changed"})


@case
def delete_config(s: Scene) -> Request:
    return Request(f"/api/voice/configs/{s.config()['id']}")


# --- sessions ------------------------------------------------------------------------------------------


@case
def get_org_settings(s: Scene) -> Request:
    return Request("/api/voice/settings", query={"orgId": str(s.org.id)})


@case
def put_org_settings(s: Scene) -> Request:
    return Request("/api/voice/settings", body={"orgId": str(s.org.id), "transcriptRetentionDays": 30})


@case
def list_sessions(s: Scene) -> Request:
    s.session()
    return Request("/api/voice/sessions", query={"orgId": str(s.org.id)})


@case
def create_session(s: Scene) -> Request:
    config = s.config()
    body = {"orgId": str(s.org.id), "interviewType": "technical", "configId": str(config["id"])}
    return Request("/api/voice/sessions", body=body)


@case
def get_session(s: Scene) -> Request:
    return Request(f"/api/voice/sessions/{s.session()['id']}")


@case
def update_session(s: Scene) -> Request:
    return Request(f"/api/voice/sessions/{s.session()['id']}", body={"candidateName": "Grace"})


@case
def update_own_session(s: Scene) -> Request:
    return Request(f"/api/voice/sessions/{s.session(own=True)['id']}", body={"candidateName": "Grace"})


@case
def delete_session(s: Scene) -> Request:
    return Request(f"/api/voice/sessions/{s.session()['id']}")


@case
def delete_own_session(s: Scene) -> Request:
    return Request(f"/api/voice/sessions/{s.session(own=True)['id']}")


@case
def start_session(s: Scene) -> Request:
    return Request(f"/api/voice/sessions/{s.session()['id']}/start")


@case
def start_own_session(s: Scene) -> Request:
    return Request(f"/api/voice/sessions/{s.session(own=True)['id']}/start")


@case
def list_kb_links(s: Scene) -> Request:
    session = s.session()
    s.kb_link(session)
    return Request(f"/api/voice/sessions/{session['id']}/kbs")


@case
def add_kb_link(s: Scene) -> Request:
    return Request(f"/api/voice/sessions/{s.session()['id']}/kbs", body={"kbId": str(s.kb())})


@case
def add_own_kb_link(s: Scene) -> Request:
    return Request(f"/api/voice/sessions/{s.session(own=True)['id']}/kbs", body={"kbId": str(s.kb())})


@case
def update_kb_link(s: Scene) -> Request:
    session = s.session()
    kb = s.kb_link(session)
    return Request(f"/api/voice/sessions/{session['id']}/kbs/{kb}", body={"isEnabled": False})


@case
def remove_kb_link(s: Scene) -> Request:
    session = s.session()
    kb = s.kb_link(session)
    return Request(f"/api/voice/sessions/{session['id']}/kbs/{kb}")


# --- transcripts and analytics -------------------------------------------------------------------------


@case
def list_transcripts(s: Scene) -> Request:
    s.transcript()
    return Request("/api/voice/transcripts", query={"orgId": str(s.org.id)})


@case
def get_transcript(s: Scene) -> Request:
    return Request(f"/api/voice/transcripts/{s.transcript()[1]}")


@case
def delete_transcript(s: Scene) -> Request:
    return Request(f"/api/voice/transcripts/{s.transcript()[1]}")


@case
def get_analytics(s: Scene) -> Request:
    session, _ = s.transcript()
    return Request(f"/api/voice/analytics/{session['id']}")


@case
def regenerate_analytics(s: Scene) -> Request:
    session, _ = s.transcript()
    return Request(f"/api/voice/analytics/{session['id']}/regenerate")


@case
def org_stats(s: Scene) -> Request:
    s.session()
    return Request("/api/voice/stats", query={"orgId": str(s.org.id)})


# --- credentials ---------------------------------------------------------------------------------------


@case
def list_org_credentials(s: Scene) -> Request:
    s.credential()
    return Request("/api/voice/credentials", query={"orgId": str(s.org.id)})


@case
def list_platform_credentials(s: Scene) -> Request:
    s.credential(platform=True)
    return Request("/api/voice/credentials", query={"scope": "platform"})


@case
def create_org_credential(s: Scene) -> Request:
    body = {"orgId": str(s.org.id), "serviceName": "cartesia", "apiKey": f"authz-{secrets.token_hex(8)}"}
    return Request("/api/voice/credentials", body=body)


@case
def create_platform_credential(s: Scene) -> Request:
    body = {"scope": "platform", "serviceName": "cartesia", "apiKey": f"authz-{secrets.token_hex(8)}"}
    return Request("/api/voice/credentials", body=body)


@case
def get_org_credential(s: Scene) -> Request:
    return Request(f"/api/voice/credentials/{s.credential()}")


@case
def get_platform_credential(s: Scene) -> Request:
    return Request(f"/api/voice/credentials/{s.credential(platform=True)}")


@case
def delete_org_credential(s: Scene) -> Request:
    return Request(f"/api/voice/credentials/{s.credential()}")


@case
def delete_platform_credential(s: Scene) -> Request:
    return Request(f"/api/voice/credentials/{s.credential(platform=True)}")


@case
def validate_org_credential(s: Scene) -> Request:
    return Request(f"/api/voice/credentials/{s.credential()}/validate")


@case
def validate_platform_credential(s: Scene) -> Request:
    return Request(f"/api/voice/credentials/{s.credential(platform=True)}/validate")


# --- voice preview -------------------------------------------------------------------------------------


@case
def preview(s: Scene) -> Request:
    return Request(
        "/api/voice/preview", body={"orgId": str(s.org.id), "voice": {"provider": "piper"}, "text": "Hi."}
    )


# --- bot callbacks -------------------------------------------------------------------------------------


def _bot(s: Scene, action: str, status: str, body: Any = None) -> Request:
    session = s.session(status)
    sid = str(session["id"])
    return Request(f"/api/voice/bot/sessions/{sid}/{action}", body=body or {}, bot_session=sid)


@case
def bot_joined(s: Scene) -> Request:
    return _bot(s, "joined", "ready", {"participantId": "p-1"})


@case
def bot_heartbeat(s: Scene) -> Request:
    return _bot(s, "heartbeat", "ready", {"phase": "greeting"})


@case
def bot_completed(s: Scene) -> Request:
    return _bot(s, "completed", "active", {"reason": "completed", "segments": 2, "lastSeq": 2})


@case
def bot_failed(s: Scene) -> Request:
    return _bot(s, "failed", "ready", {"reason": "bot_error: authz"})


@case
def bot_heartbeat_other_session(s: Scene) -> Request:
    """The bot column presents the token of another session of the same org."""
    request = _bot(s, "heartbeat", "ready", {"phase": "greeting"})
    request.bot_session = str(s.session("ready")["id"])
    return request
