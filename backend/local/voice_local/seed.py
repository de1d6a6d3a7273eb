"""Demo data for the local stack: two orgs, their people, a workspace, a knowledge base and a config.

Idempotent (fixed ids, ``ON CONFLICT DO NOTHING``): seeding twice changes nothing, and rows edited while
using the stack are left as they are. ``seed(conninfo)`` returns the ids so the local stack can mint a JWT
per user (``.local/dev-tokens.json``). ``python -m voice_local.seed [--database-url URL]`` prints them.

Runs as the connecting role, which must be able to write auth.users and bypass RLS (the embedded server's
superuser); it is never pointed at a real Supabase project.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Sequence
from typing import Any, TypedDict

import psycopg
from psycopg.types.json import Jsonb


class OrgInfo(TypedDict):
    id: str
    name: str
    slug: str


class UserInfo(TypedDict):
    id: str
    email: str
    full_name: str
    org: str | None  # org key ("acme", "globex") or None
    org_role: str | None  # org_user | org_admin | org_owner
    sys_role: str  # sys_user | sys_admin


def _uuid(n: int) -> uuid.UUID:
    """Readable fixed ids: 00000000-0000-4000-8000-00000000000n."""
    return uuid.UUID(f"00000000-0000-4000-8000-{n:012d}")


ORGS: dict[str, OrgInfo] = {
    "acme": {"id": str(_uuid(1)), "name": "Acme Corporation", "slug": "acme"},
    "globex": {"id": str(_uuid(2)), "name": "Globex Inc.", "slug": "globex"},
}

# Keys are the role labels the local stack uses for its dev tokens.
USERS: dict[str, UserInfo] = {
    "acme_owner": {
        "id": str(_uuid(101)),
        "email": "owner@acme.example",
        "full_name": "Olivia Owner",
        "org": "acme",
        "org_role": "org_owner",
        "sys_role": "sys_user",
    },
    "acme_admin": {
        "id": str(_uuid(102)),
        "email": "admin@acme.example",
        "full_name": "Adam Admin",
        "org": "acme",
        "org_role": "org_admin",
        "sys_role": "sys_user",
    },
    "acme_member": {
        "id": str(_uuid(103)),
        "email": "member@acme.example",
        "full_name": "Mia Member",
        "org": "acme",
        "org_role": "org_user",
        "sys_role": "sys_user",
    },
    "globex_member": {
        "id": str(_uuid(201)),
        "email": "member@globex.example",
        "full_name": "Gus Globex",
        "org": "globex",
        "org_role": "org_user",
        "sys_role": "sys_user",
    },
    "platform_admin": {
        "id": str(_uuid(901)),
        "email": "admin@platform.example",
        "full_name": "Pat Platform",
        "org": None,
        "org_role": None,
        "sys_role": "sys_admin",
    },
}

WORKSPACES: dict[str, dict[str, str]] = {
    "acme": {"id": str(_uuid(301)), "name": "Engineering Hiring"},
    "globex": {"id": str(_uuid(302)), "name": "Sales Hiring"},
}

KNOWLEDGE_BASES: dict[str, dict[str, Any]] = {
    "acme": {
        "id": str(_uuid(401)),
        "name": "Acme Engineering Handbook",
        "description": "How Acme builds software; the bot may ground follow-up questions on it.",
        "doc": {
            "id": str(_uuid(451)),
            "title": "Engineering values",
            "content": (
                "Acme ships small, reviewed changes. Every service has an owner, a runbook and "
                "dashboards. We prefer boring technology, write tests first for bug fixes, and hold "
                "blameless postmortems."
            ),
        },
    },
    "globex": {
        "id": str(_uuid(402)),
        "name": "Globex Sales Playbook",
        "description": "Globex's sales process and product tiers.",
        "doc": {
            "id": str(_uuid(452)),
            "title": "Product tiers",
            "content": (
                "Globex sells three tiers: Starter, Growth and Enterprise. "
                "Enterprise includes SSO and an SLA."
            ),
        },
    },
}

SAMPLE_CONFIG_ID = str(_uuid(501))
SAMPLE_CONFIG: dict[str, Any] = {
    "name": "Backend Engineer Screen",
    "interview_type": "technical",
    "description": "30-minute technical screen for backend engineers: experience, system design, debugging.",
    "config_json": {
        "bot_name": "Acme Interview Assistant",
        "system_prompt": (
            "You are a friendly, professional interviewer for Acme's backend engineering team. Ask the "
            "questions in order, one at a time, and ask at most one follow-up when an answer is vague. "
            "Do not reveal scores or give hints. Keep each of your turns under 40 words."
        ),
        "initial_message": (
            "Hello! I'm the Acme interview assistant. This screen takes about 30 minutes and covers three "
            "questions. Are you ready to begin?"
        ),
        "voice": {"provider": "cartesia", "voice_id": "79a125e8-cd45-4c13-8a67-188112f4dd22", "speed": 1.0},
        "transcription": {"provider": "deepgram", "language": "en-US", "model": "nova-2"},
        "llm": {"provider": "openai", "model": "gpt-4o-mini", "temperature": 0.6, "max_tokens": 300},
        "interview": {
            "max_duration_minutes": 30,
            "questions": [
                {
                    "id": "q1",
                    "text": "Tell me about a backend service you designed or significantly changed. "
                    "What problem did it solve?",
                    "type": "open",
                    "follow_up_enabled": True,
                },
                {
                    "id": "q2",
                    "text": "How would you design a rate limiter for a public API used by thousands "
                    "of clients?",
                    "type": "system_design",
                    "follow_up_enabled": True,
                },
                {
                    "id": "q3",
                    "text": "A production endpoint's latency doubled after a deploy. Walk me through "
                    "how you would find the cause.",
                    "type": "problem_solving",
                    "follow_up_enabled": False,
                },
            ],
            "scoring_rubric": {
                "criteria": ["communication", "technical_depth", "problem_solving"],
                "weights": {"communication": 0.3, "technical_depth": 0.4, "problem_solving": 0.3},
                "descriptions": {
                    "communication": "Clear, structured answers; checks understanding.",
                    "technical_depth": "Correct, specific detail; knows trade-offs.",
                    "problem_solving": "Forms hypotheses, narrows down systematically, verifies.",
                },
            },
        },
    },
}


def seed(conninfo: str) -> dict[str, Any]:
    """Insert the demo data where missing; return the ids: ``orgs``, ``users`` (by role label),
    ``workspaces``, ``knowledge_bases`` and ``configs``."""
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        for org in ORGS.values():
            cur.execute(
                "INSERT INTO public.orgs (id, name, slug) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                (org["id"], org["name"], org["slug"]),
            )
        for user in USERS.values():
            cur.execute(
                "INSERT INTO auth.users (id, email) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (user["id"], user["email"]),
            )
            cur.execute(
                "INSERT INTO public.user_profiles (user_id, email, full_name, sys_role) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (user["id"], user["email"], user["full_name"], user["sys_role"]),
            )
            if user["org"] is not None:
                cur.execute(
                    "INSERT INTO public.org_members (org_id, user_id, org_role) VALUES (%s, %s, %s) "
                    "ON CONFLICT DO NOTHING",
                    (ORGS[user["org"]]["id"], user["id"], user["org_role"]),
                )
        for key, ws in WORKSPACES.items():
            cur.execute(
                "INSERT INTO public.workspaces (id, org_id, name) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                (ws["id"], ORGS[key]["id"], ws["name"]),
            )
        for key, kb in KNOWLEDGE_BASES.items():
            cur.execute(
                "INSERT INTO public.kb_bases (id, org_id, name, description) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                (kb["id"], ORGS[key]["id"], kb["name"], kb["description"]),
            )
            doc = kb["doc"]
            cur.execute(
                "INSERT INTO public.kb_docs (id, kb_id, title, content) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                (doc["id"], kb["id"], doc["title"], doc["content"]),
            )
        cur.execute(
            "INSERT INTO public.voice_configs "
            "(id, org_id, name, interview_type, description, config_json, is_active, created_by) "
            "VALUES (%s, %s, %s, %s, %s, %s, true, %s) ON CONFLICT DO NOTHING",
            (
                SAMPLE_CONFIG_ID,
                ORGS["acme"]["id"],
                SAMPLE_CONFIG["name"],
                SAMPLE_CONFIG["interview_type"],
                SAMPLE_CONFIG["description"],
                Jsonb(SAMPLE_CONFIG["config_json"]),
                USERS["acme_admin"]["id"],
            ),
        )
    return {
        "orgs": {key: dict(org) for key, org in ORGS.items()},
        "users": {
            key: {**user, "org_id": ORGS[user["org"]]["id"] if user["org"] else None}
            for key, user in USERS.items()
        },
        "workspaces": {
            key: {"id": ws["id"], "org": key, "name": ws["name"]} for key, ws in WORKSPACES.items()
        },
        "knowledge_bases": {
            key: {"id": kb["id"], "org": key, "name": kb["name"], "doc_id": kb["doc"]["id"]}
            for key, kb in KNOWLEDGE_BASES.items()
        },
        "configs": {"acme_sample": {"id": SAMPLE_CONFIG_ID, "org": "acme", "name": SAMPLE_CONFIG["name"]}},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m voice_local.seed", description="Seed the local demo data."
    )
    parser.add_argument("--database-url", help="default: $DATABASE_URL, else the embedded server")
    args = parser.parse_args(argv)

    from voice_local.pg import EmbeddedPostgresError, resolve_database_url

    try:
        print(json.dumps(seed(args.database_url or resolve_database_url()), indent=2))
    except (EmbeddedPostgresError, psycopg.Error) as exc:
        print(f"seed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
