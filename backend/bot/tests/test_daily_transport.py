"""The production transport, offline: the session builds its pipeline on pipecat's real DailyTransport
(daily-python is installed; constructing the transport does not connect, only running the pipeline would)."""

from __future__ import annotations

from conftest import ApiServer, WsServer, payload_dict
from helpers import FAST
from pipecat.transports.daily.transport import DailyTransport

from voice_bot.config import BotPayload
from voice_bot.fakes import fake_services
from voice_bot.session import AUDIO_IN_SAMPLE_RATE, AUDIO_OUT_SAMPLE_RATE, InterviewSession, daily_transport


def payload(api: ApiServer, ws: WsServer, **fields: str) -> BotPayload:
    body = payload_dict(api.url, ws.url, bot_name="Grace")
    body.update(fields)
    return BotPayload.from_dict(body)


async def test_session_builds_its_pipeline_on_the_daily_transport(
    api_server: ApiServer, ws_server: WsServer
) -> None:
    session = InterviewSession(payload(api_server, ws_server), settings=FAST)  # the default transport factory
    services = fake_services()
    session.build(services)

    transport = session.transport
    assert isinstance(transport, DailyTransport)
    assert transport.room_url == "https://example.daily.co/room-1"
    client = transport._client  # pipecat keeps the join arguments on its client; no public accessor
    assert client._token == "daily-meeting-token"
    assert client._bot_name == "Grace"
    params = transport._params
    assert params.audio_in_enabled and params.audio_out_enabled and not params.camera_out_enabled
    assert (params.audio_in_sample_rate, params.audio_out_sample_rate) == (
        AUDIO_IN_SAMPLE_RATE,
        AUDIO_OUT_SAMPLE_RATE,
    )
    # The pipeline runs from Daily's input, through the services, to Daily's output.
    processors = session.pipeline.processors
    names = [type(p).__name__ for p in processors]
    assert "DailyInputTransport" in names and "DailyOutputTransport" in names
    assert (
        names.index("DailyInputTransport")
        < names.index("InterviewController")
        < names.index("DailyOutputTransport")
    )
    assert services.tts in processors and services.stt in processors and services.llm in processors
    # The session listens to the events the Daily transport really fires (an unknown event name would only
    # log a warning in pipecat and the candidate's arrival would go unnoticed).
    for event in ("on_first_participant_joined", "on_participant_joined", "on_participant_left"):
        assert len(transport._event_handlers[event].handlers) == 1, event


def test_daily_transport_without_a_room_token_joins_as_guest(
    api_server: ApiServer, ws_server: WsServer
) -> None:
    transport = daily_transport(payload(api_server, ws_server, roomToken=""))
    assert isinstance(transport, DailyTransport)
    assert transport._client._token is None
