"""No silent skips: a skipped test must say why, and the run prints how many tests were skipped.

Registered for the main suite in tests/conftest.py (``pytest_plugins``) and loaded into the bot's suite by
the Makefile (``-p skips`` with this folder on PYTHONPATH), so it imports nothing but pytest.

A skip whose reason is empty or pytest's default (``pytest.skip()``, a bare ``@pytest.mark.skip``:
"unconditional skip") fails the run (exit status 1) even when every test passed; the summary names it.
Expected failures (xfail) are not skips.
"""

from __future__ import annotations

from typing import Any

import pytest

# What pytest reports when the author gave no reason.
DEFAULT_REASONS = frozenset({"", "unconditional skip", "skipped", "skip", "no reason"})


def skip_reason(report: Any) -> str:
    """The reason text of a skipped test or collector report (without pytest's ``Skipped: `` prefix)."""
    longrepr = report.longrepr
    text = str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr or "")
    text = text.strip()
    if text.startswith("Skipped:"):
        text = text[len("Skipped:") :].strip()
    return text


def is_silent(reason: str) -> bool:
    return reason.strip().lower().rstrip(".") in DEFAULT_REASONS


class SkipLedger:
    """Records every skip of the session; fails the session on a silent one."""

    def __init__(self) -> None:
        self.skipped: list[tuple[str, str]] = []
        self.silent: list[tuple[str, str]] = []

    def _record(self, report: Any) -> None:
        if not report.skipped or hasattr(report, "wasxfail"):
            return
        reason = skip_reason(report)
        self.skipped.append((report.nodeid, reason))
        if is_silent(reason):
            self.silent.append((report.nodeid, reason))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._record(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._record(report)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.silent and exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.silent:
            terminalreporter.section("skips without a reason", sep="=", red=True, bold=True)
            for nodeid, reason in self.silent:
                terminalreporter.write_line(f"{nodeid}: {reason or '(empty reason)'}")
            terminalreporter.write_line(
                f"{len(self.silent)} skip(s) without a reason: give pytest.skip() / mark.skip a reason"
            )
            terminalreporter.write_line(f"skips: {len(self.skipped)}, {len(self.silent)} without a reason")
        else:
            terminalreporter.write_line(f"skips: {len(self.skipped)} (each with a reason)")


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("skip-ledger"):
        config.pluginmanager.register(SkipLedger(), "skip-ledger")
