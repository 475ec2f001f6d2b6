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
