"""The command keeps docs/cli.md's word on usage: exit 2 for a usage mistake, caught before any
request; one line, never a traceback; what to do when there is no configuration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from taskhub.cli import EXIT_CODES, display
from taskhub.model import Status, Task
from taskhub.states import State

# Nothing listens on port 9 (discard): a request that got out would fail with exit 1 after
# retries, so exit 2 also shows that nothing was sent.
CONFIG = """\
default = "media"

[backends.flows]
vendor = "cognite"
base_url = "http://127.0.0.1:9"
project = "p"
token = "t"

[backends.media]
vendor = "livepeer"
base_url = "http://127.0.0.1:9/api"
api_key = "k"

[backends.films]
vendor = "vionlabs"
base_url = "http://127.0.0.1:9"
api_key = "k"
"""


def taskhub(
    *args: str, cwd: Path | None = None, config: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKHUB_")}
    env["COLUMNS"] = "100"
    if config is not None:
        env["TASKHUB_CONFIG"] = str(config)
    return subprocess.run(
        [sys.executable, "-m", "taskhub", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "taskhub.toml"
    path.write_text(CONFIG)
    return path


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("ls", "--state", "finished"), "argument --state: unknown state 'finished'"),
        (("ls", "--limit", "0"), "argument --limit: '0' is not a whole number of 1 or more"),
        (("ls", "--limit", "ten"), "argument --limit: 'ten' is not a whole number"),
        (("ls", "--format", "xml"), "argument --format: invalid choice: 'xml'"),
        (("get", "no-colon"), "'no-colon' is not a reference: expected BACKEND:ID"),
        (("watch", "media:x", ":y"), "':y' is not a reference: expected BACKEND:ID"),
        (("cancel", "media:"), "'media:' is not a reference"),
        (("report", "media:x", "done"), "argument state: unknown state 'done'"),
        (("report", "media:x", "failed", "--output", "notjson"), "argument --output: not JSON"),
        (("watch", "media:x", "--timeout", "-5"), "argument --timeout: '-5' is not a number"),
        (("watch", "media:x", "--timeout", "nan"), "argument --timeout: 'nan' is not a number"),
        (("watch", "media:x", "--format", "yaml"), "argument --format: invalid choice: 'yaml'"),
        (("demo", "--speed", "0"), "argument --speed: '0' is not a number greater than 0"),
        (("simulate", "--speed", "-1"), "argument --speed: '-1' is not a number greater than 0"),
        (("simulate", "--write", "/missing/dir/x.toml"), "no directory '/missing/dir'"),
        (("simulate", "--duration", "-1"), "argument --duration"),
        (("completion", "fish"), "argument shell: invalid choice: 'fish'"),
        (("serve", "--port", "99999"), "argument --port: '99999' is not a port number"),
        (("serve", "--port", "-1"), "argument --port: '-1' is not a port number"),
    ],
)
def test_usage_mistakes_exit_2_before_any_request(
    config: Path, args: tuple[str, ...], says: str
) -> None:
    out = taskhub(*args, config=config)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    (line,) = out.stderr.splitlines()  # one line, as docs/cli.md promises
    assert line.startswith(f"taskhub {args[0]}: error: ") and says in line
    assert line.endswith(f"(see taskhub {args[0]} --help)")
    # The message names the argument, never a vendor that had nothing to do with it.
    assert "cognite" not in out.stderr and "livepeer" not in out.stderr


def test_ls_limit_0_does_not_blame_a_vendor(config: Path) -> None:
    out = taskhub("ls", "--limit", "0", "--backend", "media", config=config)
    assert out.returncode == 2
    assert "flows" not in out.stderr and "cognite" not in out.stderr


def test_ls_with_no_configuration_says_so_and_how_to_make_one(tmp_path: Path) -> None:
    for command in (("ls",), ("backends",)):
        out = taskhub(*command, cwd=tmp_path)  # no --config, no $TASKHUB_CONFIG, no ./taskhub.toml
        assert out.returncode == 2
        assert out.stdout == "" and out.stderr.count("\n") == 1
        assert out.stderr.startswith("taskhub: error: no configuration: ")
        assert "taskhub simulate --write taskhub.toml --detach" in out.stderr
        assert "[backends.NAME]" in out.stderr


def test_a_configuration_without_backends_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    out = taskhub("ls", "--config", str(empty))  # --config after the command works too
    assert out.returncode == 2
    assert out.stderr == (
        f"taskhub: error: {empty} configures no backend: add a [backends.NAME] table with "
        'vendor = "..." (see docs/configuration.md)\n'
    )


def test_an_unwritable_simulate_file_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    # A directory where the file should go: found only when writing, after the servers started.
    out = taskhub("simulate", "--write", str(tmp_path), "--duration", "0")
    assert out.returncode == 2
    assert out.stderr.startswith(f"taskhub: error: cannot write {str(tmp_path)!r}: ")
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    detached = taskhub("simulate", "--write", str(tmp_path), "--duration", "0", "--detach")
    assert detached.returncode == 2
    assert detached.stderr.startswith(f"taskhub: error: cannot write {str(tmp_path)!r}: ")
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind


def test_the_exit_codes_are_in_the_help_and_docs_cli_md() -> None:
    shown = taskhub("--help")
    assert shown.returncode == 0
    assert " ".join(shown.stdout.split()).endswith(" ".join(EXIT_CODES.split()))
    cli_md = (Path(__file__).parent.parent / "docs" / "cli.md").read_text()
    assert " ".join(EXIT_CODES.split()) in " ".join(cli_md.split())
    for code in ("0 success", "1 a taskhub error", "2 bad usage", "3 a wait", "130 interrupted"):
        assert code in EXIT_CODES


def test_an_id_the_vendor_would_refuse_is_a_usage_error_caught_before_sending(
    config: Path,
) -> None:
    out = taskhub("get", "films:not-a-triple", config=config)
    assert out.returncode == 2
    assert out.stderr.startswith("taskhub: error: vionlabs: task_id 'not-a-triple' is not a ")
    assert out.stderr.count("\n") == 1


def test_a_reader_that_goes_away_is_no_traceback() -> None:
    """`taskhub states | true`: the pipe is closed before the command writes."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "taskhub", "states"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 1
    assert done.stderr == ""


