import { render, screen } from "@testing-library/react";
import { setupUser } from "../../test/user";
import { describe, expect, it, vi } from "vitest";
import { analytics, SESSION_ID } from "../../test/fixtures";
import { ORG } from "../../test/render";
import { AnalyticsSummary } from "./AnalyticsSummary";

describe("AnalyticsSummary", () => {
  it("shows the score, a chart of the categories, the findings and the metrics", () => {
    render(<AnalyticsSummary analytics={analytics()} />);
    expect(screen.getByTestId("overall-score")).toHaveTextContent("82.5");
    const chart = screen.getByRole("img", { name: /Scores by category/ });
    expect(chart).toHaveAccessibleName(/Communication: 85 \(25 %\); Technical depth: 80 \(75 %\)/);
    expect(chart.querySelectorAll(".voice-chart__bar")).toHaveLength(2);
    expect(screen.getByText("Clear examples")).toBeInTheDocument();
    expect(screen.getByText("Few trade-offs")).toBeInTheDocument();
    expect(screen.getByText("Candidate share of talk time").nextSibling).toHaveTextContent("50 %");
    expect(screen.getByText("Questions asked").nextSibling).toHaveTextContent("1 of 2");
  });

  it("lists key moments in time order; choosing one reports it (keyboard too)", async () => {
    const user = setupUser();
    const onMomentSelect = vi.fn();
    render(<AnalyticsSummary analytics={analytics()} onMomentSelect={onMomentSelect} />);
    const buttons = screen.getAllByRole("button", { name: /Show in transcript/ });
    expect(buttons[0]).toHaveAccessibleName("Highlight at 0:08: The system. Show in transcript");
    buttons[1]!.focus();
    await user.keyboard("{Enter}");
    expect(onMomentSelect).toHaveBeenCalledWith(expect.objectContaining({ quote: "a dead-letter queue" }), 0);
  });

  it("says when the analysis is still running, skipped or failed", async () => {
    const user = setupUser();
    const { rerender } = render(<AnalyticsSummary analytics={{ sessionId: SESSION_ID, orgId: ORG, sessionStatus: "active", status: "not_started" }} />);
    expect(screen.getByText("The analysis starts when the interview has finished.")).toBeInTheDocument();
    rerender(<AnalyticsSummary analytics={analytics({ status: "running", overallScore: null })} />);
    expect(screen.getByRole("status")).toHaveTextContent("The interview is being scored…");
    rerender(<AnalyticsSummary analytics={analytics({ status: "skipped", error: "No LLM provider is configured", overallScore: null })} />);
    expect(screen.getByRole("note")).toHaveTextContent("This interview was not scored: No LLM provider is configured");
    expect(screen.getByText("Conversation metrics")).toBeInTheDocument();
    const onRegenerate = vi.fn();
    rerender(<AnalyticsSummary analytics={analytics({ status: "failed", error: "LLM unavailable", overallScore: null })} onRegenerate={onRegenerate} />);
    expect(screen.getByRole("alert")).toHaveTextContent("The analysis failed: LLM unavailable");
    await user.click(screen.getByRole("button", { name: "Analyse again" }));
    expect(onRegenerate).toHaveBeenCalled();
  });
});
