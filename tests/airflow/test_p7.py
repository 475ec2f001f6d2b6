"""bench/p7_triggers.py runs (on a tiny size): it is measured by hand, never timed here."""

from __future__ import annotations

from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_p7_counts_requests_per_cycle_and_stalls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCH))  # also for the simulator's spawned process
    import p7_triggers

    figures = p7_triggers.run(30, "livepeer", speed=10.0, cycle=0.2)
    assert figures["fired"] == 30 and figures["cycles"] >= 1
    assert figures["max requests per cycle"] <= 2  # one listing serves all 30
    assert figures["worst stall ms"] >= 0
