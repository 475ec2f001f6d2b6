"""Ids read from a vendor's listing go through the adapter's id rule (issue 19, finding 7): a
row whose id holds a NUL, a right-to-left override or 400 characters is skipped with a
warning and ``signals.on_skipped_row``; the rest of the page is kept."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from taskhub import signals
from taskhub.testing import Simulation, simulate

BAD_IDS = ["a\x00b", "invoice\u202egpj.exe", "z" * 400]


def _livepeer(sim: Simulation) -> tuple[str, str, Callable[[Any], list[dict[str, Any]]], str]:
    return "GET", r"^/api/task$", lambda body: body, "id"


def _cognite(sim: Simulation) -> tuple[str, str, Callable[[Any], list[dict[str, Any]]], str]:
    return "POST", r"/workflows/executions/list$", lambda body: body["items"], "id"


def _edge(sim: Simulation) -> tuple[str, str, Callable[[Any], list[dict[str, Any]]], str]:
    return "GET", r"/proc/jobs$", lambda body: body["result"], "internalJobID"


LISTINGS = {"livepeer": _livepeer, "cognite": _cognite, "veritone-edge": _edge}


@pytest.fixture
def skipped() -> Iterator[list[tuple[str, str]]]:
    seen: list[tuple[str, str]] = []

    def listen(vendor: str, why: str) -> None:
        seen.append((vendor, why))

    signals.on_skipped_row.append(listen)
    yield seen
    signals.on_skipped_row.remove(listen)


@pytest.mark.parametrize("vendor", sorted(LISTINGS))
def test_a_row_with_a_bad_id_is_skipped_and_the_page_kept(
    vendor: str, skipped: list[tuple[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    with simulate(vendor) as sim:
        hub = sim.connect()
        spec = sim.simulator.demo_spec()
        assert spec is not None
        first = hub.submit(**spec)
        method, path, rows_of, key = LISTINGS[vendor](sim)
        # The simulator's own listing, as the vendor sends it, with three poisoned copies of
        # its first row added; served once in place of the real answer.
        listed = _answer(sim, hub, method, path)
        rows = rows_of(listed)
        assert rows, "the simulator listed nothing"
        for bad in BAD_IDS:
            row = copy.deepcopy(rows[0])
            row[key] = bad
            rows.append(row)
        if isinstance(listed, dict) and "count" in listed:
            listed["count"] = len(rows)
        sim.inject(status=200, body=listed, method=method, path=path, times=1)
        with caplog.at_level(logging.WARNING, logger="taskhub.adapter"):
            found = list(hub.list(limit=100))
        hub.close()
    assert [t.id for t in found] == [first.id]
    assert len(skipped) == len(BAD_IDS)
    assert {v for v, _ in skipped} == {vendor}
    assert sum("a row was skipped" in r.getMessage() for r in caplog.records) == len(BAD_IDS)
    shown = " ".join(why for _, why in skipped)
    assert "\x00" not in shown and "\u202e" not in shown


def _answer(sim: Simulation, hub: Any, method: str, path: str) -> Any:
    """What the simulator answers the listing now (through the hub's own transport)."""
    seen: list[Any] = []
    original = hub.adapter.transport.json

    def keep(response: Any, operation: str) -> Any:
        value = original(response, operation)
        if operation == "list" and not seen:
            seen.append(copy.deepcopy(value))
        return value

    hub.adapter.transport.json = keep
    try:
        list(hub.list(limit=100))
    finally:
        hub.adapter.transport.json = original
    return seen[0]
