"""The store on SQLite and on a real PostgreSQL: tasks, transitions, batches, the guard
against moving backwards across restarts and processes, the schema upgrade."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from taskhub.model import Status, Task
from taskhub.states import State
from taskhub.store import VERSION, Filters, Store, StoreTracker
from taskhub.store import schema as store_schema

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def task(
    state: State,
    *,
    minutes: int = 0,
    task_id: str = "t1",
    backend: str = "media",
    vendor: str = "livepeer",
    progress: float | None = None,
) -> Task:
    return Task(
        backend,
        vendor,
        task_id,
        Status(state, raw=state.value.upper(), vendor=vendor, progress=progress,
               updated_at=T0 + timedelta(minutes=minutes)),
        kind="transcode-file",
        created_at=T0,
    )  # fmt: skip


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store(store_url)
    yield s
    s.close()


def test_records_last_status_and_every_transition(store: Store) -> None:
    tracker = StoreTracker(store)
    for i, state in enumerate([State.QUEUED, State.RUNNING, State.RUNNING, State.SUCCEEDED]):
        tracker.observe(task(state, minutes=i, progress=0.5 if i == 2 else None))
    assert store.flush(10)
    assert store.healthy
    row = store.task("media:t1")
    assert row is not None
    assert row["status"]["state"] == "succeeded"
    assert row["ref"] == "media:t1"
    history = store.transitions("media:t1")
    assert [(h["from"], h["to"], h["seq"]) for h in history] == [
        (None, "queued", 1),
        ("queued", "running", 2),
        ("running", "succeeded", 3),
    ]
    assert history[0]["change"] == "first"
    assert history[-1]["at"] == "2026-01-01T12:03:00Z"
    assert store.counts() == [("media", "livepeer", "succeeded", 1)]


def test_restart_never_moves_a_task_backwards(store_url: str) -> None:
    first = Store(store_url)
    StoreTracker(first).observe(task(State.SUCCEEDED, minutes=5))
    first.close()
    # A new process: a stale poll saying "running" must not un-finish the task.
    second = Store(store_url)
    tracker = StoreTracker(second)
    assert tracker.observe(task(State.RUNNING, minutes=1)) is None
    assert tracker.anomalies
    second.flush(10)
    assert second.task("media:t1")["status"]["state"] == "succeeded"  # type: ignore[index]
    assert len(second.transitions("media:t1")) == 1
    second.close()


def test_another_process_newer_state_is_never_overwritten(store_url: str) -> None:
    a, b = Store(store_url), Store(store_url)
    ta, tb = StoreTracker(a), StoreTracker(b)
    ta.observe(task(State.QUEUED))
    a.flush(10)
    tb.observe(task(State.QUEUED))  # b now believes queued
    ta.observe(task(State.SUCCEEDED, minutes=3))
    a.flush(10)
    # b's in-memory copy is behind; its stale "running" reaches the writer, which refuses it.
    tb.observe(task(State.RUNNING, minutes=1))
    b.flush(10)
    assert b.task("media:t1")["status"]["state"] == "succeeded"  # type: ignore[index]
    assert [h["to"] for h in b.transitions("media:t1")] == ["queued", "succeeded"]
    assert b.refused == 1
    # Both recording the same transition: it is recorded once.
    ta.observe(task(State.QUEUED, task_id="t2"))
    tb.observe(task(State.QUEUED, task_id="t2"))
    a.flush(10)
    b.flush(10)
    assert len(a.transitions("media:t2")) == 1
    a.close()
    b.close()


def test_batched_writes_and_paged_filtered_reads(store: Store) -> None:
    tracker = StoreTracker(store, lookup=False)
    for i in range(1500):
        vendor = "livepeer" if i % 3 else "cognite"
        tracker.observe(task(State.RUNNING, task_id=f"x{i}", vendor=vendor, backend=vendor))
    for i in range(0, 1500, 2):
        vendor = "livepeer" if i % 3 else "cognite"
        tracker.observe(
            task(State.SUCCEEDED, minutes=1, task_id=f"x{i}", vendor=vendor, backend=vendor)
        )
    assert store.flush(60)
    assert store.count_transitions() == 1500 + 750
    wanted = Filters(vendor="cognite", state=State.SUCCEEDED)
    first = store.page(wanted, limit=50)
    assert (first.total, first.exact) == (250, True)
    assert len(first.tasks) == 50
    assert {p["vendor"] for p in first.tasks} == {"cognite"}
    rest = store.page(wanted, limit=1000, cursor=first.next)
    assert len(rest.tasks) == 200
    assert rest.next is None
    assert not {p["ref"] for p in first.tasks} & {p["ref"] for p in rest.tasks}
    assert sorted(store.unfinished("cognite")) == sorted(
        f"x{i}" for i in range(1500) if i % 3 == 0 and i % 2
    )


def test_durations_and_recorded_listeners(store: Store) -> None:
    seen: list[Any] = []
    store.on_recorded.append(seen.extend)
    tracker = StoreTracker(store)
    tracker.observe(task(State.RUNNING, minutes=1))
    tracker.observe(task(State.FAILED, minutes=4))
    store.flush(10)
    assert [(r.before, r.after) for r in seen] == [
        (None, State.RUNNING),
        (State.RUNNING, State.FAILED),
    ]
    assert seen[-1].duration == 240.0
    assert seen[0].duration is None


def test_progress_on_the_same_state_updates_the_row(store: Store) -> None:
    tracker = StoreTracker(store)
    tracker.observe(task(State.RUNNING, progress=0.1))
    tracker.observe(task(State.RUNNING, minutes=1, progress=0.6))
    store.flush(10)
    assert store.task("media:t1")["status"]["progress"] == 0.6  # type: ignore[index]
    assert len(store.transitions("media:t1")) == 1


def test_webhook_events_are_accepted_once(store: Store) -> None:
    assert store.accept_event("lp", "e1")
    assert not store.accept_event("lp", "e1")
    assert store.accept_event("other", "e1")
    store.forget_event("lp", "e1")
    assert store.accept_event("lp", "e1")


def test_readers_never_block_the_writer_on_sqlite(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'w.db'}")
    tracker = StoreTracker(store, lookup=False)
    tracker.observe(task(State.QUEUED))
    store.flush(10)
    # A reader holds a read transaction open for the whole time the writer commits.
    with store.reader_engine.connect() as conn:
        conn.execute(sa.text("SELECT count(*) FROM taskhub_tasks")).scalar()
        done = threading.Event()

        def write() -> None:
            for i in range(200):
                tracker.observe(task(State.RUNNING, task_id=f"r{i}"))
            store.flush(10)
            done.set()

        threading.Thread(target=write).start()
        assert done.wait(10), "the writer waited for a reader"
        mode = conn.execute(sa.text("PRAGMA journal_mode")).scalar()
    assert mode == "wal"
    assert store.page(limit=1).total == 201
    store.close()


V1_DDL = """
CREATE TABLE taskhub_schema (version INTEGER NOT NULL);
INSERT INTO taskhub_schema VALUES (1);
CREATE TABLE taskhub_tasks (
  ref VARCHAR(512) PRIMARY KEY, backend VARCHAR(128) NOT NULL, vendor VARCHAR(64) NOT NULL,
  task_id VARCHAR(384) NOT NULL, kind VARCHAR(256), parent_id VARCHAR(384),
  state VARCHAR(16) NOT NULL, raw VARCHAR(256), reason VARCHAR(128), message TEXT,
  retryable BOOLEAN, progress FLOAT, retries INTEGER,
  status_updated_at TIMESTAMP, created_at TIMESTAMP, started_at TIMESTAMP,
  updated_at TIMESTAMP, finished_at TIMESTAMP, first_seen_at TIMESTAMP NOT NULL,
  observed_at TIMESTAMP NOT NULL, seq INTEGER NOT NULL);