def test_csv_and_table_show_the_masked_task_and_no_invented_progress() -> None:
    failed = Task(
        "media",
        "livepeer",
        "x",
        Status(
            State.FAILED,
            "failed",
            message="upload of https://b.example/in.mp4?X-Amz-Signature=beefcafe failed",
        ),
    )
    done = Task("media", "livepeer", "y", Status(State.SUCCEEDED, "completed"))
    halfway = Task("media", "livepeer", "z", Status(State.RUNNING, "running", progress=0.5))
    shown = display.as_csv([failed, done, halfway]) + display.table([failed, done, halfway])
    assert "beefcafe" not in shown and "https://b.example/in.mp4?" in shown
    rows = {r["id"]: r for r in map(display.row, (failed, done, halfway))}
    assert rows["y"]["progress"] == ""  # succeeded, but the vendor gave no progress
    assert rows["z"]["progress"] == "50%"
    assert "100%" not in shown


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--db", "bogus"), "cannot open the store"),
        (("--host", "999.1.1.1", "--port", "0", "--db", "sqlite:///t.db"), "cannot serve on 999"),
    ],
)
def test_serve_refuses_a_store_or_address_it_cannot_use_in_one_line(
    tmp_path: Path, args: tuple[str, ...], says: str
) -> None:
    out = taskhub("serve", "--no-follow", *args, cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    assert len(out.stderr.splitlines()) == 1 and says in out.stderr, out.stderr


def test_a_store_url_that_cannot_be_opened_shows_no_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://user:S3CRETPW@127.0.0.1:1/taskhub"  # nothing listens on port 1
    for args in (("demo", "--db", url), ("serve", "--no-follow", "--db", url)):
        out = taskhub(*args, cwd=tmp_path)
        assert out.returncode == 2, out.stderr
        assert "cannot open the store postgresql+psycopg://user:***@127.0.0.1:1" in out.stderr
        assert "S3CRETPW" not in out.stderr + out.stdout
