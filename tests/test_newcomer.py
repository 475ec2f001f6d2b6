"""What a newcomer meets first (issue 22): each mistake is said plainly, where it was made,
before any request, and no secret shows, however short."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import taskhub
from taskhub import ConfigError, redact
from taskhub.hub import TaskHub
from taskhub.model import Task
from taskhub.testing import Simulation, simulate
from tests.toy import ToyAdapter, ToyOptions


def taskhub_command(
    *args: str, cwd: Path, config: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TASKHUB_")}
    if config is not None:
        clean["TASKHUB_CONFIG"] = str(config)
    return subprocess.run(
        [sys.executable, "-m", "taskhub", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**clean, "COLUMNS": "100", **env},
        timeout=60,
    )


def configure(path: Path, *sims: Simulation, **overrides: Any) -> Path:
    lines = []
    for sim in sims:
        lines.append(f'[backends."{sim.vendor}"]\nvendor = "{sim.vendor}"')
        options = {**sim.options, **overrides.get(sim.vendor, {})}
        lines += [f"{key} = {json.dumps(value)}" for key, value in options.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def empty_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with no taskhub.toml, and no TASKHUB_ variable set."""
    for name in ("TASKHUB_CONFIG", "TASKHUB_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- report --error on a vendor that takes no error text --------------------------------------


@pytest.mark.parametrize(
    ("vendor", "says"),
    [
        (
            "cognite",
            "cognite report takes no --error (it takes --output, --retryable); --error is for "
            'veritone; give cognite the error in the output: --output \'{"error": "..."}\'',
        ),
        (
            "veritone-edge",
            "veritone-edge report takes no --error (it takes no option); --error is for veritone",
        ),
    ],
)
def test_report_error_says_which_vendors_take_it_before_any_request(
    tmp_path: Path, vendor: str, says: str
) -> None:
    with simulate(vendor) as sim:
        config = configure(tmp_path / "taskhub.toml", sim)
        done = taskhub_command(
            "report", f"{vendor}:abc", "failed", "--error", "boom", cwd=tmp_path, config=config
        )
        assert sim.requests == []
    assert done.returncode == 2
    assert done.stderr == f"taskhub: error: {says}\n"


# -- no configuration file --------------------------------------------------------------------


def test_connect_without_a_configuration_says_none_was_found_and_where(empty_dir: Path) -> None:
    where = str(empty_dir / "taskhub.toml")
    with pytest.raises(ConfigError) as backend:
        taskhub.connect("media")
    assert "unknown vendor or backend 'media'" in str(backend.value)
    assert "no configuration file was found: $TASKHUB_CONFIG is not set" in str(backend.value)
    assert repr(where) in str(backend.value)
    with pytest.raises(ConfigError) as vendor:
        taskhub.connect("livepeer")  # a vendor, but none of its options anywhere
    assert "livepeer.api_key: required option is missing" in str(vendor.value)
    assert repr(where) in str(vendor.value)
    # Given a configuration (or the options), nothing is said about files.
    with pytest.raises(ConfigError) as given:
        taskhub.connect("media", config={"backends": {}})
    assert "no configuration file" not in str(given.value)


def test_get_without_a_configuration_says_none_was_found_and_where(tmp_path: Path) -> None:
    done = taskhub_command("get", "livepeer:abc", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("taskhub: error: no configuration: no --config FILE, no ")
    assert f"no ./taskhub.toml (in {tmp_path})" in done.stderr
    assert "api_key" not in done.stderr  # not the missing option of a vendor never configured


# -- TASKHUB_BACKEND --------------------------------------------------------------------------


def test_a_taskhub_backend_naming_nothing_names_the_variable(
    empty_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = {"backends": {"media": {"vendor": "livepeer", "api_key": "k" * 12}}}
    monkeypatch.setenv("TASKHUB_BACKEND", "nosuch")
    with pytest.raises(ConfigError) as info:
        taskhub.connect(config=cfg)
    assert str(info.value).startswith("TASKHUB_BACKEND='nosuch' names no backend: ")
    monkeypatch.setenv("TASKHUB_BACKEND", "medai")
    with pytest.raises(ConfigError, match="did you mean 'media'"):
        taskhub.connect(config=cfg)


def test_the_command_names_taskhub_backend_too(tmp_path: Path) -> None:
    with simulate("livepeer") as sim:
        config = configure(tmp_path / "taskhub.toml", sim)
        (tmp_path / "spec.json").write_text(json.dumps({"kind": "upload", "url": "x", "name": "x"}))
        done = taskhub_command(
            "submit", "--spec", "spec.json", cwd=tmp_path, config=config, TASKHUB_BACKEND="nosuch"
        )
        assert sim.requests == []
    assert done.returncode == 2
    assert done.stderr.startswith("taskhub: error: TASKHUB_BACKEND='nosuch' names no backend")


# -- redaction --------------------------------------------------------------------------------


def test_taskhubs_own_hint_is_not_masked(empty_dir: Path) -> None:
    with pytest.raises(ConfigError) as info:
        taskhub.connect()  # no file, no backend: the hint says how to name a vendor directly
    assert "taskhub.connect('livepeer', api_key=...)" in str(info.value)
    assert redact.text("connect('x', api_key=...)") == "connect('x', api_key=...)"
    assert "abcdef123" not in redact.text("connect('x', api_key=abcdef123)")
    assert redact.text("api_key=...abcdef") == "api_key=***"  # a value, not the placeholder


def test_a_short_configured_secret_is_masked_in_errors(tmp_path: Path) -> None:
    """The simulator echoes a wrong key back ("no token wrong found"); a five-letter key is
    masked where it stands as a word, as a longer one is anywhere."""
    with simulate("livepeer") as sim:
        config = configure(tmp_path / "taskhub.toml", sim, livepeer={"api_key": "wrong"})
        done = taskhub_command("ls", "--backend", "livepeer", cwd=tmp_path, config=config)
    assert done.returncode == 1
    assert "no token *** found" in done.stderr
    assert "wrong" not in done.stderr.split()


# -- watch checks every ref before reading any -------------------------------------------------


@pytest.mark.parametrize("bad", ["nosuch:abc", "livepeer:a b"])
def test_watch_checks_every_ref_before_reading_any(tmp_path: Path, bad: str) -> None:
    with simulate("livepeer") as sim, sim.connect() as hub:
        task = hub.submit(kind="upload", url="https://m.example/in.mp4", name="in")
        config = configure(tmp_path / "taskhub.toml", sim)
        seen = len(sim.requests)
        done = taskhub_command("watch", task.ref, bad, cwd=tmp_path, config=config)
        assert len(sim.requests) == seen  # the first, good ref was not read either
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr


# -- a parser that returns no status ----------------------------------------------------------


class NoStatus(ToyAdapter):
    """An adapter whose parser forgot the status table."""

    parser = staticmethod(lambda payload, backend: Task(backend, "toy", "t1", None))  # type: ignore[arg-type]


def test_a_parser_returning_no_status_is_a_type_error_naming_the_parser(toy: Simulation) -> None:
    hub = TaskHub(NoStatus(ToyOptions(**toy.options), backend="toy"))
    with pytest.raises(TypeError, match="toy's parser returned a Task whose status is NoneType"):
        hub.submit(input="x")
    with pytest.raises(TypeError, match=r"STATUSES\.normalize\(word\)"):
        NoStatus.parse_detached({"id": "t1"})
    hub.close()
