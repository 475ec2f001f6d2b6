"""P3: python -c "import taskhub" against python -c "import requests".

Target: at most 1.3x. Fresh interpreters, interleaved, medians of wall time.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time


def once(module: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
    return time.perf_counter() - start


def main(rounds: int = 25) -> None:
    once("requests"), once("taskhub")  # warm the file cache
    samples: dict[str, list[float]] = {"requests": [], "taskhub": [], "python (nothing)": []}
    for _ in range(rounds):
        for module in ("requests", "taskhub"):
            samples[module].append(once(module))
        samples["python (nothing)"].append(once("sys"))
    medians = {k: statistics.median(v) for k, v in samples.items()}
    print(f"P3 import time (fresh interpreter, median of {rounds})")
    for name, value in medians.items():
        print(f"  import {name:<20} {value * 1000:8.1f} ms")
    print(f"  ratio taskhub / requests   {medians['taskhub'] / medians['requests']:.3f}x")


if __name__ == "__main__":
    main()
