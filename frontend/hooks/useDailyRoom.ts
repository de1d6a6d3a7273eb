import { useCallback, useEffect, useRef, useState } from "react";

export type DailyRoomState = "idle" | "joining" | "joined" | "leaving" | "left" | "error";

/** The part of a Daily call object this hook uses (daily-js `DailyCall`). */
export interface DailyCallLike {
  join(options: { url: string; token?: string; userName?: string }): Promise<unknown>;
  leave(): Promise<unknown>;
  destroy(): Promise<unknown> | void;
  setLocalAudio(enabled: boolean): unknown;
  participants(): Record<string, unknown>;
  on(event: string, handler: (event?: unknown) => void): unknown;
}

export type DailyFactory = () => Promise<DailyCallLike>;

export interface UseDailyRoomOptions {
  roomUrl: string | null | undefined;
  /** The candidate's meeting token (`dailyRoomToken`). */
  token?: string | null;
  userName?: string;
  /** Give up joining after this long (Daily's bundle may not load at all, e.g. offline). */
  joinTimeoutMs?: number;
  /** Creates the call object; defaults to daily-js, loaded only when joining. */
  createCall?: DailyFactory;
}

export interface UseDailyRoomResult {
  state: DailyRoomState;
  error: string | null;
  /** Participants in the room other than this one. */
  remoteParticipants: number;
  muted: boolean;
  join: () => Promise<void>;
  leave: () => Promise<void>;
  setMuted: (muted: boolean) => void;
}

async function createDailyCall(): Promise<DailyCallLike> {
  const { default: Daily } = await import("@daily-co/daily-js");
  const call: DailyCallLike = Daily.createCallObject({ audioSource: true, videoSource: false, subscribeToTracksAutomatically: true });
  return call;
}

function reasonOf(error: unknown): string {
  if (error instanceof Error && error.message) return error.message;
  if (typeof error === "object" && error !== null) {
    const e = error as { errorMsg?: unknown; error?: { msg?: unknown } };
    if (typeof e.errorMsg === "string") return e.errorMsg;
    if (typeof e.error?.msg === "string") return e.error.msg;
  }
  return typeof error === "string" ? error : "unknown error";
}

/**
 * Join a session's Daily room as the candidate (audio only) with @daily-co/daily-js's call object.
 * Joining only happens on `join()` (browsers need a user gesture for audio); when the call object cannot
 * join (no network to Daily, a stand-in room, an expired token) the state is `error` with the reason and
 * nothing else breaks.
 */
export function useDailyRoom({ roomUrl, token, userName = "Candidate", joinTimeoutMs = 15_000, createCall = createDailyCall }: UseDailyRoomOptions): UseDailyRoomResult {
  const [state, setState] = useState<DailyRoomState>("idle");
  const [error, setError] = useState<string | null>(null);
  const [remoteParticipants, setRemote] = useState(0);
  const [muted, setMutedState] = useState(false);
  const callRef = useRef<DailyCallLike | null>(null);
  const mounted = useRef(true);

  const dispose = useCallback(async () => {
    const call = callRef.current;
    callRef.current = null;
    if (!call) return;
    try {
      await call.destroy();
    } catch {
      // already gone
    }
  }, []);

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
      void dispose();
    };
  }, [dispose]);

  const join = useCallback(async () => {
    if (!roomUrl || callRef.current) return;
    setState("joining");
    setError(null);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const call = await createCall();
      callRef.current = call;
      const count = () => Math.max(0, Object.keys(call.participants()).length - 1);
      call.on("participant-joined", () => mounted.current && setRemote(count()));
      call.on("participant-left", () => mounted.current && setRemote(count()));
      call.on("left-meeting", () => mounted.current && setState("left"));
      call.on("error", (event) => {
        if (!mounted.current) return;
        setError(reasonOf(event));
        setState("error");
      });
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer from Daily within ${Math.round(joinTimeoutMs / 1000)} s`)), joinTimeoutMs);
      });
      await Promise.race([call.join({ url: roomUrl, token: token ?? undefined, userName }), timeout]);
      if (!mounted.current) return;
      setRemote(count());
      setState("joined");
    } catch (err) {
      await dispose();
      if (!mounted.current) return;
      setError(reasonOf(err));
      setState("error");
    } finally {
      if (timer) clearTimeout(timer);
    }
  }, [roomUrl, token, userName, joinTimeoutMs, createCall, dispose]);

  const leave = useCallback(async () => {
    const call = callRef.current;
    if (!call) return;
    setState("leaving");
    try {
      await call.leave();
    } catch {
      // leaving a call that failed is fine
    }
    await dispose();
    if (mounted.current) {
      setState("left");
      setRemote(0);
    }
  }, [dispose]);

  const setMuted = useCallback((next: boolean) => {
    callRef.current?.setLocalAudio(!next);
    setMutedState(next);
  }, []);

  return { state, error, remoteParticipants, muted, join, leave, setMuted };
}
