"""ECS task scale-in protection for a busy standby bot.

The standby pool's desired count drops at the end of business hours; without protection ECS may stop a
task that is in the middle of an interview. The ECS agent endpoint (``$ECS_AGENT_URI``, set by ECS in
every task) toggles protection for the task itself; the task role needs ``ecs:UpdateTaskProtection``.
Outside ECS (tests, local runs) there is no agent and protection is a no-op.
"""

from __future__ import annotations

import logging
import os

import aiohttp

log = logging.getLogger("voice_bot.protection")


class TaskProtection:
    def __init__(self, agent_uri: str | None = None, expires_minutes: int | None = None) -> None:
        self.agent_uri = (agent_uri if agent_uri is not None else os.environ.get("ECS_AGENT_URI", "")).rstrip(
            "/"
        )
        # Longer than any interview (max_duration_minutes is at most a few hours); ECS caps it at 48 h.
        self.expires_minutes = expires_minutes or int(os.environ.get("BOT_PROTECTION_MINUTES", "240"))
        self.enabled = False

    async def set(self, enabled: bool) -> bool:
        """Turn protection on or off; never raises (an interview must not fail for this)."""
        if not self.agent_uri:
            return False
        body: dict[str, object] = {"ProtectionEnabled": enabled}
        if enabled:
            body["ExpiresInMinutes"] = self.expires_minutes
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http,
                http.put(f"{self.agent_uri}/task-protection/v1/state", json=body) as resp,
            ):
                if resp.status >= 300:
                    log.warning("task protection %s refused: HTTP %s", enabled, resp.status)
                    return False
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("task protection %s failed: %s", enabled, exc)
            return False
        self.enabled = enabled
        return True
