import { screen, waitFor } from "@testing-library/react";
import { setupUser } from "../../test/user";
import { describe, expect, it, vi } from "vitest";
import { config } from "../../test/fixtures";
import { fail, fakeApi, ok } from "../../test/fakeApi";
import { ORG, renderWithVoice } from "../../test/render";
import type { VoiceConfig } from "../../types";
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
});
