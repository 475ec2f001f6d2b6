"""P6: stream hub.list() over 1k / 10k / 100k Livepeer tasks: peak memory growth.

Target: under 20 MB, flat in the number of tasks. The simulator runs in a child process with
the tasks already there, so tracemalloc in this process sees only the client: the growth is
the peak during the walk minus what was allocated before it.
"""

from __future__ import annotations

import gc
import multiprocessing
import time
import tracemalloc
from typing import Any

import taskhub


def serve(count: int, ready: Any, stop: Any) -> None:
    from taskhub.testing import simulate

    with simulate("livepeer", max_active=count + 1) as sim:
        sim.simulator.bulk(count)  # type: ignore[attr-defined]
        ready.put(sim.options)
        stop.wait(600)


def run(count: int) -> tuple[int, float, float]:
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Queue(), context.Event()
    child = context.Process(target=serve, args=(count, ready, stop), daemon=True)
    child.start()
    try:
        options = ready.get(timeout=600)
        hub = taskhub.connect("livepeer", **options, page_size=1000, timeout=120)
        next(iter(hub.list(limit=1)))  # warm imports and the connection pool
        gc.collect()
        tracemalloc.start()
        baseline, _ = tracemalloc.get_traced_memory()
        started = time.perf_counter()
        seen = sum(1 for _ in hub.list())
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        hub.close()
    finally:
        stop.set()
        child.join(30)
    assert seen == count, (seen, count)
    return seen, (peak - baseline) / 1e6, elapsed


def main() -> None:
    print("P6 stream hub.list() (page_size 1000): client peak memory growth during the walk")
    for count in (1_000, 10_000, 100_000):
        seen, growth, elapsed = run(count)
        print(
            f"  {seen:>7,} tasks   peak growth {growth:6.1f} MB   "
            f"({elapsed:5.1f} s with tracemalloc on)"
        )


if __name__ == "__main__":
    main()
