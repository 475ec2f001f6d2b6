"""The adapter contract suite, run against every vendor that has a simulator."""

from __future__ import annotations

from typing import Any

from taskhub.testing import Simulation
from taskhub.testing.contract import AdapterContract


class TestToyContract(AdapterContract):
    vendor = "toy"
    unknown_id = "t999"

    def submit_spec(self, sim: Simulation) -> dict[str, Any]:
        return {"input": "https://example.com/in.mp4"}
