/** Helpers for voice previews (`POST /preview`, docs/api/preview.md). */
import { PREVIEW_TEXT_MAX_CHARS, type VoicePreview } from "../types";
import { describeError, isVoiceApiError } from "./errors";

/**
 * A preview text from a message such as a configuration's opening message: whitespace collapsed, cut to
 * `limit` characters (code points, as the API counts them) at a sentence end, else a word end, as the API
 * shortens a saved configuration's `initial_message`. `text` is undefined for an empty message (the API
 * then speaks the bot's standard greeting).
 */
export function previewText(message: string, limit: number = PREVIEW_TEXT_MAX_CHARS): { text: string | undefined; truncated: boolean } {
  const normalized = message.replace(/\s+/g, " ").trim();
  if (!normalized) return { text: undefined, truncated: false };
  const chars = Array.from(normalized);
  if (chars.length <= limit) return { text: normalized, truncated: false };
  const head = chars.slice(0, limit).join("");
  const sentenceEnd = Math.max(head.lastIndexOf(". "), head.lastIndexOf("! "), head.lastIndexOf("? "));
  // Indexes are UTF-16 offsets; compare against the length of the first third in the same unit.
  if (sentenceEnd >= chars.slice(0, Math.floor(limit / 3)).join("").length) return { text: head.slice(0, sentenceEnd + 1), truncated: true };
  const space = head.lastIndexOf(" ");
  const cut = (space > 0 ? head.slice(0, space) : head).replace(/[ ,;:]+$/, "");
  return { text: cut || head, truncated: true };
}

/** What an <audio> element plays: the presigned URL, else the inline WAV as a data: URL. */
export function previewAudioSrc(preview: Pick<VoicePreview, "audioUrl" | "audioBase64" | "mimeType">): string | null {
  if (preview.audioUrl) return preview.audioUrl;
  if (preview.audioBase64) return `data:${preview.mimeType || "audio/wav"};base64,${preview.audioBase64}`;
  return null;
}

/** "2.5 s" */
export function formatPreviewDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  return `${(ms / 1000).toFixed(1)} s`;
}

export interface PreviewErrorText {
  message: string;
  /** What the user can do about it. */
  hint: string | null;
}

/**
 * A failed preview for a user: the envelope's message, with when to try again (429, from `Retry-After`)
 * or who must fix the Cartesia key (424).
 */
export function describePreviewError(error: unknown): PreviewErrorText {
  if (!isVoiceApiError(error)) return { message: describeError(error), hint: null };
  if (error.status === 429) {
    // The API's own rate-limit message already says "try again in N s": say it once, from Retry-After (a
    // cross-origin answer hides that header unless the API exposes it: then from the message).
    const said = /try again in (\d+)\s*s\b/i.exec(error.message);
    const message = error.message.replace(/[;,.]?\s*try again in \d+\s*s\.?$/i, "").trim() || "Too many voice previews";
    const wait = error.retryAfterSeconds ?? (said ? Number(said[1]) : null);
    return {
      message: /[.!?]$/.test(message) ? message : `${message}.`,
      hint: wait !== null ? `Try again in ${Math.max(1, wait)} s.` : "Try again in a moment.",
    };
  }
  if (error.status === 424) {
    const missing = error.code === "TTS_CREDENTIAL_MISSING";
    return {
      message: describeError(error),
      hint: missing
        ? "An org admin must add a Cartesia API key for this organization (Voice Settings, “Provider keys of this organization”) before Cartesia voices can be previewed."
        : "An org admin must update this organization's Cartesia API key (Voice Settings, “Provider keys of this organization”): Cartesia rejected it. Trying again will not help.",
    };
  }
  return { message: describeError(error), hint: null };
}
