"""Shared fixtures: the toy vendor is registered for the whole test run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from taskhub import registry
from taskhub.testing import Simulation, simulate


def pytest_configure(config: pytest.Config) -> None:
    registry.register_adapter("toy", "tests.toy:ToyAdapter", replace=True)


@pytest.fixture
def toy() -> Iterator[Simulation]:
    """The toy vendor's simulator on loopback, with a manual clock."""
    with simulate("toy") as sim:
        yield sim


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print what the contract suite's leak guard checked over the whole run."""
    from taskhub.testing.contract import LeakGuard

    totals = LeakGuard.totals
    if totals["tests"]:
        terminalreporter.write_line(
            "secrets: {tests} contract tests, {log records} DEBUG log records and {objects} "
            "tasks/errors checked against {secrets} secrets: {leaks} leaks".format(**totals)
        )
