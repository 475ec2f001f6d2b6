"""The taskhub command end to end: real subprocesses, a pseudo-terminal for the progress bar."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).parent.parent
SCHEMA = json.loads((ROOT / "docs" / "task.schema.json").read_text())


def taskhub(
    *args: str, config: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "100"}
    env.pop("TASKHUB_BACKEND", None)
    if config is not None:
        env["TASKHUB_CONFIG"] = str(config)
    return subprocess.run(
        [sys.executable, "-m", "taskhub", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def test_demo_runs_all_five_vendors_to_succeeded() -> None:
    done = taskhub("demo")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    header = lines.index(next(line for line in lines if line.startswith("BACKEND")))
    rows = lines[header + 1 :]
    assert {r.split()[0] for r in rows} == {
        "cognite",
        "livepeer",
        "veritone",
        "veritone-edge",
        "vionlabs",
    }
    assert all(" succeeded " in r for r in rows)
    assert "-> running" in done.stdout  # one plain line per transition when piped


def test_demo_json_validates_against_the_schema() -> None:
    done = taskhub("demo", "--json")
    assert done.returncode == 0, done.stderr
    tasks = json.loads(done.stdout)
    assert len(tasks) == 5
    for task in tasks:
        jsonschema.validate(task, SCHEMA)


def test_the_progress_display_draws_bars_on_a_terminal() -> None:
    pid, fd = pty.fork()
    if pid == 0:  # the child runs the command on the pseudo-terminal
        os.execv(sys.executable, [sys.executable, "-m", "taskhub", "demo"])
    output = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    text = output.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "\x1b[2K" in text and "\x1b[" in text  # redrawn in place
    assert "[####################] 100%" in text
    assert "->" not in text  # no transition lines on a terminal


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``taskhub simulate`` in the background and the configuration it wrote."""
    config = tmp_path_factory.mktemp("sim") / "taskhub.toml"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "taskhub",
            "simulate",
            "--write",
            str(config),
            "--speed",
            "50",
            "--duration",
            "300",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not config.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert config.exists(), process.stderr.read() if process.stderr else ""
    yield config
    process.terminate()
    process.wait(timeout=30)


def submit_demo_job(config: Path, vendor: str) -> str:
    script = (
        "import taskhub\n"
        f"cfg = taskhub.config.load({str(config)!r})\n"
        f"job = cfg.job('{vendor}-demo')\n"
        "hub = taskhub.connect(job.backend, config=cfg)\n"
        "print(hub.submit(**job.spec).ref)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    return out.stdout.strip()


def test_backends_and_ls_across_the_simulators(served: Path) -> None:
    listed = taskhub("backends", config=served)
    assert listed.returncode == 0
    assert [line.split()[1] for line in listed.stdout.splitlines()][:1] == ["cognite"]
    ref = submit_demo_job(served, "livepeer")
    table = taskhub("ls", config=served)
    assert table.returncode == 0, table.stderr
    assert ref.split(":", 1)[1] in table.stdout
    assert "vionlabs cannot list tasks; skipped" in table.stderr
    as_json = json.loads(taskhub("ls", "--format", "json", config=served).stdout)
    for task in as_json:
        jsonschema.validate(task, SCHEMA)
    csv = taskhub("ls", "--format", "csv", "--backend", "livepeer", config=served).stdout
    assert csv.splitlines()[0] == "backend,vendor,id,kind,state,raw,reason,progress"
    summary = taskhub("ls", "--summary", config=served).stdout
    assert summary.startswith("BACKEND") and "livepeer" in summary


def test_get_watch_cancel_retry_and_report(served: Path) -> None:
    ref = submit_demo_job(served, "cognite")
    shown = taskhub("get", ref, "--json", config=served)
    assert json.loads(shown.stdout)["ref"] == ref
    step = None
    for _ in range(100):
        task = json.loads(taskhub("get", ref, "--json", config=served).stdout)
        running = [
            s
            for s in task["subtasks"]
            if s["status"]["state"] == "running" and s["params"]["external_id"] == "external-step"
        ]
        if running:
            step = running[0]["id"]
            break
        time.sleep(0.1)
    assert step is not None
    reported = taskhub(
        "report", f"cognite:{step}", "succeeded", "--output", '{"ok": true}', config=served
    )
    assert reported.returncode == 0, reported.stderr
    watched = taskhub("watch", ref, "--timeout", "60", config=served)
    assert watched.returncode == 0, watched.stderr
    assert "-> succeeded" in watched.stdout
    other = submit_demo_job(served, "cognite")
    cancelled = taskhub("cancel", other, "--reason", "not needed", config=served)
    assert cancelled.returncode == 0 and "cancelled" in cancelled.stdout
    retried = taskhub("retry", other, config=served)
    assert retried.returncode == 0 and "running" in retried.stdout


def test_errors_are_one_line_with_documented_exit_codes(served: Path, tmp_path: Path) -> None:
    missing = taskhub("get", "livepeer:00000000-0000-4000-8000-000000000000", config=served)
    assert missing.returncode == 1
    assert missing.stderr.count("\n") == 1 and "Traceback" not in missing.stderr
    assert "not found" in missing.stderr
    unknown = taskhub("get", "livepeeer:x", config=served)
    assert unknown.returncode == 2 and "did you mean 'livepeer'" in unknown.stderr
    bad_ref = taskhub("get", "no-colon", config=served)
    assert bad_ref.returncode == 1 and "expected BACKEND:ID" in bad_ref.stderr
    unsupported = taskhub("cancel", "livepeer:x", config=served)
    assert unsupported.returncode == 1 and "deleting the output asset" in unsupported.stderr
    illegal = taskhub("report", "livepeer:x", "succeeded", config=served)
    assert illegal.returncode == 1 and "does not support report" in illegal.stderr
    traced = taskhub("--debug", "get", "livepeeer:x", config=served)
    assert "Traceback" in traced.stderr
    ref = submit_demo_job(served, "livepeer")
    timed_out = taskhub("watch", ref, "--timeout", "0.01", config=served)
    assert timed_out.returncode in (0, 3)
    nothing = tmp_path / "none.toml"
    assert taskhub("ls", config=nothing).returncode == 2


def test_the_secret_never_reaches_the_output(served: Path) -> None:
    text = served.read_text()
    key = next(line.split('"')[1] for line in text.splitlines() if line.startswith("api_key"))
    debug = taskhub("--debug", "ls", "--backend", "livepeer", config=served)
    assert debug.returncode == 0
    assert "GET http" in debug.stderr  # the DEBUG HTTP log is on
    assert key not in debug.stdout + debug.stderr
