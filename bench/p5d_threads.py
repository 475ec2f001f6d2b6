"""P5d: 100 threads, each calling hub.wait on its own task of one backend.

Goal: at most 2 requests per poll cycle (a waiter that polled alone would make 100). Every
waiter registers with the backend's shared refresher, which reads all of them in one listing
per cycle; the requests the simulator receives during the waits are divided by the cycles.
"""

from __future__ import annotations

import argparse
import threading
import time
from typing import Any

import taskhub
from taskhub.testing import SimClock, simulate

POLL = taskhub.PollPolicy(initial=0.25, factor=1.0, ceiling=0.25, jitter=0.0)


def run(threads: int = 100) -> dict[str, Any]:
    """Wait for ``threads`` Livepeer uploads from as many threads; count requests per cycle."""
    with simulate("livepeer", clock=SimClock(speed=5), max_active=threads + 1) as sim:
        hub = sim.connect()
        tasks = [
            hub.submit(kind="upload", url=f"https://m.example/{n}.mp4", name="x")
            for n in range(threads)
        ]
        refresher = hub.refresher(POLL)
        before, cycles_before = len(sim.requests), refresher.cycles
        done: list[taskhub.Task] = []
        lock = threading.Lock()

        def wait(task: taskhub.Task) -> None:
            finished = sim.connect().wait(task, timeout=600, poll=POLL)
            with lock:
                done.append(finished)

        started = time.perf_counter()
        workers = [threading.Thread(target=wait, args=(t,)) for t in tasks]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started
        cycles = refresher.cycles - cycles_before
        requests = len(sim.requests) - before
    return {
        "threads": threads,
        "finished": sum(1 for t in done if t.state.terminal),
        "cycles": cycles,
        "requests": requests,
        "requests per cycle": requests / max(cycles, 1),
        "seconds": elapsed,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=100)
    args = parser.parse_args(argv)
    figures = run(args.threads)
    print(f"P5d {args.threads} threads each waiting on its own task (goal: <= 2 per cycle)")
    print(
        "  "
        + "  ".join(
            f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()
        )
    )
    return figures


if __name__ == "__main__":
    main()
