"""Nothing the provider keeps shows a secret (issue 19, findings 2 and 9): a vendor that
echoes the configured key in its failure message, and a submit looked up after it went
unanswered with a signed import URL. Everything Airflow kept — its metadata database (task
instances, trigger events, XCom, task state, Variables) and the task logs — is searched."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from .dagrun import run_dag
from .test_dags import Livepeer, submit_dag

pytestmark = pytest.mark.usefixtures("airflow_db")

SIGNED = (
    "https://bucket.s3.amazonaws.com/in/film.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIAEXAMPLE%2F20261206&X-Amz-Signature=5ec4e7deadbeef0123456789"
)


def kept_by_airflow() -> str:
    """Every text Airflow kept: each row of its metadata database, and every log file."""
    home = Path(os.environ["AIRFLOW_HOME"])
    found: list[str] = []
    for database in home.glob("*.db"):
        with sqlite3.connect(database) as conn:
            tables = [
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
            # The DAG's own source is the user's (it holds the spec as written).
            for table in (t for t in tables if t not in ("dag_code", "serialized_dag")):
                for row in conn.execute(f'SELECT * FROM "{table}"'):
                    found.append(repr(row))
    for log in home.rglob("*.log"):
        found.append(log.read_text(errors="replace"))
    return "\n".join(found)


def test_a_vendor_echoing_the_key_shows_it_nowhere(livepeer: Livepeer) -> None:
    key = str(livepeer.options["api_key"])
    stop = threading.Event()
    failed: set[str] = set()

    def echo() -> None:  # the vendor fails each new task with a message holding the key
        while not stop.is_set():
            for task_id in list(livepeer.simulator.tasks):
                if task_id not in failed:
                    livepeer.simulator.force_phase(task_id, "failed", f"invalid api key {key}")
                    failed.add(task_id)
            time.sleep(0.01)

    thread = threading.Thread(target=echo, daemon=True)
    thread.start()
    try:
        spec = {"kind": "upload", "url": "https://media.example.com/in.mp4", "name": "in"}
        run = run_dag("echo", submit_dag("echo", f"spec={spec!r}, deferrable=True"))
    finally:
        stop.set()
        thread.join(5)
    assert run.tasks == {"media": "failed"}
    ((_, _, message),) = run.failures
    assert "invalid api key ***" in message
    assert key not in message
    assert key not in repr(run.xcoms)
    assert key not in kept_by_airflow()


def test_an_unanswered_submit_keeps_no_signed_url_while_it_is_looked_up(
    livepeer: Livepeer,
) -> None:
    # The create goes out and its answer is lost; the lookup's listing then fails for longer
    # than the transport's retries, so the lookup is kept for the next try.
    livepeer.inject("drop", method="POST", path="/asset/upload/url", after_effect=True)
    livepeer.inject(status=503, method="GET", path=r"/api/task$", times=None)
    spec = {"kind": "upload", "url": SIGNED, "name": "film"}
    run = run_dag("lookup", submit_dag("lookup", f"spec={spec!r}, deferrable=True, retries=0"))
    assert run.tasks == {"media": "failed"}
    kept = kept_by_airflow()
    assert "taskhub_lookup" in kept or "looking up" in kept
    assert "5ec4e7deadbeef" not in kept and "AKIAEXAMPLE" not in kept
    assert len(livepeer.simulator.tasks) == 1  # never sent twice
