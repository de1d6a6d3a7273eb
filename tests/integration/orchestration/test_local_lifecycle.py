"""The whole interview on the local stack (``make dev``): HTTP through the gateway, the Daily stand-in,
moto, the event sources and a simulated bot that heartbeats, joins, publishes its transcript over the
WebSocket and completes. Both dispatch paths; the pool path also proves the pickup reached a bot."""

from __future__ import annotations

import json
import time

import pytest
import urllib3

from tests.integration.orchestration.conftest import BUSINESS_HOURS, OFF_HOURS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(database_url, tmp_path_factory):
    from voice_common.settings import get_settings
    from voice_local.testing import running_stack

    data_dir = tmp_path_factory.mktemp("stack")
    with pytest.MonkeyPatch.context() as mp:
        # The pool case proves a standby bot picked the request up: on a machine loaded by other suites the
        # default 20 s pickup timeout could fall back to ECS first (correct behaviour, but not this test's).
        mp.setenv("VOICE_POOL_PICKUP_TIMEOUT_SECONDS", "120")
        get_settings.cache_clear()
        with running_stack(data_dir=data_dir, database_url=database_url, simulate=True) as s:
            fleet = s.background[-1]
            fleet.settings.heartbeat_interval = 0.5
            fleet.settings.segment_interval = 0.05
            fleet.settings.join_delay = 0.05
            fleet.settings.ack_timeout = 10.0  # generous: the machine is shared with other suites
            yield s
    get_settings.cache_clear()


def api(stack, method, path, token, body=None):
    resp = urllib3.request(
        method,
        stack.rest_url + path,
        body=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=30,
    )
    return resp.status, json.loads(resp.data or b"null")


@pytest.mark.parametrize(("moment", "mode"), [(OFF_HOURS, "task"), (BUSINESS_HOURS, "pool")])
def test_a_started_session_runs_a_whole_interview(stack, monkeypatch, moment, mode):
    from voice_common import dispatch

    monkeypatch.setattr(dispatch, "utcnow", lambda: moment)
    token = stack.token("acmeMember")
    org = stack.seeded["orgs"]["acme"]["id"]
    config = stack.seeded["configs"]["acme_sample"]["id"]
    status, created = api(
        stack, "POST", "/sessions", token, {"orgId": org, "interviewType": "technical", "configId": config}
    )
    assert status == 201, created
    sid = created["data"]["id"]

    status, started = api(stack, "POST", f"/sessions/{sid}/start", token)

    assert status == 200, started
    assert started["data"]["dispatchMode"] == mode
    deadline = time.monotonic() + 60
    session = None
    while time.monotonic() < deadline:
        _, got = api(stack, "GET", f"/sessions/{sid}", token)
        session = got["data"]
        if session["status"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.2)
    assert session is not None and session["status"] == "completed", session
    fleet = stack.background[-1]
    (interview,) = [i for i in fleet.interviews if i.session_id == sid]
    # The session is completed once the callback's transaction commits; the bot records its outcome when
    # the response arrives, after the callback's post-commit work (notifications, teardown).
    deadline = time.monotonic() + 10
    while interview.outcome == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (interview.mode, interview.outcome) == (mode, "completed"), interview
    assert interview.acked == 7, interview  # every scripted segment was stored and acknowledged
