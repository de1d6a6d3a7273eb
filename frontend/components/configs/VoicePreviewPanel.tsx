import { useId, useState } from "react";
import { useVoicePreview } from "../../hooks/useVoicePreview";
import { humanize } from "../../lib/format";
import { describePreviewError, formatPreviewDuration, previewAudioSrc } from "../../lib/preview";
import { PREVIEW_TEXT_MAX_CHARS } from "../../types";
import type { PreviewPlan } from "./configDraft";

/**
 * "Preview voice": synthesizes the form's current voice speaking its opening message (`POST /preview`) and
 * plays it in an <audio controls> element. Disabled, with the reason beside it, for a voice the preview
 * cannot do (kokoro, cartesia without a voice id); errors are shown inline (when to try again after a 429,
 * who must fix the Cartesia key after a 424).
 */
export function VoicePreviewPanel({ plan }: { plan: PreviewPlan }) {
  const ids = useId();
  const preview = useVoicePreview();
  const [audioFailed, setAudioFailed] = useState(false);
  const busy = preview.isPending;
  const result = preview.isSuccess ? preview.data : null;
  const src = result ? previewAudioSrc(result) : null;
  const failure = preview.isError ? describePreviewError(preview.error) : null;

  const hint = !plan.ok
    ? plan.reason
    : plan.request.text === undefined
      ? "Speaks the bot's standard greeting (there is no opening message)."
      : plan.textTruncated
        ? `Speaks the opening message, shortened to ${PREVIEW_TEXT_MAX_CHARS} characters.`
        : "Speaks the opening message.";

  const start = () => {
    if (!plan.ok || busy) return;
    setAudioFailed(false);
    preview.mutate(plan.request);
  };

  let status = "";
  if (busy) status = "Generating the preview…";
  else if (result) status = `Preview ready: ${formatPreviewDuration(result.durationMs)}${result.cached ? ", from the cache" : ""}.`;

  return (
    <div className="voice-preview" data-provider={plan.provider}>
      <div className="voice-preview__controls">
        <button
          type="button"
          className="voice-button"
          onClick={start}
          disabled={!plan.ok || busy}
          aria-busy={busy}
          aria-describedby={`${ids}-hint`}
        >
          {busy ? <span className="voice-spinner" aria-hidden="true" /> : null}
          Preview voice
        </button>
        <span id={`${ids}-hint`} className={`voice-field__hint${plan.ok ? "" : " voice-preview__reason"}`}>
          {hint}
        </span>
      </div>
      <p className="voice-preview__status" role="status">
        {status}
      </p>
      {failure ? (
        <div className="voice-error voice-preview__error" role="alert">
          <p>{failure.message}</p>
          {failure.hint ? <p>{failure.hint}</p> : null}
        </div>
      ) : null}
      {result && src ? (
        <figure className="voice-preview__player">
          <audio
            key={src}
            controls
            autoPlay
            src={src}
            preload="auto"
            aria-label={`Voice preview, ${humanize(result.provider)} ${result.voiceId}`}
            aria-describedby={`${ids}-caption`}
            onError={() => setAudioFailed(true)}
          />
          <figcaption id={`${ids}-caption`} className="voice-field__hint">
            {humanize(result.provider)} · {result.voiceId} · speed {result.speed} · {formatPreviewDuration(result.durationMs)}
            {result.cached ? " · from the cache (the provider was not called)" : ""}
            {result.textTruncated ? " · the text was shortened" : ""}
          </figcaption>
          {audioFailed ? (
            <p className="voice-field__error">
              The audio could not be played{result.audioUrl ? " (its link may have expired)" : ""}: preview the voice again.
            </p>
          ) : null}
        </figure>
      ) : null}
    </div>
  );
}
