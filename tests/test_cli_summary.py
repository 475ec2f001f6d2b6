"""``taskhub ls --summary`` counts every task a backend lists, or says where it stopped.

Each listing vendor's simulator runs in this process with 25, then 2,500 tasks; the installed
command counts them over loopback HTTP, paging through as a user's would.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from taskhub.states import State
from taskhub.testing import SimClock, Simulation, simulate

LISTING = ("cognite", "livepeer", "veritone", "veritone-edge")


def create(sim: Simulation, count: int) -> None:
    """``count`` more tasks on ``sim``: in bulk where the simulator can, else through the API."""
    if sim.vendor == "livepeer":
        sim.simulator.bulk(count)  # type: ignore[attr-defined]
        return
    spec: dict[str, Any] = (
        {"workflow": "taskhub-auto", "version": "1"}
        if sim.vendor == "cognite"
        else dict(sim.simulator.demo_spec() or {})
    )
    with sim.connect() as hub:
        for _ in range(count):
            hub.submit(**spec)


def configure(folder: Path, sim: Simulation) -> Path:
    lines = [f'[backends."{sim.vendor}"]', f'vendor = "{sim.vendor}"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in sim.options.items()]
    path = folder / "taskhub.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def summary(
    config: Path, *args: str, stderr: int | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKHUB_")}
    return subprocess.run(
        [sys.executable, "-m", "taskhub", "ls", "--summary", "--config", str(config), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if stderr is None else stderr,
        text=True,
        env={**env, "COLUMNS": "100", "TERM": "xterm"},
        timeout=300,
    )


def total(config: Path, *args: str) -> dict[str, Any]:
    done = summary(config, "--format", "json", *args)
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)
    return dict(row)


@pytest.mark.slow
@pytest.mark.parametrize("vendor", LISTING)
def test_the_summary_counts_every_task_listed(vendor: str, tmp_path: Path) -> None:
    with simulate(vendor, clock=SimClock(speed=1000)) as sim:
        config = configure(tmp_path, sim)
        create(sim, 25)  # more than the 20 rows ls shows by default
        row = total(config)
        assert (row["total"], row["complete"]) == (25, True)
        table = summary(config)
        assert table.stdout.splitlines()[-1].split()[-1] == "25"
        assert "first" not in table.stdout and table.stderr == ""  # no progress off a terminal
        bounded = summary(config, "--limit", "10")
        assert bounded.stdout.splitlines()[-1] == (
            f"{vendor}: counted the first 10 of at least 10 tasks (--limit); without --limit "
            "every task is counted"
        )
        assert total(config, "--limit", "10")["complete"] is False
        assert total(config, "--limit", "25")["complete"] is False  # 25 of at least 25
        assert total(config, "--limit", "26")["complete"] is True  # fewer than asked: all
        create(sim, 2475)
        row = total(config)
        assert (row["total"], row["complete"]) == (2500, True)
        assert row["total"] == sum(row[state.value] for state in State)


def test_the_count_shows_progress_on_a_terminal_and_clears_it(tmp_path: Path) -> None:
    with simulate("livepeer") as sim:
        sim.simulator.bulk(250)
        config = configure(tmp_path, sim)
        leader, follower = pty.openpty()
        try:
            done = summary(config, stderr=follower)
            os.close(follower)
            shown = b""
            while True:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                shown += chunk
        finally:
            os.close(leader)
    assert done.returncode == 0
    text = shown.decode()
    assert "counting livepeer: 100 tasks so far" in text
    assert "counting livepeer: 200 tasks so far" in text
    assert text.endswith("\r\x1b[2K")  # the line is cleared once the count is over
    assert done.stdout.splitlines()[-1].split()[-1] == "250"
