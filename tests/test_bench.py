"""The benchmark scripts run (on tiny sizes): they are measured by hand, never timed here."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parent.parent / "bench"


@pytest.fixture(autouse=True)
def _bench_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCH))


def test_p1_and_p4_run(capsys: pytest.CaptureFixture[str]) -> None:
    import p1_get_overhead
    import p4_parse

    p1_get_overhead.main(calls=3, rounds=1)
    for vendor in p4_parse.MAKERS:
        median, best = p4_parse.rate(vendor, 50, 2)
        assert 0 < median <= best
    assert "hub.get(id)" in capsys.readouterr().out


def test_p5_counts_requests_per_cycle() -> None:
    import p5_watch

    figures = p5_watch.cognite(15)
    assert figures["finished"] == 15
    assert figures["max per cycle"] <= 2  # a narrowed listing, and one for what just finished


def test_p6_measures_the_client_only() -> None:
    import p6_list_memory

    seen, growth, _ = p6_list_memory.run(50)
    assert seen == 50 and growth > 0


def test_p4_instructions_script_parses_and_main_says_why_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The script callgrind measures parses every vendor's payloads (run here without
    valgrind: under it, a run takes minutes); without valgrind, main says it skipped."""
    import shutil
    import subprocess

    import p4_instructions
    import p4_parse

    script = tmp_path / "parse.py"
    script.write_text(p4_instructions.SCRIPT.format(bench=str(BENCH.resolve()), count=20))
    for vendor in p4_parse.MAKERS:
        for mode in ("base", "run"):
            done = subprocess.run(
                [sys.executable, str(script), vendor, mode], capture_output=True, text=True
            )
            assert done.returncode == 0, done.stderr[-500:]
    if shutil.which("valgrind") is None:
        p4_instructions.main()
        assert "skipped" in capsys.readouterr().out


def test_p9_hostile_produces_figures(capsys: pytest.CaptureFixture[str]) -> None:
    import p9_hostile

    argv = ["--deadline", "2", "--scenario", "huge", "--huge-mb", "2"]
    (figures,) = p9_hostile.main([*argv, "--max-response-bytes", str(1 << 20)])
    assert figures.scenario == "huge" and figures.outcome
    assert figures.wall is not None and figures.growth is not None
    assert "huge" in capsys.readouterr().out


def test_p5d_and_p6b_produce_figures() -> None:
    import p5d_threads
    import p6b_tracker

    threads = p5d_threads.run(5)
    assert threads["finished"] == 5 and threads["cycles"] >= 1
    tracked = p6b_tracker.run(500)
    assert tracked["kept"] == 500 and tracked["stale refused"] == 500


def test_p5b_produces_requests_per_cycle_for_every_vendor() -> None:
    import p5b_behind

    for vendor in p5b_behind.VENDORS:
        figures = p5b_behind.run(vendor, 6, 12, cycles=3, rounds=1, rtt=0.001, apart=False)
        assert figures["cycles"] >= 3 and figures["errors"] == 0, vendor
        assert len(figures["per cycle"]) == figures["cycles"]
        assert figures["first"] >= 1 and figures["steady max"] >= 1, vendor
        assert figures["goal"] == (8 if vendor == "vionlabs" else 3)
    walls = [v for k, v in figures.items() if k.startswith("wall")]
    assert len(walls) == 2 and all(w["ratio"] > 0 for w in walls)


def test_p8_dashboard_produces_figures(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("waitress", reason="needs the serve extra: pip install 'taskhub[serve]'")
    import p8_dashboard

    argv = ["--tasks", "50", "--compare", "0", "--sustained", "6", "--requests", "5"]
    (figures,) = p8_dashboard.main([*argv, "--scrapes", "3", "--no-browser", "--no-postgres"])
    # 50 units of work, 17 with two parts: 84 rows, 3 transitions each but for the 9 rows of
    # the 5 units still running (2 each).
    assert figures["write"]["transitions"] == 243
    assert figures["rows"] == 56  # units of work: 50, then 6 more
    assert figures["last page"]["p99"] > 0 and figures["metrics"]["median"] > 0
    assert "first page p99" in capsys.readouterr().out


def test_p10_asyncio_produces_figures() -> None:
    import p10_asyncio

    figures = p10_asyncio.run(20, cycle=0.05, speed=5.0, calls=3, rounds=1)
    assert figures["finished"] == 20 and figures["cycles"] >= 1
    assert figures["max requests per cycle"] >= 1 and figures["p99 stall ms"] >= 0
    assert figures["sync get ms"] > 0 and figures["await / sync"] > 0
