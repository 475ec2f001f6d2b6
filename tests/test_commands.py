"""The taskhub command end to end: real subprocesses, a pseudo-terminal for the progress bar."""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import pty
import select
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from taskhub import config as taskhub_config
from taskhub.states import State

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
    # Where it recorded: by default a new SQLite file in the temp directory, kept.
    page = lines[-1]
    assert page.startswith(
        "See them on a page (http://127.0.0.1:8765/): taskhub serve --no-follow --db "
    )
    db = Path(page.split(" --db ", 1)[1].removeprefix("sqlite:///"))
    try:
        assert db.parent == Path(tempfile.gettempdir()) and db.is_file(), page
        assert db.stat().st_mode & 0o777 == 0o600  # every task the demo ran: its owner's only
    finally:
        for leftover in db.parent.glob(db.name + "*"):
            leftover.unlink()
    header = lines.index(next(line for line in lines if line.startswith("BACKEND")))
    rows = lines[header + 1 : -3]  # then the summary, what to try next and the page
    assert {r.split()[0] for r in rows} == {
        "cognite",
        "livepeer",
        "veritone",
        "veritone-edge",
        "vionlabs",
    }
    assert all(" succeeded " in r for r in rows)
    # VENDOR would repeat BACKEND here (each backend is named after its vendor): left out.
    assert lines[header].split() == ["BACKEND", "ID", "KIND", "STATE", "RAW", "REASON", "PROGRESS"]
    # One plain line per transition when piped, no cursor codes; the first observation is
    # "first seen", never a made-up state; a line says what the word in parentheses is.
    assert "\x1b" not in done.stdout
    assert "the word in parentheses is the vendor's own status word" in lines[0]
    assert "vionlabs:demo-film/markers/1.0.1: first seen as queued (pending)" in lines
    assert "new ->" not in done.stdout and "-> running (" in done.stdout
    # It ends with a one-line summary and what to try next, listing and getting included.
    summary, after = lines[-3], lines[-2]
    assert summary.startswith("5 of 5 tasks succeeded in ")
    assert after.startswith("Next: ") and "taskhub ls --config" in after and "taskhub get" in after


def test_the_demo_store_is_served_without_the_simulators(tmp_path: Path) -> None:
    """The demo records into its store and its last line is a command that serves it; that
    command shows the demo's tasks with the simulators gone, with no configuration and with
    one whose backends cannot be reached."""
    pytest.importorskip("waitress", reason="needs the serve extra: pip install 'taskhub[serve]'")
    from tests.store.services import await_serving, free_port

    db = f"sqlite:///{tmp_path / 'demo.db'}"
    done = taskhub("demo", "--db", db)
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert (
        last == f"See them on a page (http://127.0.0.1:8765/): taskhub serve --no-follow --db {db}"
    )
    command = shlex.split(last.split(": ", 1)[1])
    dead = tmp_path / "dead.toml"  # a backend nothing answers for
    dead.write_text(
        '[backends.livepeer]\nvendor = "livepeer"\napi_key = "k"\n'
        f'base_url = "http://127.0.0.1:{free_port()}/api"\n'
    )
    for config in (None, dead):
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("TASKHUB_CONFIG",)}
        extra = ["--config", str(config)] if config else []
        proc = subprocess.Popen(
            [sys.executable, "-m", "taskhub", *command[1:], *extra, "--port", str(port)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env,
        )  # fmt: skip
        try:
            await_serving(proc, f"http://127.0.0.1:{port}")
            url = f"http://127.0.0.1:{port}/api/tasks?limit=1000"
            with urllib.request.urlopen(url, timeout=10) as resp:
                data = json.loads(resp.read())
            top = {t["vendor"]: t for t in data["tasks"] if t["parent_id"] is None}
            assert set(top) == {"cognite", "livepeer", "veritone", "veritone-edge", "vionlabs"}
            assert {t["status"]["state"] for t in data["tasks"]} == {"succeeded"}
            for task in data["tasks"]:
                jsonschema.validate(task, SCHEMA)
            ref = top["livepeer"]["ref"]
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/api/tasks/{ref}/transitions", timeout=10
            ) as resp:
                steps = json.loads(resp.read())["transitions"]
            assert [s["to"] for s in steps] == ["queued", "running", "succeeded"]
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=30)
        assert proc.returncode == 0


