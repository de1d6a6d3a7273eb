/**
 * The live transcript connection behind `useRealTimeTranscript`, as a small external store (no React):
 * one WebSocket per watched session (docs/websocket.md), at-least-once delivery merged by `seq`, and
 * reconnects that resume where the transcript left off (`subscribe` with `afterSeq`).
 */
import type { TokenSource } from "../lib/api";
import { highestFinalSeq, mergeSegments, seqBeforeFirstGap, sortedSegments, type SegmentMap } from "../lib/transcript";
import type { LiveSegment, SessionStatus, Uuid, WsServerMessage } from "../types";

export type ConnectionState = "idle" | "connecting" | "open" | "reconnecting" | "closed" | "error";

export interface LiveTranscriptError {
  code: string;
  message: string;
  /** No more reconnects: the session is not visible, or reconnecting gave up. */
  fatal: boolean;
}

export interface LiveTranscriptSnapshot {
  sessionId: Uuid | null;
  connection: ConnectionState;
  /** Segments in `seq` order (interim ones have `isFinal: false`). */
  segments: LiveSegment[];
  /** Highest final `seq` received: where a reconnect resumes (`afterSeq`). */
  lastSeq: number | null;
  /** The whole stored backlog has arrived since the last subscribe. */
  backlogComplete: boolean;
  sessionStatus: SessionStatus | null;
  statusReason: string | null;
  analyticsReady: boolean;
  error: LiveTranscriptError | null;
  /** Reconnect attempts since the last successful subscribe. */
  reconnectAttempts: number;
}

export interface ReconnectPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  /** Give up (state `error`) after this many failed attempts in a row. */
  maxAttempts: number;
}

export interface WebSocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason?: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type WebSocketFactory = (url: string) => WebSocketLike;

export interface LiveTranscriptOptions {
  sessionId: Uuid;
  /** The WebSocket endpoint (`ws://127.0.0.1:8080/ws`); the token is added as `?token=`. */
  url: string;
  getToken: TokenSource;
  createSocket?: WebSocketFactory;
  reconnect?: Partial<ReconnectPolicy>;
  /** Keep-alive `ping` interval (API Gateway closes connections idle for 10 minutes). */
  pingIntervalMs?: number;
  /** How long a gap in the final `seq`s may last before the backlog is asked for again. */
  gapRepairDelayMs?: number;
  onStatus?: (status: SessionStatus, reason: string | null) => void;
  onAnalyticsReady?: () => void;
}

const OPEN = 1;
const DEFAULT_RECONNECT: ReconnectPolicy = { initialDelayMs: 500, maxDelayMs: 10_000, maxAttempts: 12 };
/** Errors after which reconnecting cannot help. */
const FATAL_CODES = new Set(["SESSION_NOT_FOUND", "FORBIDDEN"]);
/** Errors that a fresh connection (with a fresh token) repairs. */
const RECONNECT_CODES = new Set(["TOKEN_EXPIRED", "UNAUTHORIZED"]);

function defaultSocketFactory(url: string): WebSocketLike {
  const Impl = globalThis.WebSocket;
  if (!Impl) throw new Error("WebSocket is not available in this environment");
  return new Impl(url) as unknown as WebSocketLike;
}

function withToken(url: string, token: string): string {
  return `${url}${url.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`;
}

export function emptySnapshot(sessionId: Uuid | null): LiveTranscriptSnapshot {
  return {
    sessionId,
    connection: "idle",
    segments: [],
    lastSeq: null,
    backlogComplete: false,
    sessionStatus: null,
    statusReason: null,
    analyticsReady: false,
    error: null,
    reconnectAttempts: 0,
  };
}

export class LiveTranscriptStore {
  private options: LiveTranscriptOptions;
  private readonly policy: ReconnectPolicy;
  private snapshot: LiveTranscriptSnapshot;
  private segmentMap: SegmentMap = new Map();
  private listeners = new Set<() => void>();
  private socket: WebSocketLike | null = null;
  private running = false;
  private fatal = false;
  private generation = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private gapTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(options: LiveTranscriptOptions) {
    this.options = options;
    this.policy = { ...DEFAULT_RECONNECT, ...options.reconnect };
    this.snapshot = emptySnapshot(options.sessionId);
  }

  /** Replace the callbacks and token source (the rest is fixed for the store's lifetime). */
  update(options: Pick<LiveTranscriptOptions, "getToken" | "onStatus" | "onAnalyticsReady">): void {
    this.options = { ...this.options, ...options };
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): LiveTranscriptSnapshot => this.snapshot;

