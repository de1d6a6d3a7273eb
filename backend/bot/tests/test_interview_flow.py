"""Frame-level interview tests: the real pipeline (Silero VAD processor, interview controller, pipecat's
TTSService base, bot speech tap) with stand-in STT/LLM/TTS and a scripted candidate; lifecycle calls and
transcript segments go to real servers on 127.0.0.1."""

from __future__ import annotations

import asyncio

from conftest import ApiServer, WsServer, payload_dict
from helpers import FAST, make_session, run_interview

from voice_bot.config import BotPayload
from voice_bot.fakes import CandidateScript
from voice_bot.interview import ANSWER_ONLY_INSTRUCTION

ANSWERS = [
    "I like building reliable systems.",
    "I designed a payments ledger.",
    "It handled a million events a day.",
    "With unit and integration tests.",
]


def payload(api: ApiServer, ws: WsServer, **overrides: object) -> BotPayload:
    return BotPayload.from_dict(payload_dict(api.url, ws.url, **overrides))


async def test_questions_in_order_with_llm_follow_up(api_server: ApiServer, ws_server: WsServer) -> None:
    run = await run_interview(payload(api_server, ws_server), CandidateScript(answers=list(ANSWERS)))

    assert (run.outcome.status, run.outcome.reason) == ("completed", "completed")
    controller = run.session.controller
    assert controller.questions_asked == ["q1", "q2", "q3"]
    spoken = [(s.speaker, s.text) for s in run.session.recorder.segments]
    assert spoken == [
        ("bot", "Hello! I'm Ada, welcome to your interview."),
        ("bot", "What drew you to backend engineering?"),
        ("candidate", ANSWERS[0]),
        ("bot", "Describe a system you designed?"),
        ("candidate", ANSWERS[1]),
        ("bot", "Interesting. Could you give me a concrete example of that?"),  # the LLM's follow-up
        ("candidate", ANSWERS[2]),
        ("bot", "How do you test your code?"),
        ("candidate", ANSWERS[3]),
        ("bot", "That was my last question. Thank you very much for your time today. Goodbye!"),
    ]
    # Exactly one LLM request: the follow-up for q2 (the only question with follow_up_enabled).
    requests = run.services.llm.requests
    assert len(requests) == 1
    messages = requests[0]
    assert messages[0]["role"] == "system"
    assert "You interview candidates for a backend engineer role." in messages[0]["content"]
    assert "30 days of paid vacation" in messages[0]["content"]  # knowledge grounding
    assert "Describe a system you designed?" in messages[-1]["content"]
    assert "follow-up" in messages[-1]["content"]
    # The conversation so far is in the request, in order.
    assert [m["content"] for m in messages[1:-1]][-2:] == ["Describe a system you designed?", ANSWERS[1]]


async def test_follow_ups_limited_by_max_follow_ups(api_server: ApiServer, ws_server: WsServer) -> None:
    p = payload(
        api_server,
        ws_server,
        interview={
            "max_follow_ups": 2,
            "questions": [{"id": "only", "text": "Tell me about yourself?", "follow_up_enabled": True}],
        },
    )
    run = await run_interview(p, CandidateScript(answers=["First.", "Second.", "Third.", "Unused."]))

    assert run.outcome.reason == "completed"
    assert run.session.controller.follow_ups_asked == 2
    candidate = [s.text for s in run.session.recorder.segments if s.speaker == "candidate"]
    assert candidate == ["First.", "Second.", "Third."]
    assert run.session.recorder.segments[-1].text.endswith("Goodbye!")


async def test_candidate_question_answered_from_knowledge(api_server: ApiServer, ws_server: WsServer) -> None:
    answers = ["How many vacation days do you offer?", "Payments.", "More detail.", "Pytest."]
    run = await run_interview(payload(api_server, ws_server), CandidateScript(answers=answers))

    requests = run.services.llm.requests
    assert requests[0][-1]["content"] == ANSWER_ONLY_INSTRUCTION
    assert "30 days of paid vacation" in requests[0][0]["content"]
    bot = [s.text for s in run.session.recorder.segments if s.speaker == "bot"]
    # The answer comes first, then the interview moves on to the next configured question.
    index = bot.index("Good question. The team will share those details with you.")
    assert bot[index + 1] == "Describe a system you designed?"
    assert run.session.controller.questions_asked == ["q1", "q2", "q3"]


