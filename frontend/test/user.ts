import userEvent, { PointerEventsCheckLevel } from "@testing-library/user-event";

/**
 * user-event without its per-action CSS checks (pointer-events via getComputedStyle on every ancestor,
 * hover sequences): in jsdom they cost most of a test's time and these tests do not depend on them.
 */
export function setupUser() {
  return userEvent.setup({ delay: null, pointerEventsCheck: PointerEventsCheckLevel.Never, skipHover: true });
}
