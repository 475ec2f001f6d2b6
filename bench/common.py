"""Shared helpers: interleaved repetition, medians, printing. Benchmarks never assert a time."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def interleaved(
    sides: dict[str, Callable[[], object]], *, calls: int, rounds: int
) -> dict[str, float]:
    """Median seconds per call of each side, alternating sides round by round."""
    samples: dict[str, list[float]] = {name: [] for name in sides}
    for fn in sides.values():  # warm up connections, caches and imports
        for _ in range(max(3, calls // 10)):
            fn()
    for _ in range(rounds):
        for name, fn in sides.items():
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            samples[name].append((time.perf_counter() - start) / calls)
    return {name: statistics.median(values) for name, values in samples.items()}


def show(title: str, figures: dict[str, float], *, unit: str = "us", scale: float = 1e6) -> None:
    """Print one measure's medians and ratios against the first side."""
    print(title)
    base_name, base = next(iter(figures.items()))
    for name, value in figures.items():
        ratio = "" if name == base_name else f"   {value / base:.3f}x {base_name}"
        print(f"  {name:<34} {value * scale:10.1f} {unit}{ratio}")


def peek(counter: Any) -> int:
    """The next number an ``itertools.count`` gives, without taking it (it has no read; its
    repr is "count(N)")."""
    return int(repr(counter)[6:-1])


def quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (0.0 for none): the value at that rank."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
