import { useId, type ReactNode } from "react";
import { useVoiceModule } from "../../hooks/context";
import { useDailyRoom, type DailyFactory } from "../../hooks/useDailyRoom";
import { FINAL_STATUSES, type SessionStatus } from "../../types";

export interface InterviewRoomProps {
  roomUrl: string | null;
  /** The candidate's meeting token (`dailyRoomToken` of GET /sessions/{id}). */
  token: string | null;
  status: SessionStatus;
  userName?: string;
  /** The local stack's Daily stand-in: rooms no browser can join (defaults to the provider's `dailyStandIn`). */
  standIn?: boolean;
  /** For tests: how the Daily call object is created. */
  createCall?: DailyFactory;
  joinTimeoutMs?: number;
}

/**
 * The interview's Daily room, joined as the candidate (audio). Joining needs a click (browsers only play
 * audio after a user gesture); when the call object cannot join, the reason is shown and nothing else is
 * affected: the transcript and status keep updating.
 */
export function InterviewRoom({ roomUrl, token, status, userName, standIn, createCall, joinTimeoutMs }: InterviewRoomProps) {
  const ids = useId();
  const module = useVoiceModule();
  const isStandIn = standIn ?? module.dailyStandIn ?? false;
  const room = useDailyRoom({ roomUrl, token, userName, createCall, joinTimeoutMs });
  const finished = FINAL_STATUSES.includes(status);

  let body: ReactNode;
  if (finished) {
    body = <p className="voice-empty">The interview has ended; the room is closed.</p>;
  } else if (!roomUrl) {
    body = <p className="voice-empty">The room opens when the interview is started.</p>;
  } else if (isStandIn) {
    body = (
      <div className="voice-info" role="note">
        <p>
          <strong>Local stack:</strong> this room comes from the Daily stand-in, so there is no real call to join. The simulated interview bot runs the
          conversation without audio: follow it in the live transcript.
        </p>
        <p className="voice-mono">{roomUrl}</p>
      </div>
    );
  } else {
    body = (
      <>
        <p className="voice-mono">{roomUrl}</p>
        {room.state === "idle" || room.state === "left" ? (
          <button type="button" className="voice-button voice-button--primary" onClick={() => void room.join()} disabled={!token}>
            {room.state === "left" ? "Join again" : "Join as candidate"}
          </button>
        ) : null}
        {!token ? <p className="voice-field__hint">No candidate token: only the session's organization members who started it receive one.</p> : null}
        {room.state === "joining" ? (
          <p role="status" className="voice-loading">
            <span className="voice-spinner" aria-hidden="true" />
            Joining the room…
          </p>
        ) : null}
        {room.state === "joined" ? (
          <div className="voice-room__joined">
            <p role="status">
              You are in the room{room.remoteParticipants > 0 ? ` with ${room.remoteParticipants} other participant${room.remoteParticipants > 1 ? "s" : ""}` : "; waiting for the interviewer"}.
            </p>
            <div className="voice-actions voice-actions--inline">
              <button type="button" className="voice-button" aria-pressed={room.muted} onClick={() => room.setMuted(!room.muted)}>
                {room.muted ? "Unmute microphone" : "Mute microphone"}
              </button>
              <button type="button" className="voice-button voice-button--danger" onClick={() => void room.leave()}>
                Leave room
              </button>
            </div>
          </div>
        ) : null}
        {room.state === "error" ? (
          <div className="voice-error" role="alert">
            <p>
              The interview room could not be joined ({room.error}). The interview itself is not affected: its status and transcript keep updating here.
            </p>
            <button type="button" className="voice-button voice-button--small" onClick={() => void room.join()}>
              Try again
            </button>
          </div>
        ) : null}
      </>
    );
  }

  return (
    <section className="voice-room" aria-labelledby={`${ids}-title`}>
      <h3 id={`${ids}-title`}>Interview room</h3>
      {body}
    </section>
  );
}
