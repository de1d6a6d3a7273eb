import { screen, waitFor } from "@testing-library/react";
import { setupUser } from "../../test/user";
import { describe, expect, it } from "vitest";
import { session } from "../../test/fixtures";
import { fail, fakeApi, page } from "../../test/fakeApi";
import { ORG, renderWithVoice } from "../../test/render";
import { SessionList } from "./SessionList";

describe("SessionList", () => {
  it("shows loading, then the sessions with their status and a link to each", async () => {
    const { api, calls } = fakeApi({
      "GET /sessions": () =>
        page([session({ id: "s1", candidateName: "Ada", status: "active" }), session({ id: "s2", candidateName: null, status: "failed", failureReason: "candidate_no_show" })]),
    });
    renderWithVoice(<SessionList orgId={ORG} />, { api });
    expect(screen.getByRole("status")).toHaveTextContent("Loading interviews…");
    const link = await screen.findByRole("link", { name: "Ada" });
    expect(link).toHaveAttribute("href", "/voice/sessions/s1");
    expect(screen.getAllByRole("article")[0]).toHaveTextContent("In progress");
    expect(screen.getByRole("link", { name: "Unnamed candidate" })).toBeInTheDocument();
    expect(screen.getByText("Reason: candidate_no_show")).toBeInTheDocument();
    expect(calls[0]!.query.get("orgId")).toBe(ORG);
    expect(calls[0]!.query.get("sortOrder")).toBe("desc");
  });

  it("filters by status", async () => {
    const user = setupUser();
    const { api, calls } = fakeApi({ "GET /sessions": (req) => page(req.query.get("status") === "completed" ? [] : [session()]) });
    renderWithVoice(<SessionList orgId={ORG} />, { api });
    await screen.findByRole("link", { name: "John Doe" });
    await user.selectOptions(screen.getByLabelText("Status"), "completed");
    expect(await screen.findByText("No interviews with this status.")).toBeInTheDocument();
    expect(calls.at(-1)!.query.get("status")).toBe("completed");
  });

  it("shows an error with a retry", async () => {
    const user = setupUser();
    let answer: { status?: number; body: unknown } = fail(404, "ORG_NOT_FOUND", "Organization not found (or you are not a member of it)");
    const { api } = fakeApi({ "GET /sessions": () => answer });
    renderWithVoice(<SessionList orgId={ORG} />, { api });
    expect(await screen.findByRole("alert")).toHaveTextContent("Organization not found (or you are not a member of it)");
    answer = page([]);
    await user.click(screen.getByRole("button", { name: "Try again" }));
    await waitFor(() => expect(screen.getByText("No interviews yet. Create one to get started.")).toBeInTheDocument());
  });
});
