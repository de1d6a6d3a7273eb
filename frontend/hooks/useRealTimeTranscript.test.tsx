// useRealTimeTranscript against a real WebSocket server (the `ws` package) on 127.0.0.1.
import { renderHook, waitFor } from "@testing-library/react";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { WebSocketServer, type WebSocket as ServerSocket } from "ws";
import type { LiveSegment } from "../types";
import { useRealTimeTranscript } from "./useRealTimeTranscript";

const SESSION = "6f1c7a3e-0b9d-4c47-9d7e-2f6a0f3c9b10";

interface Connection {
  url: string;
  socket: ServerSocket;
  received: Array<Record<string, unknown>>;
}

type OnMessage = (connection: Connection, message: Record<string, unknown>, index: number) => void;

let wss: WebSocketServer;
let url: string;
let connections: Connection[];
let onMessage: OnMessage;

const seg = (seq: number, text: string, isFinal = true): LiveSegment => ({
  seq,
  speaker: seq % 2 ? "bot" : "candidate",
  text,
  startTime: seq * 2,
  endTime: seq * 2 + 1,
  confidence: null,
  isFinal,
});
const msg = (type: string, fields: Record<string, unknown> = {}) => JSON.stringify({ v: 1, type, sessionId: SESSION, ...fields });

