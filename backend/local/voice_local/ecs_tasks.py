"""What the local bot fleets (sim_bot, real_bot) read of the ECS tasks the module starts on moto."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

log = logging.getLogger("voice_local.ecs")


def describe_tasks(ecs: Any, cluster: str | None, arns: list[str]) -> list[dict[str, Any]]:
    """The tasks ``arns`` of ``cluster``; empty (and logged) when ECS could not be asked."""
    if not arns:
        return []
    try:
        return list(ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"])
    except Exception as exc:
        log.warning("describe_tasks failed: %s", type(exc).__name__)
        return []


def task_environment(task: Mapping[str, Any]) -> dict[str, str]:
    """The environment variables of a task's container overrides (BOT_PAYLOAD, SESSION_ID...)."""
    env: dict[str, str] = {}
    for override in (task.get("overrides") or {}).get("containerOverrides") or []:
        for item in override.get("environment") or []:
            if item.get("name"):
                env[str(item["name"])] = str(item.get("value") or "")
    return env
