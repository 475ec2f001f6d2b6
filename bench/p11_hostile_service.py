"""P11: the record under hostile vendors and clients (issue 19).

``--part store``: 100,000 observations (33,334 tasks, 3 transitions each) recorded through
``Store.record`` on SQLite and PostgreSQL, clean and poisoned with one bad item per 1,000 —
an id over its column, a type over its column, a NUL and a lone surrogate in a message (the
first two quarantined, the others made storable). Goal: every good transition written, every
bad item quarantined, throughput within 10 % of the clean stream. A third stream's bad items
are refused by the database itself (a trigger), which the boundary cannot foresee: the writer
isolates them by splitting batches, and its cost is printed too.

``--part serve``: a real ``taskhub serve`` process and 200 slow clients, each dripping a header
line every second; ``/healthz`` is asked every 100 ms for 25 s (past the 15 s request
deadline, so the slow clients are cut and come back). Goal: it answers every time.

Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the tests' PostgreSQL helper
    sys.path.insert(0, str(ROOT))

from taskhub.model import Status, Task  # noqa: E402
from taskhub.states import State  # noqa: E402
from taskhub.store import Store  # noqa: E402

T0 = datetime(2026, 12, 1, tzinfo=timezone.utc)
STATES = (State.QUEUED, State.RUNNING, State.SUCCEEDED)


def stream(count: int, poison: str | None) -> tuple[list[Task], int]:
    """``count`` observations, three per task; with ``poison``, one in 1,000 bad; and how
    many of them cannot be stored as they are (the NUL and surrogate ones can, once
    cleaned)."""
    out: list[Task] = []
    bad = 0
    kinds = ("id", "type", "nul", "surrogate")
    for n in range(count):
        task_n, step = divmod(n, 3)
        task_id, kind, message, raw = f"task-{task_n:06d}", "transcode", None, None
        if poison and n % 1000 == 999:
            what = kinds[(n // 1000) % 4] if poison == "boundary" else "trigger"
            bad += what in ("id", "type", "trigger")
            if what == "id":
                task_id = "i" * 400
            elif what == "type":
                kind = "t" * 300
            elif what == "nul":
                message = "bad \x00 byte"
            elif what == "surrogate":
                message = "bad \ud800 byte"
            else:
                raw = "poison"
        state = STATES[step]
        status = Status(
            state,
            raw=raw or state.value,
            vendor="livepeer",
            message=message,
            updated_at=T0 + timedelta(seconds=task_n, milliseconds=step),
        )
        out.append(Task("media", "livepeer", task_id, status, kind=kind, created_at=T0))
    return out, bad


def record(url: str, tasks: list[Task], trigger: bool) -> tuple[float, Store]:
    store = Store(url)
    if trigger:
        _poison_trigger(store)
    started = time.perf_counter()
    for task in tasks:
        store.record(task)
    store.flush()
    return time.perf_counter() - started, store


def _poison_trigger(store: Store) -> None:
    with store.writer_engine.begin() as conn:
        if store.dialect == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER poison BEFORE INSERT ON taskhub_transitions "
                "WHEN NEW.raw = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF NEW.raw = 'poison' THEN RAISE EXCEPTION 'poisoned' USING ERRCODE = '22000';"
                " END IF; RETURN NEW; END $$"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER poison BEFORE INSERT ON taskhub_transitions "
                "FOR EACH ROW EXECUTE FUNCTION poison()"
            )


@contextlib.contextmanager
def databases(with_postgres: bool) -> Iterator[dict[str, object]]:
    """Factories of fresh database URLs: SQLite files, and a throwaway PostgreSQL server."""
    base = Path(tempfile.mkdtemp(prefix="taskhub-p11-"))
    counter = iter(range(10**6))
    found: dict[str, object] = {
        "sqlite": lambda: f"sqlite:///{base / f'p11-{next(counter)}.db'}",
    }
    try:
        with contextlib.ExitStack() as stack:
            if with_postgres:
                from tests.store.services import postgres, postgres_bin

                if postgres_bin() is None:
                    print("PostgreSQL is not installed: its figures are skipped")
                else:
                    # Beside the temporary folder, not in it: PostgreSQL runs as its own user,
                    # which cannot enter mkdtemp's 0700 folder.
                    pg = Path("/tmp") / f"taskhub-p11-pg-{time.monotonic_ns()}"
                    stack.callback(shutil.rmtree, pg, True)
                    server = stack.enter_context(postgres(pg))
                    found["postgresql"] = lambda: server.create_database(f"p11_{next(counter)}")
            yield found
    finally:
        shutil.rmtree(base, ignore_errors=True)


def part_store(count: int, rounds: int, with_postgres: bool) -> None:
    streams = {name: stream(count, poison) for name, poison in
               (("clean", None), ("poisoned", "boundary"), ("refused", "trigger"))}  # fmt: skip
    with databases(with_postgres) as factories:
        for dialect, make in factories.items():
            rates: dict[str, list[float]] = {name: [] for name in streams}
            results: dict[str, str] = {}
            for _ in range(rounds):
                for name, (tasks, bad) in streams.items():
                    seconds, store = record(make(), tasks, trigger=name == "refused")  # type: ignore[operator]
                    rates[name].append(len(tasks) / seconds)
                    tally = store.close()
                    good = len(tasks) - bad
                    results[name] = (
                        f"written {tally.written:,} of {good:,} storable, "
                        f"quarantined {tally.quarantined:,} of {bad:,} unstorable, "
                        f"lost {tally.unwritten}"
                    )
            clean = statistics.median(rates["clean"])
            print(f"P11 store, {dialect}: {count:,} observations, median of {rounds} rounds")
            for name in streams:
                rate = statistics.median(rates[name])
                ratio = "" if name == "clean" else f"  ({rate / clean:.2f}x clean)"
                print(f"  {name:<9} {rate:10,.0f} observations/s{ratio}; {results[name]}")


def part_serve(clients: int, seconds: float) -> None:
    from tests.store.services import free_port

    base = Path(tempfile.mkdtemp(prefix="taskhub-p11-serve-"))
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "taskhub", "serve", "--no-follow", "--port", str(port),
         "--db", f"sqlite:///{base / 'serve.db'}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    stop = threading.Event()
    cut = [0]
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        threads = [
            threading.Thread(target=_drip, args=(port, stop, cut), daemon=True)
            for _ in range(clients)
        ]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        latencies, failures = [], 0
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            started = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz")
                ok = conn.getresponse().status == 200
                conn.close()
            except OSError:
                ok = False
            latencies.append(time.perf_counter() - started)
            failures += not ok
            time.sleep(0.1)
        stop.set()
        latencies.sort()
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        print(f"P11 serve: {clients} slow clients dripping a header line a second, {seconds:.0f} s")
        print(
            f"  /healthz asked {len(latencies)} times: {failures} failed; "
            f"median {statistics.median(latencies) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
            f"max {latencies[-1] * 1000:.1f} ms; slow connections cut by the deadline: {cut[0]}"
        )
    finally:
        stop.set()
        proc.terminate()
        proc.communicate(timeout=30)
        shutil.rmtree(base, ignore_errors=True)


def _drip(port: int, stop: threading.Event, cut: list[int]) -> None:
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(b"GET /api/tasks HTTP/1.1\r\nHost: localhost\r\n")
                while not stop.is_set():
                    sock.sendall(b"X-Drip: 1\r\n")
                    time.sleep(1.0)
        except OSError:
            cut[0] += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["store", "serve", "all"], default="all")
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=25.0)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    if args.part in ("store", "all"):
        part_store(args.count, args.rounds, not args.no_postgres)
    if args.part in ("serve", "all"):
        part_serve(args.clients, args.seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
