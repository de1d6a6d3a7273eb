"""TranscriptPublisher against a real websockets server on 127.0.0.1: acks, drops, resends, buffering."""

from __future__ import annotations

import asyncio
import socket
import time

from conftest import BOT_TOKEN, SESSION_ID, WsServer

from voice_bot.transcript import Segment, TranscriptPublisher, TranscriptRecorder


def segment(seq: int) -> Segment:
    return Segment(seq, "candidate" if seq % 2 else "bot", f"utterance {seq}", seq * 1.0, seq + 0.5, 0.9)


def publisher(url: str, **kwargs: float) -> TranscriptPublisher:
    return TranscriptPublisher(url, SESSION_ID, BOT_TOKEN, backoff_initial=0.05, backoff_max=0.2, **kwargs)


async def test_connects_with_token_and_gets_every_segment_acked(ws_server: WsServer) -> None:
    pub = publisher(ws_server.url)
    pub.start()
    for seq in range(1, 6):
        pub.publish(segment(seq))
    assert await pub.flush(5.0)
    await pub.close()

    assert ws_server.tokens == [BOT_TOKEN]
    assert ws_server.seqs() == [1, 2, 3, 4, 5]
    assert pub.acked == [1, 2, 3, 4, 5] and pub.unacked == []
    message = ws_server.received[0]
    assert message == {
        "action": "transcript",
        "sessionId": SESSION_ID,
        "segment": {
            "seq": 1,
            "speaker": "candidate",
            "text": "utterance 1",
            "startTime": 1.0,
            "endTime": 1.5,
            "confidence": 0.9,
            "isFinal": True,
        },
    }


async def test_unacked_segments_resent_after_dropped_connection(ws_server: WsServer) -> None:
    ws_server.drop_after = 3  # the server drops the connection on the 3rd segment, before acking it
    pub = publisher(ws_server.url)
    pub.start()
    for seq in range(1, 7):
        pub.publish(segment(seq))
        await asyncio.sleep(0.01)
    assert await pub.flush(5.0)
    await pub.close()

    assert ws_server.connections == 2
    seqs = ws_server.seqs()
    assert seqs[:3] == [1, 2, 3]
    assert seqs[3] == 3  # first thing after the reconnect: the one that was never acked
    assert sorted(ws_server.persisted) == [1, 2, 3, 4, 5, 6]
    assert pub.unacked == []
    # Nothing acked was sent twice.
    assert seqs.count(1) == 1 and seqs.count(2) == 1


async def test_publish_never_blocks_and_buffers_until_the_server_is_up() -> None:
    with socket.socket() as probe:  # a free port with nothing listening yet
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"ws://127.0.0.1:{port}/ws"
    pub = publisher(url)
    pub.start()
    started = time.perf_counter()
    for seq in range(1, 201):
        pub.publish(segment(seq))
    elapsed = time.perf_counter() - started
    assert elapsed < 0.05  # queued, not sent
    assert not await pub.flush(0.3)  # nobody to ack
    assert pub.unacked == list(range(1, 201))

    # The server comes up on that port: everything buffered is delivered, in order.
    from websockets.asyncio.server import serve

    received: list[int] = []

    async def handler(ws):  # type: ignore[no-untyped-def]
        import json

        async for raw in ws:
            seq = json.loads(raw)["segment"]["seq"]
            received.append(seq)
            await ws.send(json.dumps({"type": "ack", "seq": seq}))

    async with serve(handler, "127.0.0.1", port):
        assert await pub.flush(5.0)
    await pub.close()
    assert received == list(range(1, 201))


async def test_segment_resent_when_no_ack_arrives(ws_server: WsServer) -> None:
    ws_server.ack = False
    pub = publisher(ws_server.url, ack_timeout=0.2)
    pub.start()
    pub.publish(segment(1))
    await asyncio.sleep(0.7)
    ws_server.ack = True
    assert await pub.flush(3.0)
    await pub.close()
    assert ws_server.seqs().count(1) >= 2
    assert ws_server.connections == 1  # resent on the same connection


def test_recorder_numbers_segments_relative_to_start() -> None:
    now = [100.0]
    recorder = TranscriptRecorder(clock=lambda: now[0])
    seen: list[Segment] = []
    recorder.add_sink(seen.append)
    assert recorder.record("bot", "too early", 99.0, 99.5, 1.0) is None  # before the interview started
    recorder.start()
    a = recorder.record("bot", "  Hello   there ", 100.5, 101.25, 1.0)
    b = recorder.record("candidate", "", 101.0, 102.0, 0.5)  # nothing said: no segment
    c = recorder.record("candidate", "Hi", 102.0, 101.0, 0.5)  # end before start is clamped
    assert a is not None and c is not None and b is None
    assert (a.seq, a.text, a.start_time, a.end_time) == (1, "Hello there", 0.5, 1.25)
    assert (c.seq, c.start_time, c.end_time) == (2, 2.0, 2.0)
    assert seen == [a, c]
