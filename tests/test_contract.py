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


def test_every_built_in_vendor_runs_the_contract_suite() -> None:
    import importlib
    from pathlib import Path

    from taskhub import registry

    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        importlib.import_module(f"tests.{path.stem}")
    suites: set[str] = set()
    todo = list(AdapterContract.__subclasses__())
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if cls.__name__.startswith("Test"):
            suites.add(cls.vendor)
    builtins = {name for name, entry in registry.entries().items() if entry.builtin}
    assert len(builtins) == 5
    assert builtins <= suites, sorted(builtins - suites)
