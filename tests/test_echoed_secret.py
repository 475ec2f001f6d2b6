"""A vendor that echoes the configured API key back in an error message (issue 19, finding
2): the key has no recognisable shape, so only the hub's own policy knows it. Every output —
the page, the API, the transitions, the store's columns, ``get --json``, ``ls --format
json|csv`` — renders through that policy. (The Airflow event, failure text and XCom are held
in tests/airflow/test_secrets.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

pytest.importorskip("waitress", reason="needs the serve extra: pip install 'taskhub[serve]'")

from taskhub.cli.demo import config_text
from taskhub.serve import build
from taskhub.testing import Simulation, simulate
from tests.serving import fetch, serving

#: A configured key of no known shape (no "Bearer", no "key=", not a JWT).
KEY = "lp9Hq2ZxWv8Rk4TyMn3B"


@pytest.fixture
def echoed() -> Iterator[tuple[Simulation, str]]:
    """A Livepeer simulator whose one task failed with a message echoing the key."""
    with simulate("livepeer", api_key=KEY) as sim:
        hub = sim.connect()
        task = hub.submit(kind="upload", url="https://media.example/in.mp4", name="in")
        sim.simulator.force_phase(task.id, "failed", f"invalid api key {KEY} for this project")
        hub.close()
        yield sim, task.id


def test_the_hub_the_store_the_page_and_the_api_never_show_it(
    echoed: tuple[Simulation, str], tmp_path: Path
) -> None:
    sim, task_id = echoed
    hub = sim.connect()
    served = build({"livepeer": hub}, f"sqlite:///{tmp_path / 'echo.db'}", start=False)
    try:
        task = hub.get(task_id)
        assert task.status.message == "invalid api key *** for this project"
        assert KEY not in json.dumps(task.to_dict(include_raw=True))
        assert served.store.flush(10)
        ref = f"livepeer:{task_id}"
        with serving(served.app, threads=2) as address:
            shown = [
                fetch(address, path)[2].decode()
                for path in (
                    "/",
                    "/api/tasks",
                    f"/api/tasks/{ref}",
                    f"/api/tasks/{ref}/transitions",
                )
            ]
        assert all("invalid api key ***" in text for text in shown[1:])
        assert not [text for text in shown if KEY in text]
        with served.store.reader_engine.connect() as conn:
            rows = [
                json.dumps(
                    [list(r) for r in conn.execute(sa.text(f"SELECT * FROM {table}"))], default=str
                )
                for table in ("taskhub_tasks", "taskhub_transitions")
            ]
        assert "invalid api key ***" in rows[0]
        assert not [row for row in rows if KEY in row]
    finally:
        served.close()
        hub.close()


@pytest.mark.parametrize(
    "args",
    [("get", "--json"), ("ls", "--format", "json"), ("ls", "--format", "csv"), ("ls",)],
)
def test_the_command_never_shows_it(
    echoed: tuple[Simulation, str], tmp_path: Path, args: tuple[str, ...]
) -> None:
    sim, task_id = echoed
    config = tmp_path / "taskhub.toml"
    config.write_text(config_text({"livepeer": sim}))
    command = [*args, f"livepeer:{task_id}"] if args[0] == "get" else list(args)
    out = subprocess.run(
        [sys.executable, "-m", "taskhub", *command],
        capture_output=True,
        text=True,
        env={**os.environ, "TASKHUB_CONFIG": str(config), "COLUMNS": "200"},
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    if args != ("ls",):  # the table has no message column
        assert "invalid api key ***" in out.stdout
    assert KEY not in out.stdout + out.stderr
