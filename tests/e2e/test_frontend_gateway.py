"""The local gateway serves the built web app (frontend/dist) and the dev harness's configuration.

The browser end-to-end test is frontend/e2e/voice.e2e.mjs (`make test-frontend`); this checks the
gateway's part on its own: static files with an SPA fallback, no escape from the dist folder, the API's
own 404/405 answers untouched, and /dev/harness.json only for a loopback Host.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from voice_local.gateway import Gateway
from voice_local.module_spec import load_module_spec
from voice_local.testing import BackgroundLoop


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def get(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> Reply:
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Reply(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, dict(error.headers), error.read())


def not_invoked(name: str, event: dict[str, Any]) -> Any:
    raise AssertionError(f"no Lambda should run ({name})")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>harness</title>", encoding="utf-8")
    (dist / "assets" / "app-1234.js").write_text("console.log(1)", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("outside dist", encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    (data / "dev-tokens.json").write_text(
        json.dumps({"orgs": {"acme": "org-1"}, "users": {"acmeAdmin": {"id": "u1", "token": "jwt"}}}),
        encoding="utf-8",
    )
    gateway = Gateway(load_module_spec(), invoker=not_invoked, frontend_dir=dist, dev_files_dir=data)
    loop = BackgroundLoop()
    loop.run(gateway.start(0))
    try:
        yield gateway.base_url, dist
    finally:
        loop.run(gateway.stop())
        loop.close()


def test_serves_files_and_falls_back_to_index_for_app_routes(site: tuple[str, Path]) -> None:
    base, _dist = site
    index = get(f"{base}/")
    assert index.status == 200 and b"harness" in index.body
    assert index.headers["Content-Type"].startswith("text/html")
    for route in ("/voice", "/voice/sessions/4ea95d37-937e-4e70-89d8-47bed6326f82", "/admin/org/voice"):
        reply = get(base + route)
        assert reply.status == 200 and b"harness" in reply.body, route
    asset = get(f"{base}/assets/app-1234.js")
    assert asset.status == 200 and asset.body == b"console.log(1)"
    assert "immutable" in asset.headers["Cache-Control"]
    assert get(f"{base}/assets/missing.js").status == 404  # a missing file is not an app route
    assert get(f"{base}/voice", method="HEAD").status == 200


def test_never_serves_outside_dist(site: tuple[str, Path]) -> None:
    base, _dist = site
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt"):
        reply = get(base + path)
        assert b"outside dist" not in reply.body, path


def test_the_api_keeps_its_own_answers(site: tuple[str, Path]) -> None:
    base, _dist = site
    missing = get(f"{base}/api/voice/nope")
    assert missing.status == 404 and missing.json["code"] == "NOT_FOUND"
    wrong_method = get(f"{base}/api/voice/sessions", method="PATCH")
    assert wrong_method.status == 405
    unauthorized = get(f"{base}/api/voice/sessions")
    assert unauthorized.status == 401


def test_harness_config_for_loopback_hosts_only(site: tuple[str, Path]) -> None:
    base, _dist = site
    port = base.rsplit(":", 1)[1]
    config = get(f"{base}/dev/harness.json")
    assert config.status == 200
    assert config.json["restUrl"] == f"{base}/api/voice"
    assert config.json["websocketUrl"] == f"ws://127.0.0.1:{port}/ws"
    assert config.json["users"]["acmeAdmin"]["token"] == "jwt"
    assert "Access-Control-Allow-Origin" not in config.headers  # other origins cannot read it
    assert get(f"{base}/dev/harness.json", headers={"Host": f"localhost:{port}"}).status == 200
    rebound = get(f"{base}/dev/harness.json", headers={"Host": f"attacker.example:{port}"})
    assert rebound.status == 403 and b"jwt" not in rebound.body


def test_without_a_build_nothing_is_served(tmp_path: Path) -> None:
    gateway = Gateway(load_module_spec(), invoker=not_invoked, frontend_dir=tmp_path / "no-dist")
    loop = BackgroundLoop()
    loop.run(gateway.start(0))
    try:
        reply = get(f"{gateway.base_url}/voice")
        assert reply.status == 404 and reply.json["code"] == "NOT_FOUND"
    finally:
        loop.run(gateway.stop())
        loop.close()
