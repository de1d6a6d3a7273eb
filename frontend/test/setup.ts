import "@testing-library/jest-dom/vitest";
import { cleanup, configure } from "@testing-library/react";
import { afterEach } from "vitest";

// getByRole's visibility check (getComputedStyle on every ancestor) dominates queries in jsdom; none of
// these tests hide elements with CSS, so skip it.
configure({ defaultHidden: true });

afterEach(() => {
  if (typeof document === "undefined") return; // node-environment tests (lib/*)
  cleanup();
  localStorage.clear();
});