  /** Connect (again after `stop`); resumes from the segments already held. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.fatal = false;
    void this.connect();
  }

  /** Close the socket and cancel every timer; the segments stay. */
  stop(): void {
    this.running = false;
    this.generation += 1;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket) this.closeQuietly(socket);
    if (this.snapshot.connection !== "error") this.set({ connection: "closed" });
  }

  /** Reconnect now (e.g. a "Retry" button after the store gave up). */
  reconnectNow(): void {
    this.stop();
    this.set({ error: null, reconnectAttempts: 0 });
    this.start();
  }

  // ------------------------------------------------------------------------------------------ internals

  private set(patch: Partial<LiveTranscriptSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    for (const listener of [...this.listeners]) listener();
  }

  private clearTimers(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.gapTimer) clearTimeout(this.gapTimer);
    this.reconnectTimer = null;
    this.pingTimer = null;
    this.gapTimer = null;
  }

  private closeQuietly(socket: WebSocketLike): void {
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    socket.onerror = null;
    try {
      socket.close(1000, "unsubscribe");
    } catch {
      // already closed
    }
  }

  private resumeSeq(): number | null {
    return seqBeforeFirstGap(this.segmentMap) ?? highestFinalSeq(this.segmentMap);
  }

  private async connect(): Promise<void> {
    const generation = ++this.generation;
    this.set({ connection: this.snapshot.reconnectAttempts > 0 ? "reconnecting" : "connecting" });
    let token: string | null | undefined;
    try {
      token = await this.options.getToken();
    } catch {
      token = null;
    }
    if (!this.running || generation !== this.generation) return;
    if (!token) {
      this.fail("UNAUTHORIZED", "You are not signed in: the live transcript needs your sign-in token.", true);
      return;
    }
    let socket: WebSocketLike;
    try {
      socket = (this.options.createSocket ?? defaultSocketFactory)(withToken(this.options.url, token));
    } catch (error) {
      this.scheduleReconnect(error instanceof Error ? error.message : "cannot open the connection");
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (generation !== this.generation) return;
      this.sendSubscribe(this.resumeSeq());
      const every = this.options.pingIntervalMs ?? 5 * 60_000;
      if (every > 0) {
        this.pingTimer = setInterval(() => this.send({ action: "ping" }), every);
      }
    };
    socket.onmessage = (event) => {
      if (generation !== this.generation) return;
      this.onMessage(event.data);
    };
    socket.onerror = () => {
      // The close event follows; reconnecting is decided there.
    };
    socket.onclose = (event) => {
      if (generation !== this.generation) return;
      this.socket = null;
      if (this.pingTimer) clearInterval(this.pingTimer);
      this.pingTimer = null;
      if (!this.running) return;
      if (this.fatal) {
        this.set({ connection: "error" });
        return;
      }
      this.scheduleReconnect(`connection closed (${event.code})`);
    };
  }

  private send(message: object): void {
    const socket = this.socket;
    if (socket && socket.readyState === OPEN) socket.send(JSON.stringify(message));
  }

  private sendSubscribe(afterSeq: number | null): void {
    const message: { action: "subscribe"; sessionId: Uuid; afterSeq?: number } = { action: "subscribe", sessionId: this.options.sessionId };
    if (afterSeq !== null) message.afterSeq = afterSeq;
    this.set({ backlogComplete: false });
    this.send(message);
  }

  private scheduleReconnect(why: string): void {
    const attempts = this.snapshot.reconnectAttempts;
    if (attempts >= this.policy.maxAttempts) {
      this.fail("CONNECTION_LOST", `The live transcript connection was lost (${why}); reconnecting gave up.`, true);
      return;
    }
    const base = Math.min(this.policy.maxDelayMs, this.policy.initialDelayMs * 2 ** attempts);
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    this.set({ connection: "reconnecting", reconnectAttempts: attempts + 1 });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.running) void this.connect();
    }, delay);
  }

  private fail(code: string, message: string, fatal: boolean): void {
    if (fatal) {
      this.fatal = true;
      this.set({ error: { code, message, fatal }, connection: "error" });
      const socket = this.socket;
      this.socket = null;
      this.clearTimers();
      if (socket) this.closeQuietly(socket);
    } else {
      this.set({ error: { code, message, fatal } });
    }
  }

  private onMessage(raw: unknown): void {
    if (typeof raw !== "string") return;
    let message: WsServerMessage;
    try {
      message = JSON.parse(raw) as WsServerMessage;
    } catch {
      return;
    }
    if (typeof message !== "object" || message === null || typeof message.type !== "string") return;
    if (message.sessionId && message.sessionId !== this.options.sessionId) return;
    switch (message.type) {
      case "subscribed":
        this.set({ connection: "open", sessionStatus: message.status, reconnectAttempts: 0, error: null });
        break;
      case "transcript.backlog":
        this.addSegments(Array.isArray(message.segments) ? message.segments : [], message.complete === true);
        break;
      case "transcript.segment":
        if (message.segment) this.addSegments([message.segment], false);
        break;
      case "session.status":
        this.set({ sessionStatus: message.status, statusReason: message.reason ?? null });
        this.options.onStatus?.(message.status, message.reason ?? null);
        break;
      case "analytics.ready":
        this.set({ analyticsReady: true });
        this.options.onAnalyticsReady?.();
        break;
      case "error":
        if (FATAL_CODES.has(message.code)) {
          this.fail(message.code, message.code === "SESSION_NOT_FOUND" ? "This interview does not exist or you may not watch it." : message.message, true);
        } else if (RECONNECT_CODES.has(message.code)) {
          // A fresh connection asks for a fresh token.
          const socket = this.socket;
          if (socket) socket.close(4000, message.code);
        } else {
          this.fail(message.code, message.message, false);
        }
        break;
      default:
        break; // pong, unsubscribed, ack and types added later are ignored
    }
  }

  private addSegments(incoming: LiveSegment[], complete: boolean): void {
    const merged = mergeSegments(this.segmentMap, incoming);
    const changed = merged !== this.segmentMap;
    this.segmentMap = merged;
    const patch: Partial<LiveTranscriptSnapshot> = {};
    if (changed) {
      patch.segments = sortedSegments(merged);
      patch.lastSeq = highestFinalSeq(merged);
    }
    if (complete) patch.backlogComplete = true;
    if (changed || complete) this.set(patch);
    this.checkGap();
  }

  /** A final seq missing while later ones arrived: ask for the backlog after it again (if it persists). */
  private checkGap(): void {
    if (!this.snapshot.backlogComplete || this.gapTimer) return;
    if (seqBeforeFirstGap(this.segmentMap) === null) return;
    this.gapTimer = setTimeout(() => {
      this.gapTimer = null;
      const before = seqBeforeFirstGap(this.segmentMap);
      if (before !== null && this.running) this.sendSubscribe(before);
    }, this.options.gapRepairDelayMs ?? 1_500);
  }
}