beforeEach(async () => {
  connections = [];
  onMessage = () => undefined;
  wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`;
  wss.on("connection", (socket, request) => {
    const connection: Connection = { url: request.url ?? "", socket, received: [] };
    connections.push(connection);
    socket.on("message", (data: Buffer) => {
      const message = JSON.parse(data.toString()) as Record<string, unknown>;
      connection.received.push(message);
      onMessage(connection, message, connection.received.length - 1);
    });
  });
});

afterEach(async () => {
  for (const client of wss.clients) client.terminate();
  await new Promise((resolve) => wss.close(resolve));
});

const fast = { initialDelayMs: 20, maxDelayMs: 50, maxAttempts: 5 };

describe("useRealTimeTranscript", () => {
  it("subscribes with the token, merges backlog and live segments, and follows the status", async () => {
    const onStatus = vi.fn();
    const onAnalyticsReady = vi.fn();
    onMessage = (c, m) => {
      if (m.action !== "subscribe") return;
      c.socket.send(msg("subscribed", { status: "active", afterSeq: null }));
      c.socket.send(msg("transcript.backlog", { segments: [seg(1, "Hello"), seg(2, "Hi")], complete: true }));
      c.socket.send(msg("transcript.segment", { segment: seg(2, "Hi (again)") })); // at least once: a repeat
      c.socket.send(msg("transcript.segment", { segment: seg(3, "Tell me", false) })); // interim
      c.socket.send(msg("transcript.segment", { segment: seg(3, "Tell me about it.") })); // final replaces it
      c.socket.send(msg("pong"));
      c.socket.send(JSON.stringify({ v: 1, type: "transcript.segment", sessionId: "another-session", segment: seg(9, "not ours") }));
      c.socket.send(msg("session.status", { status: "completed", reason: null, at: "2026-01-16T14:00:00Z" }));
      c.socket.send(msg("analytics.ready"));
    };
    const { result } = renderHook(() => useRealTimeTranscript(SESSION, { url, getToken: () => "jwt-1", onStatus, onAnalyticsReady, reconnect: fast }));
    await waitFor(() => expect(result.current.analyticsReady).toBe(true));
    expect(connections).toHaveLength(1);
    expect(new URL(connections[0]!.url, "http://x").searchParams.get("token")).toBe("jwt-1");
    expect(connections[0]!.received[0]).toEqual({ action: "subscribe", sessionId: SESSION });
    expect(result.current.segments.map((s) => [s.seq, s.text, s.isFinal])).toEqual([
      [1, "Hello", true],
      [2, "Hi", true],
      [3, "Tell me about it.", true],
    ]);
    expect(result.current.lastSeq).toBe(3);
    expect(result.current.backlogComplete).toBe(true);
    expect(result.current.connection).toBe("open");
    expect(result.current.sessionStatus).toBe("completed");
    expect(onStatus).toHaveBeenCalledWith("completed", null);
    expect(onAnalyticsReady).toHaveBeenCalledTimes(1);
  });

  it("reconnects after the connection drops and resumes after the last seq it saw", async () => {
    onMessage = (c, m) => {
      if (m.action !== "subscribe") return;
      if (connections.length === 1) {
        c.socket.send(msg("subscribed", { status: "active", afterSeq: null }));
        c.socket.send(msg("transcript.backlog", { segments: [seg(1, "one"), seg(2, "two")], complete: true }));
        setTimeout(() => c.socket.terminate(), 30); // the network drops
      } else {
        c.socket.send(msg("subscribed", { status: "active", afterSeq: m.afterSeq }));
        c.socket.send(msg("transcript.backlog", { segments: [seg(3, "three"), seg(4, "four")], complete: true }));
      }
    };
    const { result } = renderHook(() => useRealTimeTranscript(SESSION, { url, getToken: () => "jwt", reconnect: fast }));
    await waitFor(() => expect(result.current.segments).toHaveLength(4));
    expect(connections).toHaveLength(2);
    expect(connections[1]!.received[0]).toEqual({ action: "subscribe", sessionId: SESSION, afterSeq: 2 });
    expect(result.current.segments.map((s) => s.text)).toEqual(["one", "two", "three", "four"]);
    await waitFor(() => expect(result.current.connection).toBe("open"));
    expect(result.current.reconnectAttempts).toBe(0);
  });

  it("asks for the backlog again when a seq is missing", async () => {
    onMessage = (c, m, index) => {
      if (m.action !== "subscribe") return;
      if (index === 0) {
        c.socket.send(msg("subscribed", { status: "active", afterSeq: null }));
        c.socket.send(msg("transcript.backlog", { segments: [seg(1, "one")], complete: true }));
        c.socket.send(msg("transcript.segment", { segment: seg(3, "three") })); // seq 2's push was lost
      } else {
        c.socket.send(msg("subscribed", { status: "active", afterSeq: m.afterSeq }));
        c.socket.send(msg("transcript.backlog", { segments: [seg(2, "two"), seg(3, "three")], complete: true }));
      }
    };
    const { result } = renderHook(() => useRealTimeTranscript(SESSION, { url, getToken: () => "jwt", gapRepairDelayMs: 30, reconnect: fast }));
    await waitFor(() => expect(result.current.segments.map((s) => s.seq)).toEqual([1, 2, 3]));
    expect(connections).toHaveLength(1);
    expect(connections[0]!.received[1]).toEqual({ action: "subscribe", sessionId: SESSION, afterSeq: 1 });
  });

  it("stops on SESSION_NOT_FOUND without reconnecting", async () => {
    onMessage = (c, m) => {
      if (m.action === "subscribe") c.socket.send(msg("error", { code: "SESSION_NOT_FOUND", message: "Session not found", action: "subscribe" }));
    };
    const { result } = renderHook(() => useRealTimeTranscript(SESSION, { url, getToken: () => "jwt", reconnect: fast }));
    await waitFor(() => expect(result.current.error?.code).toBe("SESSION_NOT_FOUND"));
    expect(result.current.error?.fatal).toBe(true);
    expect(result.current.connection).toBe("error");
    await new Promise((r) => setTimeout(r, 150));
    expect(connections).toHaveLength(1);
  });

  it("reconnects with a fresh token when the token expired", async () => {
    const tokens = ["old", "new"];
    const getToken = vi.fn(() => tokens.shift() ?? "new");
    onMessage = (c, m) => {
      if (m.action !== "subscribe") return;
      if (new URL(c.url, "http://x").searchParams.get("token") === "old") {
        c.socket.send(msg("error", { code: "TOKEN_EXPIRED", message: "expired", action: "subscribe" }));
      } else {
        c.socket.send(msg("subscribed", { status: "ready", afterSeq: null }));
        c.socket.send(msg("transcript.backlog", { segments: [], complete: true }));
      }
    };
    const { result } = renderHook(() => useRealTimeTranscript(SESSION, { url, getToken, reconnect: fast }));
    await waitFor(() => expect(result.current.sessionStatus).toBe("ready"));
    expect(connections.map((c) => new URL(c.url, "http://x").searchParams.get("token"))).toEqual(["old", "new"]);
    expect(result.current.connection).toBe("open");
  });

  it("does nothing while disabled and closes the socket on unmount", async () => {
    const { result, rerender, unmount } = renderHook(({ enabled }) => useRealTimeTranscript(SESSION, { url, getToken: () => "jwt", enabled }), {
      initialProps: { enabled: false },
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(connections).toHaveLength(0);
    expect(result.current.connection).toBe("idle");
    onMessage = (c, m) => {
      if (m.action === "subscribe") c.socket.send(msg("subscribed", { status: "pending", afterSeq: null }));
    };
    rerender({ enabled: true });
    await waitFor(() => expect(result.current.connection).toBe("open"));
    const closed = new Promise<void>((resolve) => connections[0]!.socket.once("close", () => resolve()));
    unmount();
    await closed;
  });
});