CREATE TABLE taskhub_transitions (
  ref VARCHAR(512), seq INTEGER, backend VARCHAR(128) NOT NULL, vendor VARCHAR(64) NOT NULL,
  from_state VARCHAR(16), to_state VARCHAR(16) NOT NULL, at TIMESTAMP NOT NULL,
  change VARCHAR(16) NOT NULL, raw VARCHAR(256), reason VARCHAR(128), message TEXT,
  progress FLOAT, recorded_at TIMESTAMP NOT NULL, PRIMARY KEY (ref, seq));
CREATE TABLE taskhub_webhook_events (
  backend VARCHAR(128), event_id VARCHAR(256), received_at TIMESTAMP NOT NULL,
  PRIMARY KEY (backend, event_id));
INSERT INTO taskhub_tasks VALUES ('old:1', 'old', 'vionlabs', '1', 'product', NULL, 'running',
  'processing', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  '2025-01-01 00:00:00', '2025-01-01 00:00:00', 1);
"""


def test_upgrade_from_version_1_keeps_the_data(store_url: str) -> None:
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        for statement in V1_DDL.split(";"):
            if statement.strip():
                conn.exec_driver_sql(statement)
    engine.dispose()
    store = Store(store_url)
    assert store.version() == VERSION == 3
    # Version 3's counts start from the rows already there.
    assert store.counts() == [("old", "vionlabs", "running", 1)]
    old = store.task("old:1")
    assert old is not None
    assert old["status"]["state"] == "running"
    assert old["kind"] == "product"
    # The upgraded tables take new writes, and the old task still cannot move backwards.
    tracker = StoreTracker(store)
    tracker.observe(task(State.SUCCEEDED, backend="old", vendor="vionlabs", task_id="1"))
    tracker.observe(task(State.QUEUED, backend="old", vendor="vionlabs", task_id="1"))
    store.flush(10)
    assert store.task("old:1")["status"]["state"] == "succeeded"  # type: ignore[index]
    assert [t["seq"] for t in store.transitions("old:1")] == [2]
    assert store.counts() == [("old", "vionlabs", "succeeded", 1)]
    assert {"taskhub_tasks_observed", "taskhub_tasks_observed_ref", "taskhub_tasks_parent"} <= {
        i["name"] for i in sa.inspect(store.reader_engine).get_indexes("taskhub_tasks")
    }
    store.close()
    assert store_schema.STEPS[1] is not None


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'n.db'}"
    Store(url).close()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE taskhub_schema SET version = 99")
    with pytest.raises(RuntimeError, match="newer than this taskhub"):
        Store(url)


def test_in_memory_sqlite_is_refused() -> None:
    with pytest.raises(ValueError, match="SQLite file"):
        Store("sqlite://")


def test_a_database_that_goes_away_loses_nothing() -> None:
    import shutil
    import time

    from tests.store.services import postgres

    base = Path("/tmp") / f"taskhub-pg-away-{time.monotonic_ns()}"
    with postgres(base) as server:
        store = Store(server.create_database("away"), retry_max=0.2)
        tracker = StoreTracker(store, lookup=False)
        tracker.observe(task(State.QUEUED))
        assert store.flush(10)
        server.stop()
        tracker.observe(task(State.RUNNING, minutes=1))
        tracker.observe(task(State.SUCCEEDED, minutes=2))
        deadline = time.monotonic() + 20
        while store.healthy and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not store.healthy
        assert store.last_error
        assert store.pending == 2 or store.pending == 1
        server.start()
        assert store.flush(30)
        assert _healthy(store)  # a fresh read: the assertion above narrowed the attribute
        assert [t["to"] for t in store.transitions("media:t1")] == [
            "queued",
            "running",
            "succeeded",
        ]
        store.close()
    shutil.rmtree(base, ignore_errors=True)


def test_one_replica_holds_each_backends_lease_and_another_takes_it_over(pg_url: str) -> None:
    from taskhub.serve.lease import Leases

    a, b = Store(pg_url), Store(pg_url)
    first, second = Leases(a), Leases(b)
    assert first.acquire("media")
    assert first.acquire("media")  # still ours
    assert not second.acquire("media")
    assert second.acquire("other")
    first.close()  # the polling replica goes away: its locks are released
    assert second.acquire("media")
    second.close()
    a.close()
    b.close()


def _healthy(store: Store) -> bool:
    return store.healthy
