"""Running one interview end to end with the stand-in room and providers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from voice_bot.config import BotPayload
from voice_bot.fakes import CandidateScript, FakeTransport, ServiceBundle, fake_room, fake_services
from voice_bot.lifecycle import LifecycleClient
from voice_bot.session import InterviewOutcome, InterviewSession, SessionSettings
from voice_bot.transcript import TranscriptPublisher

FAST = SessionSettings(
    heartbeat_interval=0.2, no_show_timeout=5.0, flush_timeout=5.0, turn_end_delay=0.05, vad_stop_secs=0.2
)


@dataclass
class Run:
    outcome: InterviewOutcome
    session: InterviewSession
    transport: FakeTransport
    services: ServiceBundle


def make_session(
    payload: BotPayload,
    script: CandidateScript,
    *,
    settings: SessionSettings = FAST,
    llm_reply: Any = None,
) -> tuple[InterviewSession, list[FakeTransport], ServiceBundle]:
    factory, made = fake_room(script)
    services = fake_services(llm_reply) if llm_reply else fake_services()

    async def services_factory(_payload: BotPayload) -> ServiceBundle:
        return services

    session = InterviewSession(
        payload,
        transport_factory=factory,
        services_factory=services_factory,
        settings=settings,
        lifecycle=LifecycleClient(payload.api_base_url, payload.session_id, payload.bot_token, backoff=0.05),
        publisher=TranscriptPublisher(
            payload.websocket_url,
            payload.session_id,
            payload.bot_token,
            backoff_initial=0.05,
            ack_timeout=2.0,
        ),
    )
    return session, made, services


async def run_interview(payload: BotPayload, script: CandidateScript, **kwargs: Any) -> Run:
    session, made, services = make_session(payload, script, **kwargs)
    outcome = await session.run()
    return Run(outcome, session, made[0], services)
