import { screen, waitFor } from "@testing-library/react";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { analytics, session, SESSION_ID, transcript } from "../test/fixtures";
import { fail, fakeApi, ok, page } from "../test/fakeApi";
import { renderWithVoice } from "../test/render";
import { setupUser } from "../test/user";
import { latestStatus, VoiceSessionDetailPage } from "./VoiceSessionDetailPage";

let wss: WebSocketServer;
let websocketUrl: string;
const subscribes: unknown[] = [];

beforeEach(async () => {
  subscribes.length = 0;
  wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  websocketUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`;
  wss.on("connection", (socket) => {
    socket.on("message", (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { action: string; sessionId: string };
      subscribes.push(message);
      socket.send(JSON.stringify({ v: 1, type: "subscribed", sessionId: message.sessionId, status: "pending", afterSeq: null }));
      socket.send(JSON.stringify({ v: 1, type: "transcript.backlog", sessionId: message.sessionId, segments: [], complete: true }));
    });
  });
});

afterEach(async () => {
  for (const client of wss.clients) client.terminate();
  await new Promise((resolve) => wss.close(resolve));
});

describe("VoiceSessionDetailPage", () => {
  it("says 'not found' for a session of another organization (404), without a live connection", async () => {
    const { api } = fakeApi({ "GET /sessions/:id": () => fail(404, "SESSION_NOT_FOUND", "Session not found") });
    renderWithVoice(<VoiceSessionDetailPage sessionId={SESSION_ID} />, { api, module: { websocketUrl } });
    expect(await screen.findByRole("heading", { name: "Interview not found", level: 1 })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Back to interviews" })).toHaveAttribute("href", "/voice");
    expect(wss.clients.size).toBe(0);
  });

  it("starts a pending session and shows the room", async () => {
    const user = setupUser();
    let current = session();
    const { api, calls } = fakeApi({
      "GET /sessions/:id": () => ok(current),
      "POST /sessions/:id/start": () => {
        current = session({ status: "ready", dailyRoomUrl: "https://x.daily.co/voice-1", dailyRoomToken: "standin.t", dispatchMode: "pool" });
        return ok({ id: SESSION_ID, status: "ready", dailyRoomUrl: current.dailyRoomUrl, dailyRoomName: "voice-1", dailyRoomToken: "standin.t", dispatchMode: "pool", ecsTaskArn: null, dispatchedAt: null, alreadyStarted: false });
      },
    });
    renderWithVoice(<VoiceSessionDetailPage sessionId={SESSION_ID} />, { api, module: { websocketUrl, dailyStandIn: true } });
    expect(await screen.findByRole("heading", { name: "John Doe", level: 1 })).toBeInTheDocument();
    await waitFor(() => expect(subscribes).toEqual([{ action: "subscribe", sessionId: SESSION_ID }]));
    expect(screen.getByText("The room opens when the interview is started.")).toBeInTheDocument();
    await user.click(screen.getByText("Start interview"));
    await waitFor(() => expect(document.querySelector(".voice-page__status [data-status]")).toHaveAttribute("data-status", "ready"));
    expect(calls.some((c) => c.method === "POST" && c.path === `/sessions/${SESSION_ID}/start`)).toBe(true);
    expect(screen.getByRole("note")).toHaveTextContent("Daily stand-in");
    expect(screen.getByText("Standby pool")).toBeInTheDocument();
  });

  it("shows a finished session's transcript and analysis; a key moment jumps to its quote", async () => {
    const user = setupUser();
    const { api } = fakeApi({
      "GET /sessions/:id": () => ok(session({ status: "completed", durationSeconds: 14, completedAt: "2026-01-16T14:10:00Z" })),
      "GET /transcripts": () => page([transcript()]),
      "GET /transcripts/:id": () => ok(transcript()),
      "GET /analytics/:id": () => ok(analytics()),
    });
    renderWithVoice(<VoiceSessionDetailPage sessionId={SESSION_ID} />, { api, module: { websocketUrl } });
    expect(await screen.findByTestId("overall-score")).toHaveTextContent("82.5");
    await screen.findByText("I built an event pipeline on AWS.");
    expect(screen.queryByText("Start interview")).not.toBeInTheDocument();
    await user.click(screen.getByLabelText("Strength at 0:11: Reliability. Show in transcript"));
    const focused = document.activeElement as HTMLElement;
    expect(focused.dataset.seq).toBe("5");
    expect(focused).toHaveTextContent("It used a dead-letter queue for failures.");
  });

  it("takes the later of the pushed and the fetched status", () => {
    expect(latestStatus("ready", "active")).toBe("active");
    expect(latestStatus("completed", "active")).toBe("completed");
    expect(latestStatus(undefined, "ready")).toBe("ready");
    expect(latestStatus("pending", null)).toBe("pending");
  });
});
