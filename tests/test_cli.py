"""The ``taskhub`` command (through a real subprocess) and the generated docs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from taskhub import registry
from taskhub.cli import statedoc

DOCS = Path(__file__).parent.parent / "docs"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "taskhub", *args], capture_output=True, text=True, timeout=60
    )


def test_docs_states_md_is_the_current_output() -> None:
    committed = (DOCS / "states.md").read_text()
    builtins = [name for name, entry in registry.entries().items() if entry.builtin]
    assert committed == statedoc.as_markdown(builtins), (
        "docs/states.md is stale: run `taskhub states --format markdown > docs/states.md`"
    )


def test_states_command_formats() -> None:
    md = run("states")
    assert md.returncode == 0
    assert md.stdout == (DOCS / "states.md").read_text()
    data = json.loads(run("states", "--format", "json").stdout)
    assert data["vendors"]["cognite"]["vocabularies"]["task"]["CANCELED"]["state"] == "cancelled"
    assert data["states"]["succeeded"] == {"rank": 3, "terminal": True, "successful": True}
    dot = run("states", "--format", "dot").stdout
    assert dot.startswith("digraph")
    assert "running -> paused" in dot


def test_vendors_command_lists_the_builtins() -> None:
    out = run("vendors")
    assert out.returncode == 0
    names = [line.split()[0] for line in out.stdout.splitlines()]
    assert {"cognite", "livepeer", "veritone", "veritone-edge", "vionlabs"} <= set(names)


def test_bad_usage_exits_2() -> None:
    out = run("states", "--format", "yaml")
    assert out.returncode == 2
    assert "invalid choice" in out.stderr
