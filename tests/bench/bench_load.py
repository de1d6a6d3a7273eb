"""Load: concurrent users creating, listing and reading sessions and configurations on the local stack.

``make bench`` starts the stack as its own process (``python -m voice_local`` on free ports in a temporary
directory, so the load client does not share its interpreter) and runs ``BENCH_LOAD_USERS`` (default 50)
asyncio users with aiohttp for ``BENCH_LOAD_SECONDS`` (default 60; ``make bench LOAD_SECONDS=30``). Each
user loops over a weighted mix: create a session (and read it back), list sessions, read a session it
created, create a configuration (admins), list configurations, read a configuration, using the seeded
acme users' tokens. Afterwards every acknowledged write (a 201 with an id) is looked up again.

Pass criteria: zero errors (any status other than the expected one, or a transport error) and every
acknowledged write found afterwards. ``run_load()`` is also the smoke test's engine
(tests/contract/test_load_smoke.py: 5 users for 5 s against the contract stack).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
USERS = int(os.environ.get("BENCH_LOAD_USERS", "50"))
SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", os.environ.get("LOAD_SECONDS", "60")))
# (action, weight): reads dominate, as in the web app.
MIX = (
    ("create_session", 15),
    ("list_sessions", 25),
    ("get_session", 20),
    ("create_config", 5),
    ("list_configs", 15),
    ("get_config", 20),
)
CONFIG_JSON = {
    "botName": "Load Interviewer",
    "systemPrompt": "You interview candidates.",
    "voice": {"provider": "cartesia", "voiceId": "sonic-english"},
    "transcription": {"provider": "deepgram", "model": "nova-2"},
    "llm": {"provider": "openai", "model": "gpt-4o-mini"},
    "interview": {"questions": [{"id": "q1", "text": "Tell me about yourself."}]},
}


@dataclass
class LoadTarget:
    rest_url: str  # http://127.0.0.1:<port>/api/voice
    org_id: str
    config_id: str  # an active config of the org, for new sessions
    member_tokens: list[str]  # may create sessions
    admin_tokens: list[str]  # may also create configurations


@dataclass
class LoadResult:
    seconds: float
    users: int
    latencies: dict[str, list[float]] = field(default_factory=dict)  # action -> ms
    errors: list[str] = field(default_factory=list)
    sessions_written: list[str] = field(default_factory=list)
    configs_written: list[str] = field(default_factory=list)
    missing_after: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    @property
    def all_latencies(self) -> list[float]:
        return [x for v in self.latencies.values() for x in v]

    def pct(self, p: float, action: str | None = None) -> float:
        values = sorted(self.latencies.get(action, []) if action else self.all_latencies)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))]

    def summary(self) -> dict[str, Any]:
        return {
            "users": self.users,
            "seconds": round(self.seconds, 1),
            "requests": self.requests,
            "rps": round(self.requests / self.seconds, 1) if self.seconds else 0,
            "p50_ms": round(self.pct(50), 2),
            "p95_ms": round(self.pct(95), 2),
            "p99_ms": round(self.pct(99), 2),
            "errors": len(self.errors),
            "writes_acknowledged": len(self.sessions_written) + len(self.configs_written),
            "writes_missing": len(self.missing_after),
            "by_action": {
                a: {"n": len(v), "p50_ms": round(statistics.median(v), 2)}
                for a, v in self.latencies.items()
                if v
            },
        }


async def _user(
    n: int, target: LoadTarget, deadline: float, result: LoadResult, session: Any, rng: random.Random
) -> None:
    is_admin = n % 5 == 0  # one user in five acts as an org admin
    tokens = target.admin_tokens if is_admin else target.member_tokens
    headers = {"Authorization": f"Bearer {tokens[n % len(tokens)]}", "Content-Type": "application/json"}
    mine: list[str] = []
    configs: list[str] = [target.config_id]
    actions, weights = zip(*MIX, strict=True)
    while time.monotonic() < deadline:
        action = rng.choices(actions, weights)[0]
        if action == "create_config" and not is_admin:
            action = "list_configs"
        if action == "get_session" and not mine:
            action = "create_session"
        method, path, body, expected = "GET", "", None, 200
        if action == "create_session":
            method, path, expected = "POST", "/sessions", 201
            body = {
                "orgId": target.org_id,
                "interviewType": "technical",
                "configId": target.config_id,
                "candidateName": f"Load {n}",
                "candidateEmail": f"load{n}@example.test",
            }
        elif action == "list_sessions":
            path = f"/sessions?orgId={target.org_id}&limit=20"
        elif action == "get_session":
            path = f"/sessions/{rng.choice(mine)}"
        elif action == "create_config":
            method, path, expected = "POST", "/configs", 201
            body = {
                "orgId": target.org_id,
                "name": f"Load {uuid.uuid4().hex[:12]}",
                "interviewType": "technical",
                "configJson": CONFIG_JSON,
            }
        elif action == "list_configs":
            path = f"/configs?orgId={target.org_id}&limit=20"
        else:  # get_config
            path = f"/configs/{rng.choice(configs)}"
        started = time.perf_counter()
        try:
            async with session.request(
                method, target.rest_url + path, headers=headers, data=json.dumps(body) if body else None
            ) as response:
                payload = await response.json(content_type=None)
                status = response.status
        except Exception as exc:  # a transport error is an error of the run, not of the test code
            result.errors.append(f"{action}: {type(exc).__name__}: {exc}")
            continue
        result.latencies.setdefault(action, []).append((time.perf_counter() - started) * 1000)
        if status != expected or not isinstance(payload, dict) or payload.get("success") is not True:
            result.errors.append(f"{action} {method} {path}: {status} {str(payload)[:200]}")
            continue
        if action == "create_session":
            mine.append(payload["data"]["id"])
            result.sessions_written.append(payload["data"]["id"])
        elif action == "create_config":
            configs.append(payload["data"]["id"])
            result.configs_written.append(payload["data"]["id"])


async def _verify(target: LoadTarget, result: LoadResult, session: Any) -> None:
    """Every acknowledged write is still there (read back by id, as its org's admin)."""
    headers = {"Authorization": f"Bearer {target.admin_tokens[0]}"}
    semaphore = asyncio.Semaphore(16)

    async def check(kind: str, rid: str) -> None:
        async with semaphore, session.get(f"{target.rest_url}/{kind}/{rid}", headers=headers) as response:
            if response.status != 200:
                result.missing_after.append(f"{kind}/{rid}: {response.status}")

    await asyncio.gather(
        *(check("sessions", s) for s in result.sessions_written),
        *(check("configs", c) for c in result.configs_written),
    )


async def run_load_async(target: LoadTarget, users: int, seconds: float, seed: int = 7) -> LoadResult:
    import aiohttp

    result = LoadResult(seconds=seconds, users=users)
    connector = aiohttp.TCPConnector(limit=users, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(
            *(_user(n, target, deadline, result, session, random.Random(seed + n)) for n in range(users))
        )
        result.seconds = time.monotonic() - started
        await _verify(target, result, session)
    return result


def run_load(target: LoadTarget, users: int, seconds: float) -> LoadResult:
    """Run the load from synchronous code (its own event loop)."""
    return asyncio.run(run_load_async(target, users, seconds))


def target_from_tokens(rest_url: str, tokens: dict[str, Any], config_id: str) -> LoadTarget:
    users = tokens["users"]
    return LoadTarget(
        rest_url=rest_url,
        org_id=tokens["orgs"]["acme"],
        config_id=config_id,
        member_tokens=[users["acmeMember"]["token"]],
        admin_tokens=[users["acmeAdmin"]["token"], users["acmeOwner"]["token"]],
    )


# --- make bench: the stack in its own process ---------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stack_process(data_dir: Path) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    port, aws_port = _free_port(), _free_port()
    env = {**os.environ, "POWERTOOLS_LOG_LEVEL": "ERROR"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "voice_local", "--port", str(port), "--aws-port", str(aws_port),
         "--data-dir", str(data_dir), "--log-level", "WARNING"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 180
    stack_file = data_dir / "stack.json"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the local stack exited with {proc.returncode}")
        if stack_file.exists():
            stack = json.loads(stack_file.read_text())
            tokens = json.loads((data_dir / "dev-tokens.json").read_text())
            return proc, {"stack": stack, "tokens": tokens}
        time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("the local stack did not start within 180 s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _config_id(rest_url: str, tokens: dict[str, Any]) -> str:
    import urllib.request

    request = urllib.request.Request(
        f"{rest_url}/configs?orgId={tokens['orgs']['acme']}&isActive=true&limit=1",
        headers={"Authorization": f"Bearer {tokens['users']['acmeAdmin']['token']}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(json.loads(response.read())["data"][0]["id"])


def run() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        proc, info = _stack_process(Path(tmp))
        try:
            rest_url = info["stack"]["restUrl"]
            target = target_from_tokens(rest_url, info["tokens"], _config_id(rest_url, info["tokens"]))
            result = run_load(target, USERS, SECONDS)
        finally:
            _stop(proc)
    s = result.summary()
    print(f"   {json.dumps(s)}", flush=True)
    for error in result.errors[:10]:
        print(f"   error: {error}", flush=True)
    area = f"load ({s['users']} users, {s['seconds']:.0f} s)"
    return [
        {
            "area": area,
            "metric": "requests",
            "value": s["requests"],
            "unit": "req",
            "target": None,
            "ok": None,
        },
        {
            "area": area,
            "metric": "throughput",
            "value": s["rps"],
            "unit": "req/s",
            "target": None,
            "ok": None,
        },
        {
            "area": area,
            "metric": "latency p50",
            "value": s["p50_ms"],
            "unit": "ms",
            "target": None,
            "ok": None,
        },
        {
            "area": area,
            "metric": "latency p95",
            "value": s["p95_ms"],
            "unit": "ms",
            "target": None,
            "ok": None,
        },
        {
            "area": area,
            "metric": "latency p99",
            "value": s["p99_ms"],
            "unit": "ms",
            "target": None,
            "ok": None,
        },
        {
            "area": area,
            "metric": "errors",
            "value": s["errors"],
            "unit": "",
            "target": "0",
            "ok": s["errors"] == 0,
        },
        {
            "area": area,
            "metric": "acknowledged writes found afterwards",
            "value": s["writes_acknowledged"] - s["writes_missing"],
            "unit": f"of {s['writes_acknowledged']}",
            "target": "all",
            "ok": s["writes_missing"] == 0 and s["writes_acknowledged"] > 0,
            "detail": s,
        },
    ]
