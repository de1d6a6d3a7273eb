import { useEffect, useMemo, useSyncExternalStore } from "react";
import type { TokenSource } from "../lib/api";
import type { SessionStatus, Uuid } from "../types";
import { useOptionalVoiceModule } from "./context";
import {
  emptySnapshot,
  LiveTranscriptStore,
  type LiveTranscriptSnapshot,
  type ReconnectPolicy,
  type WebSocketFactory,
} from "./liveTranscriptStore";

export type { ConnectionState, LiveTranscriptError, LiveTranscriptSnapshot } from "./liveTranscriptStore";

export interface UseRealTimeTranscriptOptions {
  /** Defaults to the VoiceModuleProvider's `websocketUrl`. */
  url?: string;
  /** Defaults to the VoiceModuleProvider's `getToken`. */
  getToken?: TokenSource;
  /** false: no connection (e.g. a session that has not started). Default true. */
  enabled?: boolean;
  /** Open sockets differently (tests, or a WebSocket polyfill). */
  createSocket?: WebSocketFactory;
  reconnect?: Partial<ReconnectPolicy>;
  pingIntervalMs?: number;
  gapRepairDelayMs?: number;
  onStatus?: (status: SessionStatus, reason: string | null) => void;
  onAnalyticsReady?: () => void;
}

export interface UseRealTimeTranscriptResult extends LiveTranscriptSnapshot {
  /** Reconnect now (after the connection gave up, or to refresh). */
  reconnect: () => void;
}

const IDLE_STORE = {
  subscribe: () => () => undefined,
};

/**
 * Watch a session's transcript and status live over the WebSocket API: subscribes, merges the backlog and
 * live segments by `seq` (at-least-once delivery), and after a dropped connection reconnects with backoff
 * and subscribes with `afterSeq` = the last final `seq` it holds, so nothing is missed or duplicated.
 */
export function useRealTimeTranscript(sessionId: Uuid | null | undefined, options: UseRealTimeTranscriptOptions = {}): UseRealTimeTranscriptResult {
  const module = useOptionalVoiceModule();
  const url = options.url ?? module?.websocketUrl ?? null;
  const getToken = options.getToken ?? module?.getToken ?? null;
  const enabled = options.enabled ?? true;
  const { createSocket, pingIntervalMs, gapRepairDelayMs } = options;
  const reconnectKey = JSON.stringify(options.reconnect ?? {});

  const store = useMemo(() => {
    if (!sessionId || !url || !enabled) return null;
    return new LiveTranscriptStore({
      sessionId,
      url,
      getToken: () => null,
      createSocket,
      reconnect: JSON.parse(reconnectKey) as Partial<ReconnectPolicy>,
      pingIntervalMs,
      gapRepairDelayMs,
    });
  }, [sessionId, url, enabled, createSocket, reconnectKey, pingIntervalMs, gapRepairDelayMs]);

  const { onStatus, onAnalyticsReady } = options;
  useEffect(() => {
    store?.update({ getToken: getToken ?? (() => null), onStatus, onAnalyticsReady });
  }, [store, getToken, onStatus, onAnalyticsReady]);

  useEffect(() => {
    if (!store) return undefined;
    store.start();
    return () => store.stop();
  }, [store]);

  const idle = useMemo(() => emptySnapshot(sessionId ?? null), [sessionId]);
  const snapshot = useSyncExternalStore(
    store ? store.subscribe : IDLE_STORE.subscribe,
    store ? store.getSnapshot : () => idle,
    store ? store.getSnapshot : () => idle,
  );
  const reconnect = useMemo(() => (store ? () => store.reconnectNow() : () => undefined), [store]);
  return { ...snapshot, reconnect };
}
