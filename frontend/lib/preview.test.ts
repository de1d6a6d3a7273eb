// @vitest-environment node
import { describe, expect, it } from "vitest";
import { parseRetryAfter, VoiceApiError } from "./errors";
import { describePreviewError, formatPreviewDuration, previewAudioSrc, previewText } from "./preview";

describe("previewText", () => {
  it("collapses whitespace and leaves an empty message to the API's greeting", () => {
    expect(previewText("  Hello,\n\n  welcome!  ")).toEqual({ text: "Hello, welcome!", truncated: false });
    expect(previewText(" \n\t ")).toEqual({ text: undefined, truncated: false });
  });

  it("keeps a message of exactly 300 characters", () => {
    const text = "a".repeat(300);
    expect(previewText(text)).toEqual({ text, truncated: false });
  });

  it("cuts a long message at a sentence end, as the API shortens an initial_message", () => {
    const first = "Hello! Thank you for joining this interview today, we are glad to have you here with us.";
    const message = `${first} ${"We will talk about systems you built and how you tested them. ".repeat(6)}`;
    const { text, truncated } = previewText(message);
    expect(truncated).toBe(true);
    expect(Array.from(text!).length).toBeLessThanOrEqual(300);
    expect(text!.startsWith(first)).toBe(true);
    expect(text!.endsWith("tested them.")).toBe(true);
  });

  it("cuts at a word end when there is no sentence end, and never splits a character", () => {
    const words = previewText("word, ".repeat(80));
    expect(words.truncated).toBe(true);
    expect(words.text!.endsWith("word")).toBe(true);
    expect(words.text!.length).toBeLessThanOrEqual(300);
    const emoji = previewText(`${"a".repeat(299)}😀😀`);
    expect(emoji.truncated).toBe(true);
    expect(Array.from(emoji.text!)).toHaveLength(300);
    expect(emoji.text!.endsWith("😀")).toBe(true);
  });
});

describe("previewAudioSrc", () => {
  it("plays the presigned URL, else the inline WAV as a data: URL", () => {
    expect(previewAudioSrc({ audioUrl: "https://s3/x.wav?sig", audioBase64: null, mimeType: "audio/wav" })).toBe("https://s3/x.wav?sig");
    expect(previewAudioSrc({ audioUrl: null, audioBase64: "UklGRg==", mimeType: "audio/wav" })).toBe("data:audio/wav;base64,UklGRg==");
    expect(previewAudioSrc({ audioUrl: null, audioBase64: null, mimeType: "audio/wav" })).toBeNull();
  });

  it("formats a duration in seconds", () => {
    expect(formatPreviewDuration(2480)).toBe("2.5 s");
    expect(formatPreviewDuration(Number.NaN)).toBe("—");
  });
});

describe("parseRetryAfter", () => {
  it("reads delta-seconds and HTTP dates", () => {
    expect(parseRetryAfter("17")).toBe(17);
    expect(parseRetryAfter(" 0 ")).toBe(0);
    const now = Date.parse("2026-01-16T15:00:00Z");
    expect(parseRetryAfter("Fri, 16 Jan 2026 15:00:30 GMT", now)).toBe(30);
    expect(parseRetryAfter("Fri, 16 Jan 2026 14:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter("soon")).toBeNull();
    expect(parseRetryAfter("-5")).toBeNull();
  });
});

describe("describePreviewError", () => {
  it("says when to try again after a 429, once, from Retry-After", () => {
    const error = new VoiceApiError("Too many voice previews for this organization: at most 20 a minute; try again in 17 s", {
      status: 429,
      code: "PREVIEW_RATE_LIMITED",
      retryAfterSeconds: 12,
    });
    expect(describePreviewError(error)).toEqual({
      message: "Too many voice previews for this organization: at most 20 a minute.",
      hint: "Try again in 12 s.",
    });
    // Without a readable Retry-After (a cross-origin answer that does not expose it): the message's seconds.
    const hidden = new VoiceApiError("Too many voice previews for this organization: at most 20 a minute; try again in 17 s", { status: 429, code: "PREVIEW_RATE_LIMITED" });
    expect(describePreviewError(hidden).hint).toBe("Try again in 17 s.");
    const cartesia = new VoiceApiError("Cartesia is rate limiting this API key; try the preview again shortly", { status: 429, code: "TTS_PROVIDER_RATE_LIMITED" });
    expect(describePreviewError(cartesia).hint).toBe("Try again in a moment.");
  });

  it("tells who must fix the Cartesia key after a 424", () => {
    const missing = describePreviewError(new VoiceApiError("No Cartesia API key", { status: 424, code: "TTS_CREDENTIAL_MISSING" }));
    expect(missing.message).toBe("No Cartesia API key");
    expect(missing.hint).toMatch(/org admin must add a Cartesia API key/);
    const rejected = describePreviewError(new VoiceApiError("Cartesia rejected the API key", { status: 424, code: "TTS_CREDENTIAL_REJECTED" }));
    expect(rejected.hint).toMatch(/org admin must update .* Cartesia API key/);
  });

  it("shows other errors as they are", () => {
    expect(describePreviewError(new VoiceApiError("Unknown piper voice 'x'", { status: 400, code: "UNKNOWN_VOICE" }))).toEqual({
      message: "Unknown piper voice 'x'",
      hint: null,
    });
  });
});
