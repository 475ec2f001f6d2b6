"""One bad vendor string must not stop the store (issue 19, finding 1), on SQLite and on a real
PostgreSQL: strings the database refuses are made storable, names that cannot be stored
faithfully are quarantined, a refusal nobody foresaw is isolated by splitting the batch, and
every other observation — another backend's above all — is written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from taskhub.model import Status, Task
from taskhub.states import State
from taskhub.store import Store, StoreTracker
from taskhub.store.boundary import CUT

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def task(
    task_id: str,
    state: State = State.RUNNING,
    *,
    backend: str = "media",
    vendor: str = "livepeer",
    minutes: int = 0,
    kind: str = "transcode-file",
    message: str | None = None,
    raw: str | None = None,
) -> Task:
    status = Status(
        state,
        raw=raw or state.value,
        vendor=vendor,
        message=message,
        updated_at=T0 + timedelta(minutes=minutes),
    )
    return Task(backend, vendor, task_id, status, kind=kind, created_at=T0)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store(store_url, retry_max=0.2)
    yield s
    s.close()


def test_a_poisoned_stream_writes_every_good_observation(store: Store) -> None:
    """The strings of finding 1: a lone surrogate and a NUL in a message are stored with
    U+FFFD in their place; a 300-character type and a 400-character id are quarantined; the
    other backend's transitions are all recorded, in the same batches."""
    seen: list[str] = []
    store.on_quarantined.append(seen.append)
    tracker = StoreTracker(store, lookup=False)
    tracker.observe(task("surrogate", State.FAILED, message="bad \ud800 byte"))
    tracker.observe(task("nul", State.FAILED, message="bad \x00 byte"))
    tracker.observe(task("long-type", kind="t" * 300))
    tracker.observe(task("i" * 400))
    for n in range(50):
        tracker.observe(task(f"ok{n}", backend="other", vendor="cognite"))
        tracker.observe(
            task(f"ok{n}", State.SUCCEEDED, backend="other", vendor="cognite", minutes=1)
        )
    assert store.flush(30)
    assert store.healthy, store.last_error
    assert store.task("media:surrogate")["status"]["message"] == "bad \ufffd byte"  # type: ignore[index]
    assert store.task("media:nul")["status"]["message"] == "bad \ufffd byte"  # type: ignore[index]
    assert store.transitions("media:nul")[0]["message"] == "bad \ufffd byte"
    assert store.task("media:long-type") is None
    assert store.counts() == [
        ("media", "livepeer", "failed", 2),
        ("other", "cognite", "succeeded", 50),
    ]
    assert store.count_transitions() == 2 + 100
    kept = store.quarantined()
    assert sorted(q["ref"][:20] for q in kept) == ["media:iiiiiiiiiiiiii", "media:long-type"]
    assert {q["backend"] for q in kept} == {"media"}
    assert any("kind 300 characters, over the column's 256" in q["error"] for q in kept)
    assert any("task_id 400 characters" in q["error"] for q in kept)
    assert all(q["payload"]["task"]["vendor"] == "livepeer" for q in kept)
    assert seen == ["media", "media"]
    tally = store.close()
    assert (tally.written, tally.quarantined, tally.unwritten, tally.lost) == (102, 2, 0, False)
    assert tally.transitions == 102


def test_over_long_text_is_cut_with_a_visible_marker(store: Store) -> None:
    tracker = StoreTracker(store, lookup=False)
    tracker.observe(task("w", raw="w" * 300, message="m" * 10_000))
    assert store.flush(10)
    row = store.task("media:w")
    assert row is not None
    assert row["status"]["raw"] == "w" * (256 - len(CUT)) + CUT
    assert len(row["status"]["message"]) == 4000
    assert row["status"]["message"].endswith(CUT)


def _poison_trigger(store: Store) -> None:
    """A rule of the database's own that refuses any row whose raw word is 'poison': a
    refusal the store's boundary cannot foresee."""
    with store.writer_engine.begin() as conn:
        if store.dialect == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER poison BEFORE INSERT ON taskhub_transitions "
                "WHEN NEW.raw = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF NEW.raw = 'poison' THEN RAISE EXCEPTION 'poisoned row' "
                "USING ERRCODE = '22000'; END IF; RETURN NEW; END $$"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER poison BEFORE INSERT ON taskhub_transitions "
                "FOR EACH ROW EXECUTE FUNCTION poison()"
            )


def test_a_batch_the_database_refuses_is_split_until_the_bad_item_is_alone(store: Store) -> None:
    _poison_trigger(store)
    tracker = StoreTracker(store, lookup=False)
    for n in range(200):
        raw = "poison" if n in (37, 150) else None
        tracker.observe(task(f"t{n}", raw=raw))
    assert store.flush(60)
    assert store.healthy, store.last_error
    assert store.page(limit=1).total == 198
    assert store.count_transitions() == 198
    kept = store.quarantined()
    assert sorted(q["ref"] for q in kept) == ["media:t150", "media:t37"]
    assert all("poisoned row" in q["error"] for q in kept)
    assert store.tally().quarantined == 2


def test_the_quarantine_keeps_no_secret(store_url: str) -> None:
    from taskhub import redact

    store = Store(store_url)
    policy = redact.for_vendor("livepeer").extend(values=["lp-1234567890"])
    bad = Task(
        "media",
        "livepeer",
        "x" * 400,
        Status(State.FAILED, message="invalid api key lp-1234567890"),
        params={"token": "lp-1234567890", "url": "https://h/in.mp4?X-Amz-Signature=abc"},
        policy=policy,
    )
    StoreTracker(store, lookup=False).observe(bad)
    assert store.flush(10)
    with store.reader_engine.connect() as conn:
        dumped = json.dumps(
            [list(r) for r in conn.execute(sa.text("SELECT * FROM taskhub_quarantine"))],
            default=str,
        )
    assert "lp-1234567890" not in dumped
    assert "X-Amz-Signature=abc" not in dumped
    assert store.close().quarantined == 1


def test_a_stop_that_cannot_write_says_what_was_lost(tmp_path: object) -> None:
    import shutil
    import time
    from pathlib import Path

    from tests.store.services import postgres

    base = Path("/tmp") / f"taskhub-pg-lost-{time.monotonic_ns()}"
    with postgres(base) as server:
        store = Store(server.create_database("lost"), retry_max=0.2)
        tracker = StoreTracker(store, lookup=False)
        tracker.observe(task("a"))
        assert store.flush(10)
        server.stop()
        tracker.observe(task("b"))
        tracker.observe(task("a", State.SUCCEEDED, minutes=1))
        tally = store.close(timeout=1)
        assert (tally.written, tally.unwritten, tally.lost) == (1, 2, True)
    shutil.rmtree(base, ignore_errors=True)