def test_demo_json_validates_against_the_schema(tmp_path: Path) -> None:
    done = taskhub("demo", "--json", "--db", f"sqlite:///{tmp_path / 'demo.db'}")
    assert done.returncode == 0, done.stderr
    # The talk goes to stderr, the page's line last; stdout is only the JSON.
    assert done.stderr.strip().splitlines()[-1].startswith("See them on a page")
    tasks = json.loads(done.stdout)
    assert len(tasks) == 5
    for task in tasks:
        jsonschema.validate(task, SCHEMA)


def demo_on_a_terminal(term: str, db: Path) -> tuple[int, str]:
    """``taskhub demo`` on a pseudo-terminal whose TERM is ``term``, recording into the SQLite
    file ``db``: exit code and output."""
    pid, fd = pty.fork()
    if pid == 0:  # the child runs the command on the pseudo-terminal
        env = {**os.environ, "TERM": term}
        argv = [sys.executable, "-m", "taskhub", "demo", "--db", f"sqlite:///{db}"]
        os.execve(sys.executable, argv, env)
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
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def test_the_progress_display_draws_bars_on_a_terminal(tmp_path: Path) -> None:
    code, text = demo_on_a_terminal("xterm", tmp_path / "demo.db")
    assert code == 0, text
    assert "\x1b[2K" in text and "\x1b[5F" in text  # five lines redrawn in place
    assert "succeeded (COMPLETED)" in text  # the state and the vendor's word
    # No simulated vendor reports progress at the end: the bar stays blank, never 100 %.
    assert "[                    ]" in text and "100%" not in text
    assert "->" not in text  # no transition lines on a terminal


def test_a_dumb_terminal_gets_plain_lines_without_cursor_codes(tmp_path: Path) -> None:
    code, text = demo_on_a_terminal("dumb", tmp_path / "demo.db")
    assert code == 0, text
    assert "\x1b" not in text
    assert ": first seen as " in text and " -> succeeded (" in text


def start_detached(config: Path) -> int:
    """``taskhub simulate --write CONFIG --detach``: returns once the file is written and the
    simulators serve; the pid of the background process it left."""
    started = taskhub(
        "simulate", "--write", str(config), "--speed", "50", "--duration", "300", "--detach"
    )
    assert started.returncode == 0, started.stderr
    return int(started.stdout.split("kill ", 1)[1].split()[0])


