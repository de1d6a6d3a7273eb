"""``python -m voice_local`` as a real process: health, WebSocket, Ctrl-C, restart, clear start failures."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import websockets.sync.client as ws_client
from websockets.exceptions import InvalidStatus

from voice_local.testing import free_port

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[3]
START_TIMEOUT = 90.0
# Variables of the test process that would change what the stack does.
SCRUBBED = (
    "SUPABASE_JWT_SECRET",
    "DATABASE_URL",
    "AWS_ENDPOINT_URL",
    "DAILY_API_KEY",
    "DAILY_API_URL",
    "WEBSOCKET_API_ENDPOINT",
)


@dataclass
class StackProcess:
    proc: subprocess.Popen[bytes]
    data_dir: Path
    port: int
    aws_port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stack_json(self) -> dict[str, Any]:
        return json.loads((self.data_dir / "stack.json").read_text())

    def tokens(self) -> dict[str, Any]:
        return json.loads((self.data_dir / "dev-tokens.json").read_text())

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            pytest.fail(f"stack did not stop within {timeout}s:\n{self.output()[-3000:]}")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def launch(data_dir: Path, port: int, aws_port: int, log_name: str = "stack.log") -> StackProcess:
    log = data_dir.parent / f"{data_dir.name}-{log_name}"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "voice_local",
                "--port",
                str(port),
                "--aws-port",
                str(aws_port),
                "--data-dir",
                str(data_dir),
            ],
            cwd=REPO_ROOT,
            env=_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return StackProcess(proc, data_dir, port, aws_port, log)


def get(url: str, token: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def wait_ready(stack: StackProcess) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if stack.proc.poll() is not None:
            pytest.fail(f"stack exited with {stack.proc.returncode}:\n{stack.output()[-3000:]}")
        try:
            if stack.stack_json().get("pid") == stack.proc.pid:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    stack.stop(signal.SIGKILL)
    pytest.fail(f"stack not ready after {START_TIMEOUT}s:\n{stack.output()[-3000:]}")


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def postgres_running(data_dir: Path) -> bool:
    pid_file = data_dir / "pgdata" / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    """Our own temporary directory: pytest's basetemp rotation (keep the newest 3 runs) would delete a
    tmp_path under a long-running stack whenever other pytest sessions run on the machine."""
    with tempfile.TemporaryDirectory(prefix="voice-stack-test-") as path:
        yield Path(path)


@pytest.fixture(scope="module")
def data_dir(workdir: Path) -> Path:
    return workdir / "local"


@pytest.fixture(scope="module")
def first_run(data_dir: Path) -> Iterator[StackProcess]:
    stack = launch(data_dir, free_port(), free_port())
    try:
        wait_ready(stack)
        yield stack
    finally:
        if stack.proc.poll() is None:
            stack.stop()


def test_health_reports_every_dependency_ok(first_run):
    status, body = get(f"{first_run.base}/api/voice/health")
    assert status == 200, body
    data = body["data"]
    assert body["success"] is True
    assert data["module"] == "module-voice" and data["status"] == "healthy"
    assert data["checks"] == {"database": "ok", "dynamodb": "ok", "s3": "ok", "sqs": "ok"}
    text = json.dumps(body)
    assert "postgres" not in text and "host=" not in text  # no connection details leak


def test_files_and_banner(first_run):
    doc = first_run.stack_json()
    assert doc["restUrl"] == f"{first_run.base}/api/voice"
    assert doc["websocketUrl"] == f"ws://127.0.0.1:{first_run.port}/ws"
    assert doc["awsEndpoint"] == f"http://127.0.0.1:{first_run.aws_port}"
    assert doc["databaseUrl"].startswith("postgresql://")
    tokens = first_run.tokens()
    assert set(tokens["orgs"]) == {"acme", "globex"}
    assert set(tokens["users"]) >= {"acmeOwner", "acmeAdmin", "acmeMember", "globexMember", "platformAdmin"}
    for user in tokens["users"].values():
        assert user["id"] and user["token"]
    out = first_run.output()
    assert doc["restUrl"] in out and "dev-tokens.json" in out


def test_user_routes_need_the_token(first_run):
    status, body = get(f"{first_run.base}/api/voice/sessions")
    assert status == 401 and body["code"] == "UNAUTHORIZED"


def test_websocket_round_trip_with_dev_token(first_run):
    token = first_run.tokens()["users"]["acmeMember"]["token"]
    with pytest.raises(InvalidStatus):
        ws_client.connect(f"ws://127.0.0.1:{first_run.port}/ws", open_timeout=10)
    with ws_client.connect(f"ws://127.0.0.1:{first_run.port}/ws?token={token}", open_timeout=10) as ws:
        ws.send(json.dumps({"action": "ping"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "pong"


def test_second_instance_on_a_taken_port_exits_2(first_run, workdir):
    other = launch(workdir / "other", first_run.port, free_port(), "second.log")
    code = other.proc.wait(30)
    out = other.output()
    assert code == 2, out
    assert "already in use" in out and str(first_run.port) in out
    assert "Traceback" not in out
    assert len(out.strip().splitlines()) == 1, out


def test_postgres_failure_exits_2(workdir):
    data_dir = workdir / "broken"
    data_dir.mkdir()
    (data_dir / "pgdata").write_text("not a directory")
    broken = launch(data_dir, free_port(), free_port(), "broken.log")
    code = broken.proc.wait(60)
    out = broken.output()
    assert code == 2, out
    assert "PostgreSQL could not start" in out
    assert "Traceback" not in out


def test_sigint_stops_everything_and_restart_keeps_data(first_run, data_dir):
    marker = f"persist-{uuid.uuid4().hex[:8]}"
    old_token = first_run.tokens()["users"]["acmeOwner"]["token"]
    with psycopg.connect(first_run.stack_json()["databaseUrl"], autocommit=True) as conn:
        conn.execute(
            "insert into public.orgs (id, name, slug) values (%s, %s, %s)", (uuid.uuid4(), marker, marker)
        )

    assert first_run.stop(signal.SIGINT) == 0, first_run.output()[-3000:]
    assert "Traceback" not in first_run.output()
    assert port_is_free(first_run.port) and port_is_free(first_run.aws_port)
    assert not postgres_running(data_dir)
    assert not (data_dir / "stack.json").exists()

    # Same ports again: they really were released.
    second = launch(data_dir, first_run.port, first_run.aws_port, "restart.log")
    try:
        wait_ready(second)
        with psycopg.connect(second.stack_json()["databaseUrl"]) as conn:
            row = conn.execute("select name from public.orgs where slug = %s", (marker,)).fetchone()
        assert row == (marker,)
        # The JWT secret was kept: a token minted by the first run is still accepted.
        with ws_client.connect(f"ws://127.0.0.1:{second.port}/ws?token={old_token}", open_timeout=10) as ws:
            ws.send(json.dumps({"action": "ping"}))
            assert json.loads(ws.recv(timeout=10))["type"] == "pong"
        assert second.stop(signal.SIGTERM) == 0, second.output()[-3000:]
    finally:
        if second.proc.poll() is None:
            second.stop(signal.SIGKILL)
    assert not postgres_running(data_dir)
