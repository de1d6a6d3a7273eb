import type { ReactNode } from "react";
import { describeError } from "../../lib/errors";

/** A polite "loading" line that screen readers announce. */
export function LoadingState({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="voice-loading" role="status" aria-live="polite">
      <span className="voice-spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

/** An error message (role="alert") with an optional retry. */
export function ErrorState({ error, title, onRetry }: { error: unknown; title?: string; onRetry?: () => void }) {
  return (
    <div className="voice-error" role="alert">
      {title ? <strong>{title}: </strong> : null}
      {describeError(error)}
      {onRetry ? (
        <button type="button" className="voice-button voice-button--small" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

export function EmptyState({ children }: { children: ReactNode }) {
  return <p className="voice-empty">{children}</p>;
}

/** A short, announced confirmation ("Saved"). */
export function Notice({ children }: { children: ReactNode }) {
  return (
    <p className="voice-notice" role="status">
      {children}
    </p>
  );
}