def stop(pid: int) -> None:
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``taskhub simulate --detach`` in the background and the configuration it wrote."""
    config = tmp_path_factory.mktemp("sim") / "taskhub.toml"
    pid = start_detached(config)
    yield config
    stop(pid)


def test_simulate_detach_then_a_reader_at_once_does_not_race(tmp_path: Path) -> None:
    config = tmp_path / "sim.toml"
    pid = start_detached(config)
    try:
        # No waiting, no polling for the file: the very next command reads it.
        listed = subprocess.run(
            [sys.executable, "-m", "taskhub", "ls", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert listed.returncode == 0, listed.stderr
        assert listed.stdout.startswith("BACKEND")
        assert config.stat().st_mode & 0o077 == 0  # it holds the simulators' tokens
    finally:
        stop(pid)


def test_simulate_in_the_foreground_writes_the_file_whole(tmp_path: Path) -> None:
    """Without --detach (e.g. `taskhub simulate &`), the file appears complete or not at all."""
    config = tmp_path / "sim.toml"
    process = subprocess.Popen(
        [sys.executable, "-m", "taskhub", "simulate", "--write", str(config), "--duration", "30"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not config.exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        loaded = taskhub_config.load(config)  # the first sight of it already loads
        assert set(loaded.backends) >= {"cognite", "livepeer", "vionlabs"}
        assert [p.name for p in tmp_path.iterdir()] == ["sim.toml"]  # no temporary left
    finally:
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
    names = taskhub("backends", "--names", config=served).stdout.split()
    assert names == ["cognite", "livepeer", "veritone", "veritone-edge", "vionlabs"]
    ref = submit_demo_job(served, "livepeer")
    table = taskhub("ls", config=served)
    assert table.returncode == 0, table.stderr
    assert ref.split(":", 1)[1] in table.stdout
    # Vionlabs has no listing: skipped, and stderr says why and what to do instead.
    assert "vionlabs: nothing listed: vionlabs does not support list" in table.stderr
    assert "taskhub get vionlabs:ID" in table.stderr
    as_json = json.loads(taskhub("ls", "--format", "json", config=served).stdout)
    for task in as_json:
        jsonschema.validate(task, SCHEMA)
    summary = taskhub("ls", "--summary", config=served).stdout
    assert summary.startswith("BACKEND") and "livepeer" in summary


def test_ls_of_a_backend_without_a_listing_says_why_nothing_is_listed(served: Path) -> None:
    only = taskhub("ls", "--backend", "vionlabs", config=served)
    assert only.returncode == 1 and only.stdout == ""
    assert only.stderr.count("\n") == 1
    assert "the Tasks API has no listing" in only.stderr


def test_ls_csv_has_ref_times_duration_and_message_and_blank_progress(served: Path) -> None:
    ref = submit_demo_job(served, "livepeer")
    assert taskhub("watch", ref, "--timeout", "60", config=served).returncode == 0
    out = taskhub("ls", "--format", "csv", "--backend", "livepeer", config=served)
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert list(rows[0]) == [
        "ref",
        "backend",
        "vendor",
        "id",
        "kind",
        "state",
        "raw",
        "reason",
        "progress",
        "message",
        "created_at",
        "started_at",
        "updated_at",
        "finished_at",
        "duration",
    ]
    row = next(r for r in rows if r["ref"] == ref)
    assert row["state"] == "succeeded" and row["raw"] == "completed"
    assert row["progress"] == ""  # Livepeer sends none once completed: blank, not 100 %
    assert row["finished_at"].endswith("Z") and row["created_at"].endswith("Z")
    assert float(row["duration"]) > 0
    assert row["message"] == ""
    table = taskhub("ls", "--backend", "livepeer", config=served).stdout
    assert "100%" not in table


def test_ls_summary_honours_the_format(served: Path) -> None:
    submit_demo_job(served, "livepeer")
    as_json = json.loads(taskhub("ls", "--summary", "--format", "json", config=served).stdout)
    by_backend = {row["backend"]: row for row in as_json}
    assert "vionlabs" not in by_backend  # nothing was listed there
    livepeer = by_backend["livepeer"]
    assert livepeer["total"] >= 1
    assert livepeer["total"] == sum(livepeer[s.value] for s in State)
    assert livepeer["complete"] is True  # no --limit: every task listed was counted
    as_csv = list(
        csv.DictReader(
            io.StringIO(taskhub("ls", "--summary", "--format", "csv", config=served).stdout)
        )
    )
    assert {r["backend"]: int(r["total"]) for r in as_csv} == {
        b: r["total"] for b, r in by_backend.items()
    }
    assert list(as_csv[0])[:2] == ["backend", "pending"]
    assert list(as_csv[0])[-2:] == ["total", "complete"]
    assert {r["complete"] for r in as_csv} == {"true"}


def test_watch_jsonl_streams_one_object_per_transition(served: Path) -> None:
    ref = submit_demo_job(served, "livepeer")
    watched = taskhub("watch", ref, "--format", "jsonl", "--timeout", "60", config=served)
    assert watched.returncode == 0, watched.stderr
    records = [json.loads(line) for line in watched.stdout.splitlines()]
    assert all(set(r) == {"ref", "before", "after", "at", "change", "raw", "task"} for r in records)
    assert records[0]["before"] is None and records[0]["change"] == "first"
    assert records[-1]["after"] == "succeeded" and records[-1]["raw"] == "completed"
    for before, after in itertools.pairwise(records):
        assert after["before"] == before["after"]
    for record in records:
        assert record["ref"] == ref and record["at"].endswith("Z")
        jsonschema.validate(record["task"], SCHEMA)


def test_watch_exits_1_when_a_watched_task_does_not_succeed(served: Path) -> None:
    ref = submit_demo_job(served, "cognite")
    assert taskhub("cancel", ref, config=served).returncode == 0
    watched = taskhub("watch", ref, "--timeout", "60", config=served)
    assert watched.returncode == 1
    assert watched.stderr.startswith(f"taskhub: {ref} ended cancelled (TERMINATED)")
    assert watched.stderr.count("\n") == 1
    as_jsonl = taskhub("watch", ref, "--format", "jsonl", config=served)
    assert as_jsonl.returncode == 1
    assert json.loads(as_jsonl.stdout.splitlines()[-1])["after"] == "cancelled"


def test_watch_with_no_time_left_prints_a_finished_task_and_rounds_its_times(
    served: Path,
) -> None:
    ref = submit_demo_job(served, "livepeer")
    assert taskhub("watch", ref, "--timeout", "60", config=served).returncode == 0
    again = taskhub("watch", ref, "--timeout", "0", config=served)  # the first read counts
    assert again.returncode == 0, again.stderr
    assert again.stdout.rstrip().endswith("first seen as succeeded (completed)")
    waiting = submit_demo_job(served, "cognite")  # runs until a worker reports its step
    for timeout in ("0", "0.01"):
        timed_out = taskhub("watch", waiting, "--timeout", timeout, config=served)
        assert timed_out.returncode == 3, timed_out.stderr
        assert timed_out.stderr == (
            f"taskhub: cognite watch: 1 task still unfinished after {timeout} s ({waiting})\n"
        )


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
    assert watched.stdout.rstrip().endswith("succeeded (COMPLETED)")
    other = submit_demo_job(served, "cognite")
    cancelled = taskhub("cancel", other, "--reason", "not needed", config=served)
    assert cancelled.returncode == 0 and "cancelled" in cancelled.stdout
    retried = taskhub("retry", other, config=served)
    assert retried.returncode == 0 and "running" in retried.stdout
    # The first job succeeded: a cancel is refused before it is sent, unless forced.
    refused = taskhub("cancel", ref, config=served)
    assert refused.returncode == 1 and "succeeded" in refused.stderr, refused.stderr
    assert "--force" in refused.stderr or "force" in refused.stderr
    forced = taskhub("cancel", ref, "--force", config=served)
    assert "Traceback" not in forced.stderr
    assert json.loads(taskhub("get", ref, "--json", config=served).stdout)["status"]["state"] in (
        "succeeded",
        "cancelled",
    )


def test_errors_are_one_line_with_documented_exit_codes(served: Path, tmp_path: Path) -> None:
    missing = taskhub("get", "livepeer:00000000-0000-4000-8000-000000000000", config=served)
    assert missing.returncode == 1
    assert missing.stderr.count("\n") == 1 and "Traceback" not in missing.stderr
    assert "not found" in missing.stderr
    unknown = taskhub("get", "livepeeer:x", config=served)
    assert unknown.returncode == 2 and "did you mean 'livepeer'" in unknown.stderr
    bad_ref = taskhub("get", "no-colon", config=served)
    assert bad_ref.returncode == 2 and "expected BACKEND:ID" in bad_ref.stderr
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
