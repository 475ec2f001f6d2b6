"""P4 (deterministic companion): CPU instructions per parsed task, per vendor, by callgrind.

Wall and CPU time on a shared virtual machine swing by tens of percent between runs, so this
counts instructions instead (valgrind --tool=callgrind; the same number on every run for the
same code and Python). It parses 2,000 real-shaped payloads per vendor and subtracts a run
that only builds them. Needs valgrind (Debian package valgrind); skipped without it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

COUNT = 2000
SCRIPT = """
import sys
sys.path.insert(0, {bench!r})
from taskhub import registry
import p4_parse
vendor, mode = sys.argv[1], sys.argv[2]
parse = registry.load(vendor).parser
payloads = [p4_parse.MAKERS[vendor](n) for n in range({count})]
if mode == "run":
    for payload in payloads:
        parse(payload, vendor)
"""


def instructions(script: Path, vendor: str, mode: str) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={tmp}/out",
                sys.executable,
                str(script),
                vendor,
                mode,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    match = re.search(r"refs:\s*([\d,]+)", done.stderr)
    assert match, done.stderr[-500:]
    return int(match.group(1).replace(",", ""))


def main() -> None:
    if shutil.which("valgrind") is None:
        print("P4 instructions: valgrind not found, skipped")
        return
    bench = str(Path(__file__).parent.resolve())
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "parse.py"
        script.write_text(SCRIPT.format(bench=bench, count=COUNT))
        sys.path.insert(0, bench)
        from p4_parse import MAKERS

        print(f"P4 instructions per parsed task (callgrind, {COUNT} tasks per vendor)")
        for vendor in MAKERS:
            per_task = (
                instructions(script, vendor, "run") - instructions(script, vendor, "base")
            ) / COUNT
            print(f"  {vendor:<15} {per_task:>9,.0f}")


if __name__ == "__main__":
    main()