async def test_time_limit_wraps_up_politely(api_server: ApiServer, ws_server: WsServer) -> None:
    # 0.01 minutes = 0.6 s; the candidate answers slowly, so the interview cannot get through q3.
    p = payload(api_server, ws_server, interview={"max_duration_minutes": 0.01})
    script = CandidateScript(answers=list(ANSWERS), answer_delay=0.4)
    run = await run_interview(p, script)

    assert (run.outcome.status, run.outcome.reason) == ("completed", "time_limit")
    segments = run.session.recorder.segments
    assert segments[-1].speaker == "bot"
    assert segments[-1].text.startswith("We have reached the end of our scheduled time")
    assert "q3" not in run.session.controller.questions_asked
    completed = api_server.calls_to("completed")
    assert len(completed) == 1 and completed[0].body["reason"] == "time_limit"


async def test_time_limit_waits_for_the_candidate_to_finish(
    api_server: ApiServer, ws_server: WsServer
) -> None:
    p = payload(api_server, ws_server, interview={"max_duration_minutes": 0.005})  # 0.3 s
    session, made, _services = make_session(p, CandidateScript(answers=[]))
    runner = asyncio.get_running_loop().create_task(session.run())
    await asyncio.wait_for(session.candidate_joined.wait(), 5)
    transport = made[0]
    # The candidate starts talking before the limit and is still talking when it passes.
    from pipecat.frames.frames import VADUserStartedSpeakingFrame, VADUserStoppedSpeakingFrame

    await asyncio.sleep(0.1)
    await transport.input().push_frame(VADUserStartedSpeakingFrame())
    await asyncio.sleep(0.5)
    assert not runner.done()
    from voice_bot.fakes import CandidateSpeechFrame

    await transport.input().push_frame(CandidateSpeechFrame(text="and that is my answer."))
    await transport.input().push_frame(VADUserStoppedSpeakingFrame())
    outcome = await asyncio.wait_for(runner, 10)

    assert outcome.reason == "time_limit"
    last_two = [(s.speaker, s.text) for s in session.recorder.segments[-2:]]
    assert last_two[0] == ("candidate", "and that is my answer.")
    assert last_two[1][0] == "bot" and "end of our scheduled time" in last_two[1][1]


async def test_candidate_leaving_ends_the_interview(api_server: ApiServer, ws_server: WsServer) -> None:
    script = CandidateScript(answers=list(ANSWERS), leave_after_answers=1)
    run = await run_interview(payload(api_server, ws_server), script)

    assert (run.outcome.status, run.outcome.reason) == ("completed", "candidate_left")
    bot = [s.text for s in run.session.recorder.segments if s.speaker == "bot"]
    assert not any("Goodbye" in text for text in bot)  # nobody left to say goodbye to
    assert run.session.controller.questions_asked == ["q1", "q2"]
    completed = api_server.calls_to("completed")
    assert completed[0].body["reason"] == "candidate_left"
    assert completed[0].body["questionsAsked"] == 2


async def test_candidate_never_joins(api_server: ApiServer, ws_server: WsServer) -> None:
    settings = FAST.__class__(**{**FAST.__dict__, "no_show_timeout": 0.5})
    run = await run_interview(
        payload(api_server, ws_server), CandidateScript(join_after=None), settings=settings
    )

    assert (run.outcome.status, run.outcome.reason) == ("failed", "candidate_no_show")
    assert run.session.recorder.segments == []
    assert api_server.calls_to("joined") == []
    failed = api_server.calls_to("failed")
    assert [c.body["reason"] for c in failed] == ["candidate_no_show"]


async def test_segments_numbered_timed_and_published(api_server: ApiServer, ws_server: WsServer) -> None:
    run = await run_interview(
        payload(api_server, ws_server), CandidateScript(answers=list(ANSWERS), confidence=0.87)
    )
    segments = run.session.recorder.segments

    assert [s.seq for s in segments] == list(range(1, 11))
    starts = [s.start_time for s in segments]
    assert starts == sorted(starts)
    assert all(0.0 <= s.start_time <= s.end_time < 30.0 for s in segments)
    assert {s.confidence for s in segments if s.speaker == "candidate"} == {0.87}
    assert {s.confidence for s in segments if s.speaker == "bot"} == {1.0}
    # Every segment reached the server once, in seq order, in the contract's shape, and was acked.
    assert run.outcome.transcript_flushed
    assert ws_server.seqs() == list(range(1, 11))
    first = ws_server.received[0]
    assert first["action"] == "transcript" and first["sessionId"] == run.session.payload.session_id
    assert set(first["segment"]) == {
        "seq",
        "speaker",
        "text",
        "startTime",
        "endTime",
        "confidence",
        "isFinal",
    }
    assert [m["segment"]["text"] for m in ws_server.received] == [s.text for s in segments]
    completed = api_server.calls_to("completed")[0].body
    assert completed["segments"] == 10 and completed["lastSeq"] == 10 and completed["transcriptFlushed"]


