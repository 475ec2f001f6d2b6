"""Walk the bad-input table: each call fails with its typed error before any request."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from taskhub import registry
from taskhub.testing import simulate

from .bad_input import CASES, Case, page

DOC = Path(__file__).parent.parent / "docs" / "bad-input.md"


def test_the_table_in_docs_is_current() -> None:
    assert DOC.read_text() == page(), "stale: regenerate docs/bad-input.md from tests/bad_input.py"


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.vendor or 'any'}: {c.call}")
def test_bad_input_is_refused_before_any_request(case: Case) -> None:
    if case.vendor is None:
        with pytest.raises(case.error) as info:
            case.run(None, None)
    else:
        with simulate(case.vendor) as sim, sim.connect() as hub:
            context = case.setup(hub, sim) if case.setup else sim
            before = len(sim.requests)
            with pytest.raises(case.error) as info:
                case.run(hub, context)
            assert len(sim.requests) == before, "a request was sent"
    assert case.says in str(info.value)


def test_the_cases_cover_every_vendor_each_call_once(summary: Callable[[str], None]) -> None:
    builtins = {name for name, entry in registry.entries().items() if entry.builtin}
    assert builtins <= {c.vendor for c in CASES}, "a built-in vendor has no bad-input case"
    calls = [(c.vendor, c.call) for c in CASES]
    assert len(set(calls)) == len(calls), "a call is listed twice"
    summary(f"bad input: {len(CASES)} calls, each refused with a typed error, no request sent")
