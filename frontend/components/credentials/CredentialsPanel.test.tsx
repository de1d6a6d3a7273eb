import { screen, waitFor, within } from "@testing-library/react";
import { setupUser } from "../../test/user";
import { describe, expect, it } from "vitest";
import { fakeApi, ok, page } from "../../test/fakeApi";
import { renderWithVoice } from "../../test/render";
import type { VoiceCredential } from "../../types";
import { CredentialsPanel } from "./CredentialsPanel";

const credential = (overrides: Partial<VoiceCredential> = {}): VoiceCredential => ({
  id: "cred-1",
  orgId: null,
  scope: "platform",
  serviceName: "daily",
  keyLast4: "1234",
  configMetadata: {},
  isActive: true,
  lastValidatedAt: null,
  createdAt: "2026-01-16T15:00:00Z",
  updatedAt: "2026-01-16T15:00:00Z",
  createdBy: "u",
  updatedBy: null,
  ...overrides,
});

describe("CredentialsPanel", () => {
  it("lists keys masked and validates one", async () => {
    const user = setupUser();
    const { api, calls } = fakeApi({
      "GET /credentials": () => page([credential(), credential({ id: "cred-2", serviceName: "deepgram", keyLast4: "9f3a" })]),
      "POST /credentials/:id/validate": (_r, p) =>
        ok(p.id === "cred-1" ? { id: "cred-1", serviceName: "daily", valid: true, reason: null, lastValidatedAt: "2026-01-16T16:00:00Z" } : { id: "cred-2", serviceName: "deepgram", valid: false, reason: "Deepgram rejected the API key (HTTP 401)", lastValidatedAt: null }),
    });
    renderWithVoice(<CredentialsPanel target={{ scope: "platform" }} />, { api });
    expect(await screen.findByLabelText("Key ending in 1234")).toHaveTextContent("••••••••1234");
    expect(calls[0]!.query.get("scope")).toBe("platform");
    await user.click(screen.getByLabelText("Validate the Daily (video rooms) key"));
    const dailyRow = document.querySelector<HTMLElement>("tr[data-service='daily']")!;
    expect(await within(dailyRow).findByText("Valid")).toBeInTheDocument();
    await user.click(screen.getByLabelText("Validate the Deepgram (speech-to-text) key"));
    expect(await screen.findByText("Rejected: Deepgram rejected the API key (HTTP 401)")).toBeInTheDocument();
  });

  it("saves a key without ever showing it again", async () => {
    const user = setupUser();
    const saved: VoiceCredential[] = [];
    const { api, calls } = fakeApi({
      "GET /credentials": () => page(saved),
      "POST /credentials": (req) => {
        const body = req.body as { serviceName: "cartesia"; apiKey: string; orgId: string };
        const c = credential({ serviceName: body.serviceName, keyLast4: body.apiKey.slice(-4), orgId: body.orgId, scope: "org" });
        saved.push(c);
        return { status: 201, body: { success: true, data: c } };
      },
    });
    renderWithVoice(<CredentialsPanel target={{ orgId: "org-1" }} />, { api });
    expect(await screen.findByText("No keys saved yet.")).toBeInTheDocument();
    expect(screen.getByText("Save key")).toBeDisabled();
    await user.selectOptions(screen.getByLabelText("Service"), "cartesia");
    await user.type(screen.getByLabelText(/^API key/), "sk-cartesia-secret-5678");
    expect(screen.getByLabelText(/^API key/)).toHaveAttribute("type", "password");
    await user.click(screen.getByText("Save key"));
    expect(await screen.findByText("Saved the Cartesia (text-to-speech) key ending in 5678.")).toBeInTheDocument();
    expect(screen.getByLabelText(/^API key/)).toHaveValue("");
    await waitFor(() => expect(screen.getByLabelText("Key ending in 5678")).toBeInTheDocument());
    expect(document.body).not.toHaveTextContent("sk-cartesia-secret");
    expect(calls.find((c) => c.method === "POST")!.body).toEqual({ orgId: "org-1", serviceName: "cartesia", apiKey: "sk-cartesia-secret-5678" });
  });
});
