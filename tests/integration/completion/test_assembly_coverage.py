"""The completion job on sessions it must leave alone (a branch of the critical assembly path)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from voice_common import completion


@pytest.mark.parametrize("status", ["pending", "ready", "active", "cancelled"])
def test_a_session_not_finished_is_not_assembled(
    status: str, make_org: Any, make_user: Any, make_voice_session: Any, admin_conn: Any
) -> None:
    org = make_org()
    user = make_user(org)
    session = make_voice_session(org, user, status)
    admin_conn.execute(
        "INSERT INTO public.voice_transcript_segments (session_id, seq, speaker, text, start_time, end_time) "
        "VALUES (%s, 0, 'bot', 'Hello', 0, 1)",
        (session["id"],),
    )

    outcome = completion.run_completion(session["id"])

    assert outcome == {"outcome": "not_final", "status": status}
    assert (
        admin_conn.execute(
            "SELECT count(*) AS n FROM public.voice_transcripts WHERE session_id = %s", (session["id"],)
        ).fetchone()["n"]
        == 0
    )


def test_a_session_that_is_gone(database_url: str) -> None:
    assert completion.run_completion(uuid.uuid4()) == {"outcome": "session_gone"}
