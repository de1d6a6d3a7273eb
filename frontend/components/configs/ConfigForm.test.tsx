import { screen, waitFor } from "@testing-library/react";
import { setupUser } from "../../test/user";
import { describe, expect, it, vi } from "vitest";
import { config } from "../../test/fixtures";
import { fail, fakeApi, ok, type FakeResponse } from "../../test/fakeApi";
import { ORG, renderWithVoice } from "../../test/render";
import type { VoiceConfig, VoicePreview } from "../../types";
import { ConfigForm } from "./ConfigForm";

// The form is large: text goes in with paste (one change event) and lookups are by label or text rather
// than by role (which computes every accessible name), to keep the suite fast in jsdom.
function setup() {
  const user = setupUser();
  const fill = async (element: HTMLElement, text: string) => {
    await user.clear(element);
    await user.click(element);
    await user.paste(text);
  };
  return { user, fill };
}

describe("ConfigForm", () => {
  it("creates a configuration with questions and weighted criteria", async () => {
    const { user, fill } = setup();
    const { api, calls } = fakeApi({
      "POST /configs": (req) => ({ status: 201, body: { success: true, data: config({ id: "new", ...(req.body as Partial<VoiceConfig>) }) } }),
    });
    const onSaved = vi.fn();
    renderWithVoice(<ConfigForm orgId={ORG} onSaved={onSaved} />, { api });
    await fill(screen.getByLabelText(/^Name/), "Screen");
    await fill(screen.getByLabelText(/^Interview type/), "technical");
    await user.selectOptions(screen.getByLabelText("Voice provider"), "piper");
    await fill(screen.getByLabelText("Temperature"), "0.4");
    await user.click(screen.getByText("Add question"));
    // The new question's text field has the focus (keyboard users keep typing).
    expect(screen.getAllByLabelText("Question text")[0]).toHaveFocus();
    await user.paste("What did you build?");
    await user.click(screen.getByText("Add question"));
    await user.paste("How did you test it?");
    await user.click(screen.getByLabelText("Move question 2 up"));
    await user.click(screen.getByText("Add criterion"));
    await user.paste("communication");
    await fill(screen.getAllByLabelText("Weight")[0]!, "1");
    await user.click(screen.getByText("Add criterion"));
    await user.paste("depth");
    await fill(screen.getAllByLabelText("Weight")[1]!, "3");
    expect(screen.getByText("75 % of the score")).toBeInTheDocument();
    await user.click(screen.getByText("Create configuration"));

    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    const sent = calls.find((c) => c.method === "POST")!.body;
    expect(sent).toEqual({
      orgId: ORG,
      name: "Screen",
      interviewType: "technical",
      description: null,
      isActive: true,
      configJson: {
        voice: { provider: "piper" },
        llm: { temperature: 0.4 },
        interview: {
          questions: [
            { id: "q2", text: "How did you test it?" },
            { id: "q1", text: "What did you build?" },
          ],
          scoring_rubric: {
            criteria: [
              { name: "communication", weight: 1 },
              { name: "depth", weight: 3 },
            ],
          },
        },
      },
    });
  });

  it("shows the API's field errors on their inputs and lists the others", async () => {
    const { user, fill } = setup();
    const { api } = fakeApi({
      "POST /configs": () =>
        fail(400, "VALIDATION_ERROR", "Invalid request", [
          { field: "configJson.voice.provider", message: "Input should be 'cartesia', 'kokoro' or 'piper'" },
          { field: "configJson.interview.questions[0].text", message: "String should have at least 1 character" },
          { field: "configJson.interview.scoring_rubric.criteria", message: "give a weight for every criterion or for none (1 of 2 have one)" },
          { field: "configJson.somethingNew", message: "Extra inputs are not permitted" },
        ]),
    });
    renderWithVoice(<ConfigForm orgId={ORG} />, { api });
    await fill(screen.getByLabelText(/^Name/), "Screen");
    await fill(screen.getByLabelText(/^Interview type/), "technical");
    await user.click(screen.getByText("Add question"));
    await user.click(screen.getByText("Create configuration"));

    const provider = screen.getByLabelText("Voice provider");
    await waitFor(() => expect(provider).toHaveAttribute("aria-invalid", "true"));
    expect(provider).toHaveAccessibleDescription(/Input should be 'cartesia', 'kokoro' or 'piper'/);
    const text = screen.getByLabelText("Question text");
    expect(text).toHaveAttribute("aria-invalid", "true");
    expect(text).toHaveAccessibleDescription("String should have at least 1 character");
    expect(screen.getByText("give a weight for every criterion or for none (1 of 2 have one)")).toHaveClass("voice-field__error");
    const alert = screen.getByRole("alert");
    expect(alert).toHaveTextContent("Some fields need attention.");
    expect(alert).toHaveTextContent("configJson.somethingNew: Extra inputs are not permitted");
    expect(screen.getByLabelText(/^Name/)).toHaveAttribute("aria-invalid", "false");
  });

  it("edits a configuration: loads its document, sends the changes with PUT", async () => {
    const { user, fill } = setup();
    const existing = config();
    const { api, calls } = fakeApi({ "PUT /configs/:id": (req) => ok({ ...existing, ...(req.body as object), version: 2 }) });
    const onSaved = vi.fn();
    renderWithVoice(<ConfigForm orgId={ORG} config={existing} onSaved={onSaved} />, { api });
    expect(screen.getByRole("heading", { name: `Edit configuration “${existing.name}”` })).toBeInTheDocument();
    expect(screen.getByLabelText("Bot name")).toHaveValue("Interview Assistant");
    expect(screen.getAllByLabelText("Question text")).toHaveLength(2);
    await user.click(screen.getByLabelText("Remove question 2"));
    await fill(screen.getByLabelText("Bot name"), "Grace");
    await user.click(screen.getByText("Save changes"));
    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    const put = calls.find((c) => c.method === "PUT")!;
    expect(put.path).toBe(`/configs/${existing.id}`);
    const doc = (put.body as { configJson: { bot_name: string; interview: { questions: unknown[] } } }).configJson;
    expect(doc.bot_name).toBe("Grace");
    expect(doc.interview.questions).toHaveLength(1);
  });

  it("refuses a number that is not one before calling the API", async () => {
    const { user, fill } = setup();
    const { api, calls } = fakeApi({});
    renderWithVoice(<ConfigForm orgId={ORG} />, { api });
    await fill(screen.getByLabelText(/^Name/), "x");
    await fill(screen.getByLabelText(/^Interview type/), "x");
    await fill(screen.getByLabelText("Follow-ups per question"), "1.5");
    await user.click(screen.getByText("Create configuration"));
    expect(screen.getByLabelText("Follow-ups per question")).toHaveAccessibleDescription(/must be a whole number/);
    expect(calls).toHaveLength(0);
  });

  describe("Preview voice", () => {
    const answer = (overrides: Partial<VoicePreview> = {}): VoicePreview => ({
      audioUrl: "http://127.0.0.1:4566/voice-transcripts/previews/org/abc.wav?X-Amz-Signature=1",
      expiresAt: "2026-01-16T15:05:00Z",
      audioBase64: null,
      mimeType: "audio/wav",
      sampleRate: 22050,
      durationMs: 2480,
      cached: false,
      provider: "piper",
      voiceId: "en_US-joe-medium",
      speed: 1.2,
      text: "Hello.",
      textTruncated: false,
      ...overrides,
    });

    it("sends the form's voice and opening message (cut to 300 characters), then plays the audio", async () => {
      const { user, fill } = setup();
      let release: (r: FakeResponse) => void = () => undefined;
      const { api, calls } = fakeApi({ "POST /preview": () => new Promise<FakeResponse>((resolve) => (release = resolve)) });
      renderWithVoice(<ConfigForm orgId={ORG} />, { api });
      await user.selectOptions(screen.getByLabelText("Voice provider"), "piper");
      await fill(screen.getByLabelText("Voice id"), " en_US-joe-medium ");
      await fill(screen.getByLabelText("Speed"), "1.2");
      await fill(screen.getByLabelText("Voice model"), "not-for-piper");
      const first = "Hello! I am Grace, and I will be your interviewer today.";
      await fill(screen.getByLabelText("Opening message"), `${first} ${"We will talk about the systems you have built. ".repeat(8)}`);

      const button = screen.getByText("Preview voice").closest("button")!;
      expect(button).toBeEnabled();
      expect(button).toHaveAccessibleName("Preview voice");
      expect(button).toHaveAccessibleDescription("Speaks the opening message, shortened to 300 characters.");
      // keyboard operable
      button.focus();
      await user.keyboard("{Enter}");
      await waitFor(() => expect(calls).toHaveLength(1));
      expect(button).toBeDisabled();
      expect(button).toHaveAttribute("aria-busy", "true");
      expect(screen.getByText("Generating the preview…")).toHaveAttribute("role", "status");

      const sent = calls[0]!;
      expect(sent.method).toBe("POST");
      expect(sent.path).toBe("/preview");
      const body = sent.body as { orgId: string; voice: unknown; text: string };
      expect(body).toEqual({ orgId: ORG, voice: { provider: "piper", voiceId: "en_US-joe-medium", speed: 1.2 }, text: expect.any(String) as string });
      expect(Array.from(body.text).length).toBeLessThanOrEqual(300);
      expect(body.text.startsWith(first)).toBe(true);
      expect(body.text.endsWith("built.")).toBe(true);

      release(ok(answer({ cached: true })));
      const audio = await screen.findByLabelText("Voice preview, Piper en_US-joe-medium");
      expect(audio.tagName).toBe("AUDIO");
      expect(audio).toHaveAttribute("controls");
      expect(audio).toHaveAttribute("src", answer().audioUrl);
      expect(screen.getByText("Preview ready: 2.5 s, from the cache.")).toBeInTheDocument();
      expect(audio).toHaveAccessibleDescription(/2\.5 s · from the cache/);
      expect(button).toBeEnabled();
      expect(button).toHaveAttribute("aria-busy", "false");
      expect(calls.filter((c) => c.path.startsWith("/configs"))).toHaveLength(0); // nothing was saved
    });

    it("plays an inline WAV as a data: URL and previews an edited configuration's unsaved voice", async () => {
      const { user, fill } = setup();
      const { api, calls } = fakeApi({ "POST /preview": () => ok(answer({ audioUrl: null, expiresAt: null, audioBase64: "UklGRg==", provider: "cartesia", voiceId: "a0e9" })) });
      renderWithVoice(<ConfigForm orgId={ORG} config={config()} />, { api });
      await fill(screen.getByLabelText("Voice id"), "a0e9");
      await user.click(screen.getByText("Preview voice"));
      const audio = await screen.findByLabelText("Voice preview, Cartesia a0e9");
      expect(audio).toHaveAttribute("src", "data:audio/wav;base64,UklGRg==");
      // The saved configuration has no opening message: the API speaks its greeting.
      expect(calls[0]!.body).toEqual({ orgId: ORG, voice: { provider: "cartesia", voiceId: "a0e9", speed: 1 } });
    });

    it("says when to try again after a 429 and who must fix the Cartesia key after a 424", async () => {
      const { user } = setup();
      let attempt = 0;
      const { api } = fakeApi({
        "POST /preview": () =>
          ++attempt === 1
            ? fail(429, "PREVIEW_RATE_LIMITED", "Too many voice previews for this organization: at most 20 a minute; try again in 12 s", { limitPerMinute: 20 }, { "Retry-After": "12" })
            : fail(424, "TTS_CREDENTIAL_REJECTED", "Cartesia rejected the organization's API key"),
      });
      renderWithVoice(<ConfigForm orgId={ORG} config={config()} />, { api });
      await user.click(screen.getByText("Preview voice"));
      const alert = await screen.findByRole("alert");
      expect(alert).toHaveTextContent("Too many voice previews for this organization: at most 20 a minute.");
      expect(alert).toHaveTextContent("Try again in 12 s.");
      await user.click(screen.getByText("Preview voice"));
      await waitFor(() => expect(screen.getByRole("alert")).toHaveTextContent("Cartesia rejected the organization's API key"));
      expect(screen.getByRole("alert")).toHaveTextContent(/An org admin must update this organization's Cartesia API key/);
      expect(screen.queryByLabelText(/^Voice preview/)).toBeNull();
    });

    it("is disabled, with the reason, for a provider the preview cannot do", async () => {
      const { user } = setup();
      const { api, calls } = fakeApi({});
      renderWithVoice(<ConfigForm orgId={ORG} />, { api });
      const button = screen.getByText("Preview voice").closest("button")!;
      // The default provider is cartesia, which needs a voice id.
      expect(button).toBeDisabled();
      expect(button).toHaveAccessibleDescription("Enter a Cartesia voice id to preview the voice.");
      await user.selectOptions(screen.getByLabelText("Voice provider"), "kokoro");
      expect(button).toBeDisabled();
      expect(button).toHaveAccessibleDescription("Kokoro voices cannot be previewed: previews support Cartesia and Piper.");
      await user.click(button);
      expect(calls).toHaveLength(0);
    });
  });
});
