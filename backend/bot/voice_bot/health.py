"""Container health: the running bot touches a file from its event loop; the HEALTHCHECK command checks
that the file is fresh (a stuck loop or a dead process turns the container unhealthy)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from pathlib import Path

DEFAULT_HEALTH_FILE = "/tmp/voice-bot.health"  # noqa: S108 (per-container file, no secret in it)
TOUCH_INTERVAL_SECONDS = 10.0
MAX_AGE_SECONDS = 60.0


def health_file() -> Path:
    return Path(os.environ.get("BOT_HEALTH_FILE", DEFAULT_HEALTH_FILE))


class HealthBeacon:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or health_file()
        self._task: asyncio.Task[None] | None = None

    def touch(self) -> None:
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(str(time.time()), encoding="utf-8")

    def start(self, interval: float = TOUCH_INTERVAL_SECONDS) -> None:
        async def loop() -> None:
            while True:
                self.touch()
                await asyncio.sleep(interval)

        self._task = asyncio.get_running_loop().create_task(loop(), name="health-beacon")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(OSError):
            self.path.unlink()


def check(path: Path | None = None, max_age: float = MAX_AGE_SECONDS) -> bool:
    target = path or health_file()
    try:
        age = time.time() - target.stat().st_mtime
    except OSError:
        return False
    return age <= max_age
