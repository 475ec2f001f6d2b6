"""P8: the dashboard over a store of 1,000,000 tasks (and of 10,000, in the same run), on
SQLite and on PostgreSQL.

Goals at each size: ``GET /api/tasks?limit=100`` p99 < 50 ms on the first and on the last page
(keyset paging: the last page is one cursor away, not an offset of a million), ``/api/counts``
< 50 ms, a ``/metrics`` scrape < 100 ms, the page's load event in headless Chromium < 1 s,
sustained writes >= 5,000 transitions/s with the store already holding the million; and the
store's size on disk per task, printed.

For each database and size the store is filled through ``Store.record`` — three observations
per unit of work (queued -> running -> its end; 9 in 10 finish), a third of them with two
subtasks of three observations each — arriving a poll cycle at a time as a poller would send
them, in chunks with the writer's queue kept short (the rate is the fill's whole). Then a real
``taskhub serve --db URL`` process (no configuration: it follows nothing and serves the store)
answers the HTTP requests, sent over one keep-alive connection from this process. Last, a
further 20,000 units of work are written into the full store: the sustained rate. PostgreSQL
is a throwaway server started the way the tests start it (Debian's package, initdb in a
temporary directory); it is skipped with a message when absent. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the tests' PostgreSQL helper
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from taskhub.model import Status, Task  # noqa: E402
from taskhub.states import State  # noqa: E402
from taskhub.store import Store  # noqa: E402
from taskhub.store.reader import encode_cursor  # noqa: E402
from taskhub.store.schema import tasks as tasks_table  # noqa: E402

T0 = datetime(2026, 12, 1, tzinfo=timezone.utc)
BACKENDS = {
    "media": "livepeer",
    "cdf": "cognite",
    "aiware": "veritone",
    "edge": "veritone-edge",
    "vion": "vionlabs",
}
#: What each task ends as (most succeed; a few fail or are still running).
ENDS = [State.SUCCEEDED] * 8 + [State.FAILED, State.RUNNING]
#: Units of work made (and recorded) at a time, and the writer's queue kept below this.
CHUNK = 5_000
QUEUE = 20_000


def _task(n: int, step: int, *, first: int = 0, part: int | None = None) -> Task:
    backends = list(BACKENDS.items())
    backend, vendor = backends[n % len(backends)]
    end = ENDS[n % len(ENDS)]
    state = (State.QUEUED, State.RUNNING, end)[step]
    created = T0 + timedelta(seconds=n + first)
    status = Status(
        state,
        raw=state.value,
        vendor=vendor,
        progress=0.5 if state is State.RUNNING else None,
        message="input could not be decoded" if state is State.FAILED else None,
        updated_at=created + timedelta(seconds=10 * (step + 1)),
    )
    task_id, parent = f"task-{n + first:07d}", None
    if part is not None:
        task_id, parent = f"{task_id}-part{part}", task_id
    return Task(
        backend, vendor, task_id, status, kind="transcode", parent_id=parent, created_at=created
    )


def observations(count: int, first: int = 0) -> Iterator[list[Task]]:
    """Chunks of observations of ``count`` units of work (from number ``first``): each chunk
    is three poll cycles of up to :data:`CHUNK` units, a third with two parts."""
    for start in range(0, count, CHUNK):
        numbers = range(start, min(count, start + CHUNK))
        for step in range(3):
            chunk = []
            for n in numbers:
                chunk.append(_task(n, step, first=first))
                if n % 3 == 0:
                    chunk += [_task(n, step, first=first, part=p) for p in (1, 2)]
            yield chunk


def fill(store: Store, count: int, first: int = 0) -> dict[str, float]:
    """Record ``count`` units of work (and their parts) through ``store``; the rate."""
    before = store.tally().transitions
    start = time.perf_counter()
    for chunk in observations(count, first):
        for task in chunk:
            store.record(task)
        while store.pending > QUEUE:
            time.sleep(0.01)
    store.flush()
    seconds = time.perf_counter() - start
    written = store.tally().transitions - before
    return {"transitions": written, "seconds": seconds, "per second": written / seconds}


def size_on_disk(store: Store, url: str) -> int:
    """Bytes the database takes: the SQLite file with its write-ahead log, or PostgreSQL's
    database."""
    if store.dialect == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    with store.reader_engine.connect() as conn:
        query = sa.text("SELECT pg_database_size(current_database())")
        return int(conn.execute(query).scalar_one())


def last_page_cursor(store: Store) -> str | None:
    """The cursor of the last page of units of work (the 100 oldest); None when the first
    page is the last."""
    query = (
        sa.select(tasks_table.c.observed_at, tasks_table.c.ref)
        .where(tasks_table.c.parent_ref.is_(None))
        .order_by(tasks_table.c.observed_at, tasks_table.c.ref)
        .offset(100)
        .limit(1)
    )
    with store.reader_engine.connect() as conn:
        row = conn.execute(query).first()
    return None if row is None else encode_cursor(row.observed_at, row.ref)


@contextlib.contextmanager
def serving(url: str) -> Iterator[int]:
    """``taskhub serve --db URL`` on a free port, with no configuration; its port."""
    from tests.store.services import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "TASKHUB_CONFIG"}
    with tempfile.TemporaryDirectory() as cwd:  # no ./taskhub.toml to pick up
        proc = subprocess.Popen(
            [sys.executable, "-m", "taskhub", "serve", "--db", url, "--port", str(port)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=env,
        )  # fmt: skip
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if f":{port}/" not in line:
                raise RuntimeError(f"taskhub serve did not start: {line}{proc.stderr.read()}")  # type: ignore[union-attr]
            yield port
        finally:
            proc.terminate()
            proc.communicate(timeout=60)


def timed_gets(port: int, path: str, count: int) -> list[float]:
    """Seconds per ``GET path`` (body read whole), ``count`` times on one connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times = []
    try:
        for i in range(count + max(2, count // 20)):  # the first few warm up
            start = time.perf_counter()
            conn.request("GET", path)
            resp = conn.getresponse()
            body = resp.read()
            elapsed = time.perf_counter() - start
            if resp.status != 200 or not body:
                raise RuntimeError(f"GET {path}: HTTP {resp.status}: {body[:200]!r}")
            if i >= max(2, count // 20):
                times.append(elapsed)
    finally:
        conn.close()
    return times


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def spread(values: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(values),
        "p99": percentile(values, 0.99),
        "max": max(values),
    }


def page_load(port: int, loads: int) -> dict[str, float] | str:
    """Median seconds for the page in headless Chromium: to the load event, and until the
    table shows its rows; or why it was skipped."""
    browser = shutil.which("chromium") or "/usr/bin/chromium"
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not (os.path.exists(browser) and os.path.exists(driver_path)):
        return "skipped: Debian's chromium and chromium-driver are not installed"
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service as DriverService
    except ImportError:
        return "skipped: selenium is not installed (the test extra)"
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    profile = tempfile.mkdtemp(prefix="taskhub-p8-chromium-")
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", "--window-size=1400,1000",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=DriverService(driver_path), options=options)
    loaded, shown = [], []
    try:
        for i in range(loads + 1):  # the first warms the browser up
            start = time.perf_counter()
            driver.get(f"http://127.0.0.1:{port}/")  # returns after the load event
            rows = driver.execute_script(
                "return document.querySelectorAll('#tasks tbody tr').length"
            )
            end = time.perf_counter()
            timing = driver.execute_script(
                "var t = performance.getEntriesByType('navigation')[0];"
                "return [t.loadEventEnd, t.responseEnd - t.requestStart];"
            )
            if not rows:
                raise RuntimeError("the page showed no tasks")
            if i:
                loaded.append(timing[0] / 1000)
                shown.append(end - start)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    return {"load event": statistics.median(loaded), "driver.get": statistics.median(shown)}


def measure(url: str, count: int, args: argparse.Namespace) -> dict[str, Any]:
    """Every figure for one database holding ``count`` units of work."""
    store = Store(url)
    try:
        figures: dict[str, Any] = {"tasks": count, "write": fill(store, count)}
        figures["bytes"] = size_on_disk(store, url)
        cursor = last_page_cursor(store)
    finally:
        store.close()
    with serving(url) as port:
        figures["first page"] = spread(timed_gets(port, "/api/tasks?limit=100", args.requests))
        last = "/api/tasks?limit=100" + (f"&cursor={cursor}" if cursor else "")
        figures["last page"] = spread(timed_gets(port, last, args.requests))
        figures["filtered"] = spread(
            timed_gets(port, "/api/tasks?limit=100&vendor=cognite&state=failed", 50)
        )
        figures["counts"] = spread(timed_gets(port, "/api/counts", args.requests))
        figures["metrics"] = spread(timed_gets(port, "/metrics", args.scrapes))
        if args.browser:
            figures["page"] = page_load(port, args.loads)
    # Last, so the figures above are for a store of exactly ``count``: more units of work
    # written into the full store.
    store = Store(url)
    try:
        figures["sustained"] = fill(store, args.sustained, first=count)
        figures["rows"] = store.page(limit=1).total
    finally:
        store.close()
    return figures


def report(name: str, runs: list[dict[str, Any]]) -> None:
    """Print each figure of ``runs`` side by side, the smallest store first."""
    heads = "  ".join(f"{r['tasks']:>13,} tasks" for r in runs)
    print(f"  {name:<44} {heads}")

    def row(label: str, cells: list[str]) -> None:
        print(f"  {label:<44} " + "  ".join(f"{c:>19}" for c in cells))

    row(
        "store writes, fill (transitions/s; >= 5,000)",
        [f"{r['write']['per second']:,.0f}" for r in runs],
    )
    row("store writes, into the full store", [f"{r['sustained']['per second']:,.0f}" for r in runs])
    row("bytes on disk per unit of work", [f"{r['bytes'] / r['tasks']:,.0f}" for r in runs])
    for key, goal in (("first page", 50), ("last page", 50), ("filtered", 50),
                      ("counts", 50), ("metrics", 100)):  # fmt: skip
        row(
            f"{key} p99 / median ms (goal < {goal})",
            [f"{r[key]['p99'] * 1e3:.1f} / {r[key]['median'] * 1e3:.1f}" for r in runs],
        )
    if all(isinstance(r.get("page"), dict) for r in runs):
        row(
            "page load event ms (goal < 1,000)",
            [f"{r['page']['load event'] * 1e3:.0f}" for r in runs],
        )
    else:
        for r in runs:
            if "page" in r and isinstance(r["page"], str):
                print(f"  page load: {r['page']}")


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--compare", type=int, default=10_000, help="the smaller store (0: none)")
    parser.add_argument("--sustained", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--scrapes", type=int, default=50)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--no-browser", dest="browser", action="store_false")
    parser.add_argument("--no-postgres", dest="postgres", action="store_false")
    parser.add_argument("--no-sqlite", dest="sqlite", action="store_false")
    args = parser.parse_args(argv)
    sizes = [n for n in (args.compare, args.tasks) if n]
    print(f"P8 the dashboard over {' and '.join(f'{n:,}' for n in sizes)} units of work")
    results: list[dict[str, Any]] = []
    if args.sqlite:
        with tempfile.TemporaryDirectory(prefix="taskhub-p8-") as tmp:
            runs = [measure(f"sqlite:///{Path(tmp) / f'p8-{n}.db'}", n, args) for n in sizes]
        report("SQLite", runs)
        results += [{"database": "SQLite", **r} for r in runs]
    if not args.postgres:
        return results
    from tests.store.services import Postgres, postgres_bin

    bindir = postgres_bin()
    if bindir is None or not (bindir / "initdb").exists():
        print("  PostgreSQL: skipped: no server binaries under /usr/lib/postgresql/*/bin")
        return results
    base = Path("/tmp") / f"taskhub-p8-pg-{os.getpid()}"
    base.mkdir()
    server = Postgres(bindir, base)
    try:
        server.init()
        server.start()
        runs = [measure(server.create_database(f"p8_{n}"), n, args) for n in sizes]
        report("PostgreSQL", runs)
        results += [{"database": "PostgreSQL", **r} for r in runs]
    finally:
        server.stop("immediate")
        shutil.rmtree(base, ignore_errors=True)
    return results


if __name__ == "__main__":
    main()
