"""Shared fixtures: the toy vendor is registered for the whole test run; tests record
figures worth showing with ``summary`` (never print), shown under "taskhub figures"."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from taskhub import registry
from taskhub.testing import Simulation, simulate
from tests.chromium import browser  # noqa: F401 (the fixture, for the page's tests)


def pytest_configure(config: pytest.Config) -> None:
    registry.register_adapter("toy", "tests.toy:ToyAdapter", replace=True)


#: Lines recorded through ``summary`` during the run, in order.
FIGURES: list[str] = []


@pytest.fixture(scope="session")
def summary() -> Callable[[str], None]:
    """Record one line for the "taskhub figures" section at the end of the run."""
    return FIGURES.append


@pytest.fixture
def toy() -> Iterator[Simulation]:
    """The toy vendor's simulator on loopback, with a manual clock."""
    with simulate("toy") as sim:
        yield sim


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Show the recorded figures and what the contract suite's leak guard checked."""
    from taskhub.testing.contract import LeakGuard

    lines = list(FIGURES)
    totals = LeakGuard.totals
    if totals["tests"]:
        lines.append(
            "secrets: {tests} contract tests, {log records} DEBUG log records and {objects} "
            "tasks/errors checked against {secrets} secrets: {leaks} leaks".format(**totals)
        )
    if lines:
        terminalreporter.section("taskhub figures")
        for line in lines:
            terminalreporter.write_line(line)
