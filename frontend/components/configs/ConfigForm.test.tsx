import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { config } from "../../test/fixtures";
import { fail, fakeApi, ok } from "../../test/fakeApi";
import { ORG, renderWithVoice } from "../../test/render";
import type { VoiceConfig } from "../../types";
import { ConfigForm } from "./ConfigForm";

describe("ConfigForm", () => {
  it("creates a configuration with questions and weighted criteria", async () => {
    const user = userEvent.setup();
    const { api, calls } = fakeApi({
      "POST /configs": (req) => ({ status: 201, body: { success: true, data: config({ id: "new", ...(req.body as object) } as Partial<VoiceConfig>) } }),
    });
    const onSaved = vi.fn();
    renderWithVoice(<ConfigForm orgId={ORG} onSaved={onSaved} />, { api });
    const form = screen.getByRole("form", { name: "New configuration" });
    await user.type(within(form).getByLabelText(/^Name/), "Screen");
    await user.type(within(form).getByLabelText(/^Interview type/), "technical");
    await user.selectOptions(within(form).getByLabelText("Voice provider"), "piper");
    await user.type(within(form).getByLabelText("Temperature"), "0.4");
    await user.click(screen.getByRole("button", { name: "Add question" }));
    // The new question's text field has the focus (keyboard users keep typing).
    expect(within(screen.getByRole("group", { name: "Question 1" })).getByLabelText("Question text")).toHaveFocus();
    await user.keyboard("What did you build?");
    await user.click(screen.getByRole("button", { name: "Add question" }));
    await user.type(within(screen.getByRole("group", { name: "Question 2" })).getByLabelText("Question text"), "How did you test it?");
    await user.click(screen.getByRole("button", { name: "Move question 2 up" }));
    await user.click(screen.getByRole("button", { name: "Add criterion" }));
    await user.keyboard("communication");
    await user.type(within(screen.getByRole("group", { name: "Criterion 1" })).getByLabelText("Weight"), "1");
    await user.click(screen.getByRole("button", { name: "Add criterion" }));
    await user.type(within(screen.getByRole("group", { name: "Criterion 2" })).getByLabelText("Criterion name"), "depth");
    await user.type(within(screen.getByRole("group", { name: "Criterion 2" })).getByLabelText("Weight"), "3");
    expect(screen.getByText("75 % of the score")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Create configuration" }));

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
    const user = userEvent.setup();
    const { api } = fakeApi({
      "POST /configs": () =>
        fail(400, "VALIDATION_ERROR", "Invalid request", [
          { field: "configJson.voice.provider", message: "Input should be 'cartesia', 'kokoro' or 'piper'" },
          { field: "configJson.interview.questions[0].text", message: "String should have at least 1 character" },
          { field: "configJson.interview.scoringRubric.criteria", message: "give a weight for every criterion or for none (1 of 2 have one)" },
          { field: "configJson.somethingNew", message: "Extra inputs are not permitted" },
        ]),
    });
    renderWithVoice(<ConfigForm orgId={ORG} />, { api });
    await user.type(screen.getByLabelText(/^Name/), "Screen");
    await user.type(screen.getByLabelText(/^Interview type/), "technical");
    await user.click(screen.getByRole("button", { name: "Add question" }));
    await user.click(screen.getByRole("button", { name: "Create configuration" }));

    const provider = await screen.findByLabelText("Voice provider");
    await waitFor(() => expect(provider).toHaveAttribute("aria-invalid", "true"));
    expect(provider).toHaveAccessibleDescription(/Input should be 'cartesia', 'kokoro' or 'piper'/);
    const text = within(screen.getByRole("group", { name: "Question 1" })).getByLabelText("Question text");
    expect(text).toHaveAttribute("aria-invalid", "true");
    expect(text).toHaveAccessibleDescription("String should have at least 1 character");
    expect(screen.getByRole("group", { name: "Scoring rubric" })).toHaveAccessibleDescription(/give a weight for every criterion/);
    const alert = screen.getByRole("alert");
    expect(alert).toHaveTextContent("Some fields need attention.");
    expect(alert).toHaveTextContent("configJson.somethingNew: Extra inputs are not permitted");
    expect(screen.getByLabelText(/^Name/)).toHaveAttribute("aria-invalid", "false");
  });

  it("edits a configuration: loads its document, sends the changes with PUT", async () => {
    const user = userEvent.setup();
    const existing = config();
    const { api, calls } = fakeApi({ "PUT /configs/:id": (req) => ok({ ...existing, ...(req.body as object), version: 2 }) });
    const onSaved = vi.fn();
    renderWithVoice(<ConfigForm orgId={ORG} config={existing} onSaved={onSaved} />, { api });
    expect(screen.getByRole("heading", { name: `Edit configuration “${existing.name}”` })).toBeInTheDocument();
    expect(screen.getByLabelText("Bot name")).toHaveValue("Interview Assistant");
    expect(screen.getAllByLabelText("Question text")).toHaveLength(2);
    await user.click(screen.getByRole("button", { name: "Remove question 2" }));
    await user.clear(screen.getByLabelText("Bot name"));
    await user.type(screen.getByLabelText("Bot name"), "Grace");
    await user.click(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    const put = calls.find((c) => c.method === "PUT")!;
    expect(put.path).toBe(`/configs/${existing.id}`);
    const doc = (put.body as { configJson: { bot_name: string; interview: { questions: unknown[] } } }).configJson;
    expect(doc.bot_name).toBe("Grace");
    expect(doc.interview.questions).toHaveLength(1);
  });

  it("refuses a number that is not one before calling the API", async () => {
    const user = userEvent.setup();
    const { api, calls } = fakeApi({});
    renderWithVoice(<ConfigForm orgId={ORG} />, { api });
    await user.type(screen.getByLabelText(/^Name/), "x");
    await user.type(screen.getByLabelText(/^Interview type/), "x");
    await user.type(screen.getByLabelText("Follow-ups per question"), "1.5");
    await user.click(screen.getByRole("button", { name: "Create configuration" }));
    expect(screen.getByLabelText("Follow-ups per question")).toHaveAccessibleDescription(/must be a whole number/);
    expect(calls).toHaveLength(0);
  });
});
