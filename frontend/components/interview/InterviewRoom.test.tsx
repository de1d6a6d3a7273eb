import { screen, waitFor } from "@testing-library/react";
import { setupUser } from "../../test/user";
import { describe, expect, it, vi } from "vitest";
import type { DailyCallLike } from "../../hooks/useDailyRoom";
import { fakeApi } from "../../test/fakeApi";
import { renderWithVoice } from "../../test/render";
import { InterviewRoom } from "./InterviewRoom";

const ROOM = "https://example.daily.co/voice-1";

function fakeCall(join: () => Promise<unknown>): DailyCallLike & { destroyed: boolean } {
  const call = {
    destroyed: false,
    join: vi.fn(join),
    leave: vi.fn(async () => undefined),
    destroy: vi.fn(async () => {
      call.destroyed = true;
    }),
    setLocalAudio: vi.fn(),
    participants: () => ({ local: {}, bot: {} }),
    on: vi.fn(),
  };
  return call;
}

describe("InterviewRoom", () => {
  const { api } = fakeApi({});

  it("joins the room with the candidate token on request", async () => {
    const user = setupUser();
    const call = fakeCall(async () => ({}));
    renderWithVoice(<InterviewRoom roomUrl={ROOM} token="tok" status="ready" userName="Ada" createCall={async () => call} />, { api });
    await user.click(screen.getByRole("button", { name: "Join as candidate" }));
    expect(await screen.findByText(/You are in the room with 1 other participant/)).toBeInTheDocument();
    expect(call.join).toHaveBeenCalledWith({ url: ROOM, token: "tok", userName: "Ada" });
    await user.click(screen.getByRole("button", { name: "Mute microphone" }));
    expect(call.setLocalAudio).toHaveBeenCalledWith(false);
    expect(screen.getByRole("button", { name: "Unmute microphone" })).toHaveAttribute("aria-pressed", "true");
    await user.click(screen.getByRole("button", { name: "Leave room" }));
    await waitFor(() => expect(screen.getByRole("button", { name: "Join again" })).toBeInTheDocument());
    expect(call.destroyed).toBe(true);
  });

  it("degrades with a clear message when the call object cannot join", async () => {
    const user = setupUser();
    const call = fakeCall(async () => Promise.reject(new Error("Failed to load call object bundle")));
    renderWithVoice(<InterviewRoom roomUrl={ROOM} token="tok" status="active" createCall={async () => call} />, { api });
    await user.click(screen.getByRole("button", { name: "Join as candidate" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("The interview room could not be joined (Failed to load call object bundle)");
    expect(alert).toHaveTextContent("The interview itself is not affected");
    expect(call.destroyed).toBe(true);
    expect(screen.getByRole("button", { name: "Try again" })).toBeInTheDocument();
  });

  it("gives up on a join that never answers", async () => {
    const user = setupUser();
    const call = fakeCall(() => new Promise(() => undefined));
    renderWithVoice(<InterviewRoom roomUrl={ROOM} token="tok" status="ready" joinTimeoutMs={50} createCall={async () => call} />, { api });
    await user.click(screen.getByRole("button", { name: "Join as candidate" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("no answer from Daily");
  });

  it("explains the local stand-in, a pending session and a finished one", () => {
    const { rerender } = renderWithVoice(<InterviewRoom roomUrl={ROOM} token="standin.x" status="ready" />, { api, module: { dailyStandIn: true } });
    expect(screen.getByRole("note")).toHaveTextContent("this room comes from the Daily stand-in");
    expect(screen.queryByRole("button", { name: "Join as candidate" })).not.toBeInTheDocument();
    rerender(<InterviewRoom roomUrl={null} token={null} status="pending" standIn={false} />);
    expect(screen.getByText("The room opens when the interview is started.")).toBeInTheDocument();
    rerender(<InterviewRoom roomUrl={ROOM} token="t" status="completed" standIn={false} />);
    expect(screen.getByText("The interview has ended; the room is closed.")).toBeInTheDocument();
  });
});