async def test_lifecycle_calls_in_order_with_bot_token(api_server: ApiServer, ws_server: WsServer) -> None:
    settings = FAST.__class__(**{**FAST.__dict__, "heartbeat_interval": 0.1})
    script = CandidateScript(answers=list(ANSWERS), answer_delay=0.15)
    run = await run_interview(payload(api_server, ws_server), script, settings=settings)

    actions = api_server.actions()
    assert actions[0] == "heartbeat"  # the pickup signal, before anything else
    assert actions.count("joined") == 1 and actions.count("completed") == 1
    assert actions[-1] == "completed"
    assert actions.index("joined") < actions.index("completed")
    assert actions.count("heartbeat") >= 3  # kept beating during the interview
    token = run.session.payload.bot_token
    assert {c.headers["Authorization"] for c in api_server.calls} == {f"Bearer {token}"}
    assert all(
        c.path.startswith(f"/api/voice/bot/sessions/{run.session.payload.session_id}/")
        for c in api_server.calls
    )
    assert "failed" not in actions


async def test_first_heartbeat_rejected_means_no_interview(
    api_server: ApiServer, ws_server: WsServer
) -> None:
    api_server.script["heartbeat"] = [409]  # e.g. the session was cancelled, or another bot has it
    session, made, _services = make_session(payload(api_server, ws_server), CandidateScript(answers=["x"]))
    outcome = await session.run()

    assert (outcome.status, outcome.reason) == ("rejected", "http_409")
    assert made == []  # never joined the room
    assert api_server.actions() == ["heartbeat"]
    assert ws_server.connections == 0


async def test_heartbeat_409_mid_interview_stops_it_without_reporting(
    api_server: ApiServer, ws_server: WsServer
) -> None:
    """A later heartbeat answered 409 (the session was ended, or another dispatch superseded this bot):
    the interview stops at once, nothing is reported, no more heartbeats."""
    settings = FAST.__class__(**{**FAST.__dict__, "heartbeat_interval": 0.1})
    script = CandidateScript(answers=list(ANSWERS), answer_delay=1.5)  # the full interview takes > 6 s
    session, _made, _services = make_session(payload(api_server, ws_server), script, settings=settings)
    loop = asyncio.get_running_loop()
    run = loop.create_task(session.run())
    await asyncio.wait_for(session.candidate_joined.wait(), 10)
    api_server.script["heartbeat"] = [409]
    refused_at = loop.time()
    outcome = await asyncio.wait_for(run, 10)
    elapsed = loop.time() - refused_at

    assert (outcome.status, outcome.reason) == ("rejected", "http_409")
    assert elapsed < 1.0, elapsed  # left at the next beat, not after the interview
    assert session.controller.questions_asked == ["q1"]
    actions = api_server.actions()
    assert "completed" not in actions and "failed" not in actions
    beats = len(api_server.calls_to("heartbeat"))
    await asyncio.sleep(0.3)  # three intervals
    assert len(api_server.calls_to("heartbeat")) == beats  # the 409 was the last beat


async def test_heartbeat_410_before_the_candidate_joins_stops_waiting(
    api_server: ApiServer, ws_server: WsServer
) -> None:
    settings = FAST.__class__(**{**FAST.__dict__, "heartbeat_interval": 0.1, "no_show_timeout": 30.0})
    api_server.script["heartbeat"] = [200, 200, 410]  # the claim, one beat, then the session is gone
    session, made, _services = make_session(
        payload(api_server, ws_server), CandidateScript(join_after=None), settings=settings
    )
    outcome = await asyncio.wait_for(session.run(), 10)  # without the 410 it would wait 30 s for a no-show

    assert (outcome.status, outcome.reason) == ("rejected", "http_410")
    assert made and not made[0].joined
    assert api_server.actions() == ["heartbeat"] * 3
