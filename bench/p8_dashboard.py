"""P8: the dashboard over a store of 10,000 tasks, on SQLite and on PostgreSQL.

Goals: ``GET /api/tasks?limit=100`` p99 < 50 ms, a ``/metrics`` scrape < 100 ms, store writes
>= 5,000 transitions/s. Also measured: the page's load time in headless Chromium (skipped,
with a message, when Debian's chromium and chromium-driver are absent).

For each database the store is filled through ``Store.record`` (three observations per task,
queued -> running -> succeeded, arriving a poll cycle at a time as a poller would send them;
the Task objects are made before the clock starts), which gives the write throughput; then a
real ``taskhub serve --db URL`` process (no configuration: it follows nothing and serves the
store) answers the HTTP requests, sent over one keep-alive connection from this process.
PostgreSQL is a throwaway server started the way the tests start it (Debian's package,
initdb in a temporary directory); it is skipped with a message when absent.
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

from taskhub.model import Status, Task  # noqa: E402
from taskhub.states import State  # noqa: E402
from taskhub.store import Store  # noqa: E402

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


def observations(count: int) -> list[list[Task]]:
    """Three poll cycles' observations of ``count`` tasks over the five vendors."""
    backends = list(BACKENDS.items())
    cycles: list[list[Task]] = [[], [], []]
    for n in range(count):
        backend, vendor = backends[n % len(backends)]
        end = ENDS[n % len(ENDS)]
        states = [State.QUEUED, State.RUNNING, end]
        created = T0 + timedelta(seconds=n)
        for step, state in enumerate(states):
            status = Status(
                state,
                raw=state.value,
                vendor=vendor,
                progress=0.5 if state is State.RUNNING else None,
                message="input could not be decoded" if state is State.FAILED else None,
                updated_at=created + timedelta(seconds=10 * (step + 1)),
            )
            cycles[step].append(
                Task(backend, vendor, f"task-{n:06d}", status, kind="transcode", created_at=created)
            )
    return cycles


def fill(url: str, count: int) -> dict[str, float]:
    """Record ``count`` tasks (3 transitions each) into the store at ``url``; the rate."""
    cycles = observations(count)
    store = Store(url)
    try:
        start = time.perf_counter()
        for cycle in cycles:
            for task in cycle:
                store.record(task)
        store.flush()
        seconds = time.perf_counter() - start
        written = store.count_transitions()
    finally:
        store.close()
    return {"transitions": written, "seconds": seconds, "per second": written / seconds}


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
            proc.communicate(timeout=30)


def timed_gets(port: int, path: str, count: int) -> list[float]:
    """Seconds per ``GET path`` (body read whole), ``count`` times on one connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    try:
        for i in range(count + max(2, count // 20)):  # the first few warm up
            start = time.perf_counter()
            conn.request("GET", path)
            resp = conn.getresponse()
            body = resp.read()
            elapsed = time.perf_counter() - start
            if resp.status != 200 or not body:
                raise RuntimeError(f"GET {path}: HTTP {resp.status}")
            if i >= max(2, count // 20):
                times.append(elapsed)
    finally:
        conn.close()
    return times


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


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


def measure(name: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    figures: dict[str, Any] = {"database": name, "write": fill(url, args.tasks)}
    w = figures["write"]
    print(
        f"  {name}: store writes {w['per second']:,.0f} transitions/s "
        f"({w['transitions']:,} in {w['seconds']:.2f} s; goal >= 5,000/s)"
    )
    with serving(url) as port:
        api = timed_gets(port, "/api/tasks?limit=100", args.requests)
        figures["api"] = {
            "median": statistics.median(api),
            "p99": percentile(api, 0.99),
            "max": max(api),
        }
        filtered = timed_gets(port, "/api/tasks?limit=100&vendor=cognite&state=failed", 50)
        figures["api filtered median"] = statistics.median(filtered)
        scrapes = timed_gets(port, "/metrics", args.scrapes)
        figures["metrics"] = {"median": statistics.median(scrapes), "max": max(scrapes)}
        a, m = figures["api"], figures["metrics"]
        print(
            f"  {name}: GET /api/tasks?limit=100 median {a['median'] * 1e3:.1f} ms, "
            f"p99 {a['p99'] * 1e3:.1f} ms, max {a['max'] * 1e3:.1f} ms "
            f"({args.requests} requests; goal p99 < 50 ms); filtered by vendor and state "
            f"median {figures['api filtered median'] * 1e3:.1f} ms"
        )
        print(
            f"  {name}: /metrics scrape median {m['median'] * 1e3:.1f} ms, "
            f"max {m['max'] * 1e3:.1f} ms ({args.scrapes} scrapes; goal < 100 ms)"
        )
        if args.browser:
            page = page_load(port, args.loads)
            figures["page"] = page
            if isinstance(page, str):
                print(f"  {name}: page load {page}")
            else:
                print(
                    f"  {name}: page in headless Chromium: load event "
                    f"{page['load event'] * 1e3:.0f} ms, driver.get to rows shown "
                    f"{page['driver.get'] * 1e3:.0f} ms (median of {args.loads})"
                )
    return figures


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--scrapes", type=int, default=50)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--no-browser", dest="browser", action="store_false")
    parser.add_argument("--no-postgres", dest="postgres", action="store_false")
    args = parser.parse_args(argv)
    print(f"P8 the dashboard over {args.tasks:,} tasks")
    results = []
    with tempfile.TemporaryDirectory(prefix="taskhub-p8-") as tmp:
        results.append(measure("SQLite", f"sqlite:///{Path(tmp) / 'p8.db'}", args))
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
        results.append(measure("PostgreSQL", server.create_database("p8"), args))
    finally:
        server.stop("immediate")
        shutil.rmtree(base, ignore_errors=True)
    return results


if __name__ == "__main__":
    main()
