import { useEffect, useId, useRef } from "react";
import { useRealTimeTranscript, type UseRealTimeTranscriptOptions, type UseRealTimeTranscriptResult } from "../../hooks/useRealTimeTranscript";
import { formatTimestamp } from "../../lib/format";
import type { Uuid } from "../../types";
import { DEFAULT_SPEAKERS, speakerLabel, type SpeakerNames } from "./TranscriptViewer";

const CONNECTION_LABELS: Record<UseRealTimeTranscriptResult["connection"], string> = {
  idle: "Not connected",
  connecting: "Connecting…",
  open: "Live",
  reconnecting: "Reconnecting…",
  closed: "Disconnected",
  error: "Disconnected",
};

/** The live transcript as it arrives, from a `useRealTimeTranscript` result (the page owns the connection). */
export function LiveTranscriptView({
  live,
  speakers = DEFAULT_SPEAKERS,
  title = "Live transcript",
  emptyMessage = "Waiting for the interview to start…",
}: {
  live: UseRealTimeTranscriptResult;
  speakers?: SpeakerNames;
  title?: string;
  emptyMessage?: string;
}) {
  const ids = useId();
  const logRef = useRef<HTMLOListElement>(null);
  const count = live.segments.length;
  useEffect(() => {
    const el = logRef.current;
    if (el && count > 0) el.scrollTop = el.scrollHeight;
  }, [count]);

  const label = live.connection === "reconnecting" && live.reconnectAttempts > 0 ? `Reconnecting (attempt ${live.reconnectAttempts})…` : CONNECTION_LABELS[live.connection];
  return (
    <section className="voice-live" aria-labelledby={`${ids}-title`}>
      <div className="voice-section__header">
        <h3 id={`${ids}-title`}>{title}</h3>
        <span className={`voice-connection voice-connection--${live.connection}`} role="status" data-connection={live.connection}>
          <span className="voice-connection__dot" aria-hidden="true" />
          {label}
        </span>
      </div>
      {live.error ? (
        <div className="voice-error" role="alert">
          {live.error.message}
          {live.error.fatal && live.error.code !== "SESSION_NOT_FOUND" ? (
            <button type="button" className="voice-button voice-button--small" onClick={live.reconnect}>
              Reconnect
            </button>
          ) : null}
        </div>
      ) : null}
      {count === 0 && !live.error ? <p className="voice-empty">{live.backlogComplete ? emptyMessage : "Loading the transcript…"}</p> : null}
      <ol className="voice-live__log" ref={logRef} role="log" aria-live="polite" aria-relevant="additions" aria-label="Transcript lines" tabIndex={count > 0 ? 0 : undefined}>
        {live.segments.map((s) => (
          <li key={s.seq} className={`voice-live__line voice-turn--${s.speaker}${s.isFinal ? "" : " voice-segment--interim"}`} data-seq={s.seq}>
            <time className="voice-turn__time">{formatTimestamp(s.startTime)}</time> <strong className="voice-turn__speaker">{speakerLabel(s.speaker, speakers)}:</strong>{" "}
            <span>{s.text}</span>
            {s.isFinal ? null : <span className="voice-sr-only"> (still speaking)</span>}
          </li>
        ))}
      </ol>
    </section>
  );
}

/** Connects to the live transcript of a session and shows it (see useRealTimeTranscript). */
export function LiveTranscriptPanel({ sessionId, speakers, title, ...options }: { sessionId: Uuid; speakers?: SpeakerNames; title?: string } & UseRealTimeTranscriptOptions) {
  const live = useRealTimeTranscript(sessionId, options);
  return <LiveTranscriptView live={live} speakers={speakers} title={title} />;
}
