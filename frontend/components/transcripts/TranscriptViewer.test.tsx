import { render, screen, within } from "@testing-library/react";
import { setupUser } from "../../test/user";
import { describe, expect, it } from "vitest";
import { fromStoredSegments } from "../../lib/transcript";
import { SEGMENTS } from "../../test/fixtures";
import { TranscriptViewer } from "./TranscriptViewer";

const segments = fromStoredSegments(SEGMENTS);

describe("TranscriptViewer", () => {
  it("renders speaker turns with their timestamps", () => {
    render(<TranscriptViewer segments={segments} />);
    const turns = screen.getAllByRole("listitem");
    expect(turns).toHaveLength(4); // the two consecutive candidate segments are one turn
    expect(within(turns[3]!).getByText("Candidate")).toBeInTheDocument();
    expect(within(turns[3]!).getByText("0:08")).toBeInTheDocument();
    expect(turns[3]!.querySelectorAll("[data-seq]")).toHaveLength(2);
  });

  it("searches: counts and highlights the matches, hides the other turns", async () => {
    const user = setupUser();
    render(<TranscriptViewer segments={segments} />);
    await user.type(screen.getByLabelText("Search transcript"), "DEAD-letter");
    expect(screen.getByText("1 match in 1 segment")).toBeInTheDocument();
    expect(screen.getAllByRole("listitem")).toHaveLength(1);
    expect(document.querySelector("mark")).toHaveTextContent("dead-letter");
    await user.clear(screen.getByLabelText("Search transcript"));
    await user.type(screen.getByLabelText("Search transcript"), "zebra");
    expect(screen.getByText(/No part of the transcript matches/)).toBeInTheDocument();
  });

  it("focuses a segment it is asked to show", () => {
    const { rerender } = render(<TranscriptViewer segments={segments} focus={null} />);
    rerender(<TranscriptViewer segments={segments} focus={{ seq: 4, nonce: 1 }} />);
    const target = document.querySelector("[data-seq='4']");
    expect(target).toHaveFocus();
    expect(target).toHaveClass("voice-segment--focused");
  });

  it("says when there is nothing yet", () => {
    render(<TranscriptViewer segments={[]} emptyMessage="Nothing was said yet." />);
    expect(screen.getByText("Nothing was said yet.")).toBeInTheDocument();
    expect(screen.queryByLabelText("Search transcript")).not.toBeInTheDocument();
  });
});
