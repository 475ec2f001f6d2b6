"""Airflow's own tests: real Airflow (≥ 3.0), offline, on loopback simulators.

They need Airflow, which lives in its own virtual environment (.ci/run builds .venv-airflow
from .ci/airflow-constraints-3.x-py3.11.txt). Where Airflow is not importable only
``test_package.py`` is collected (what must work without Airflow), so nothing skips.

Airflow reads its settings when first imported, so they are set here, before any test
module imports it: a temporary AIRFLOW_HOME with a SQLite database and a DAGs folder that
the end-to-end tests write their DAG files into. Where the OpenLineage provider is
installed, its transport sends every task's events to a :class:`LineageSink` on loopback
(from a thread: the provider's default forks the test process), and new DAGs start
unpaused, so a DAG scheduled on assets is queued as the scheduler would queue it.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from taskhub.airflow.connection import secret_option

from .lineage_sink import LineageSink

HAVE_AIRFLOW = importlib.util.find_spec("airflow") is not None

if not HAVE_AIRFLOW:
    collect_ignore = [p.name for p in Path(__file__).parent.glob("test_*.py")]
    collect_ignore.remove("test_package.py")
else:
    HOME = Path(tempfile.mkdtemp(prefix="taskhub-airflow-"))
    atexit.register(shutil.rmtree, HOME, ignore_errors=True)
    (HOME / "dags").mkdir()
    os.environ.update(
        {
            "AIRFLOW_HOME": str(HOME),
            "AIRFLOW__CORE__DAGS_FOLDER": str(HOME / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{HOME / 'airflow.db'}",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        }
    )
    os.environ.pop("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", None)
    os.environ["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] = "False"

    HAVE_OPENLINEAGE = importlib.util.find_spec("airflow.providers.openlineage") is not None
    SINK = LineageSink() if HAVE_OPENLINEAGE else None
    if SINK is not None:
        atexit.register(SINK.close)
        os.environ.update(
            {
                "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(SINK.transport()),
                "AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD": "True",
                # DAG-run events go through a process pool (a fork of this process): the
                # tests read task events only.
                "AIRFLOW__OPENLINEAGE__EMISSION_POLICY": json.dumps(
                    [{"scope": {}, "controls": {"emit_dag_events": False}}]
                ),
            }
        )

    @pytest.fixture
    def lineage() -> LineageSink:
        """The session's OpenLineage sink. Where the provider is not installed the test
        skips, or fails under ``TASKHUB_REQUIRE_SERVICES=1`` (.ci/run installs it)."""
        if SINK is None:
            reason = "apache-airflow-providers-openlineage is not installed"
            if os.environ.get("TASKHUB_REQUIRE_SERVICES") == "1":
                pytest.fail(f"{reason} (TASKHUB_REQUIRE_SERVICES=1)")
            pytest.skip(reason)
        return SINK

    @pytest.fixture(autouse=True)
    def _fresh_connections() -> Iterator[None]:
        """Each test's connection is read afresh (the triggers' hubs are shared by
        connection for a few seconds, longer than a test lasts)."""
        from taskhub.airflow.hooks import forget_shared

        forget_shared()
        yield
        forget_shared()


#: What the same DAG submits as job "ingest" on each vendor (the connection carries it).
INGEST: dict[str, dict[str, Any]] = {
    "livepeer": {"kind": "upload", "url": "https://media.example.com/in.mp4", "name": "in.mp4"},
    "vionlabs": {"inventory_id": "film-001", "product": "markers", "version": "1.0.1"},
    "cognite": {"workflow": "taskhub-auto", "version": "1", "input": {"fileId": 123}},
    "veritone": {
        "tasks": [
            {
                "engineId": "54525249-da68-4dbf-b6fe-aea9a1aefd4d",
                "payload": {"url": "https://media.example.com/interview.mp4"},
            }
        ],
        "target": {"startDateTime": 1700000000, "stopDateTime": 1700000060, "name": "in"},
    },
    "veritone-edge": {
        "tasks": [
            {
                "engineId": "1a2b3c4d-0000-4000-8000-00000000e001",
                "correlationTaskId": "transcribe",
                "payload": {"url": "https://media.example.com/podcast.mp3"},
            },
            {"engineId": "8eccf9cc-6b6d-4d7d-8cb3-7ebf4950c5f3", "correlationTaskId": "writer"},
        ]
    },
}
VENDORS = sorted(INGEST)

#: Poll fast: the simulators run many times faster than real time.
FAST = {"poll_interval": 0.05, "poll_max": 0.2}


def connection(sim: Any, **extra: Any) -> dict[str, Any]:
    """An Airflow connection (JSON form) to a running simulator: the vendor and its options
    in the extra, its secret in the password field, job "ingest" for its vendor."""
    options = dict(sim.options)
    secret = secret_option(sim.vendor)
    password = options.pop(secret) if secret in options else None
    fields = {
        "vendor": sim.vendor,
        **options,
        **FAST,
        "jobs": {"ingest": {"spec": INGEST[sim.vendor]}},
    }
    return {"conn_type": "taskhub", "password": password, "extra": {**fields, **extra}}


def prepare(sim: Any) -> None:
    """What must exist before a job runs (Vionlabs works on ingested catalog items)."""
    if sim.vendor == "vionlabs":
        sim.simulator.add_item({"id": "film-001", "type": "standalone", "title": "Film"})


@pytest.fixture
def use_connection(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``use_connection(value, conn_id="taskhub_default")`` sets AIRFLOW_CONN_… (JSON form)."""

    def use(value: dict[str, Any], conn_id: str = "taskhub_default") -> None:
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(value))

    return use


@pytest.fixture(scope="module")
def airflow_db() -> None:
    """Airflow's metadata database, made (or brought up to date) once per module that runs
    DAGs (``pytestmark = pytest.mark.usefixtures("airflow_db")``)."""
    from airflow.utils import db

    db.initdb()


@pytest.fixture
def livepeer(use_connection: Any) -> Iterator[Any]:
    """A Livepeer simulator at 20x speed, the default connection pointing at it."""
    from taskhub.testing import simulate

    with simulate("livepeer", speed=20) as sim:
        use_connection(connection(sim))
        yield sim
