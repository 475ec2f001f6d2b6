"""``taskhub serve``'s command line: what it reads from the environment, so that a secret
need not be typed where other local users read it (/proc/PID/cmdline), and what it refuses."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest


def env_with(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKHUB_")}
    return {**env, "COLUMNS": "100", **values}


def taskhub(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "taskhub", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
    )


def test_the_store_url_comes_from_taskhub_db_and_its_password_is_not_shown(
    tmp_path: Path,
) -> None:
    url = "postgresql+psycopg://user:S3CRETPW@127.0.0.1:1/taskhub"  # nothing listens on port 1
    out = taskhub("serve", "--no-follow", env=env_with(TASKHUB_DB=url), cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert "cannot open the store postgresql+psycopg://user:***@127.0.0.1:1" in out.stderr
    assert "S3CRETPW" not in out.stdout + out.stderr
    assert not (tmp_path / "taskhub.db").exists()  # the default was not used instead


def test_the_help_never_shows_the_environments_token_or_store(tmp_path: Path) -> None:
    env = env_with(TASKHUB_SERVE_TOKEN="tok-VERYSECRET", TASKHUB_DB="sqlite:///PRIVATE.db")
    shown = taskhub("serve", "--help", env=env, cwd=tmp_path)
    assert shown.returncode == 0
    assert "VERYSECRET" not in shown.stdout and "PRIVATE" not in shown.stdout
    assert "$TASKHUB_SERVE_TOKEN" in shown.stdout and "$TASKHUB_DB" in shown.stdout
    assert "--insecure-no-token" in shown.stdout and "INSECURE" in shown.stdout


@pytest.mark.parametrize("every", ["0", "-1", "soon"])
def test_discover_every_must_be_a_positive_number(tmp_path: Path, every: str) -> None:
    out = taskhub("serve", "--discover-every", every, env=env_with(), cwd=tmp_path)
    assert out.returncode == 2
    assert f"argument --discover-every: {every!r} is not a number greater than 0" in out.stderr
    assert list(tmp_path.iterdir()) == []  # refused before a store was made


def test_the_token_comes_from_taskhub_serve_token(tmp_path: Path) -> None:
    pytest.importorskip("waitress", reason="needs the serve extra: pip install 'taskhub[serve]'")
    from tests.store.services import await_serving, free_port

    port = free_port()
    env = env_with(TASKHUB_SERVE_TOKEN="tok-from-env", TASKHUB_DB=f"sqlite:///{tmp_path / 's.db'}")
    argv = [sys.executable, "-m", "taskhub", "serve", "--no-follow", "--port", str(port)]
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env
    )
    try:
        url = f"http://127.0.0.1:{port}"
        await_serving(proc, url)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{url}/api/tasks", timeout=10)
        assert refused.value.code == 401
        asked = urllib.request.Request(
            f"{url}/api/tasks", headers={"Authorization": "Bearer tok-from-env"}
        )
        with urllib.request.urlopen(asked, timeout=10) as answer:
            assert answer.status == 200
        assert (tmp_path / "s.db").is_file()  # the store TASKHUB_DB named
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
