"""The demo's default store (issue 19 point 8): a file in the shared temp directory that no
one else can plant, steer or read."""

from __future__ import annotations

import sqlite3
import stat
import tempfile
from pathlib import Path

import pytest

from taskhub.cli import demo

pytest.importorskip("sqlalchemy", reason="needs the store extra: pip install 'taskhub[store]'")


@pytest.fixture
def shared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temp directory, where the first name tried is one another user already took."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    # mkstemp tries names in turn; the first is the one planted below.
    monkeypatch.setattr(tempfile, "_get_candidate_names", lambda: iter(["planted", "fresh"]))
    return tmp_path


def opened(folder: Path) -> Path:
    store = demo.open_store(None)
    assert store is not None
    store.close()
    path = Path(store.url.removeprefix("sqlite:///"))
    assert path.parent == folder
    return path


def test_the_store_is_a_new_file_only_its_owner_can_read(shared: Path) -> None:
    path = opened(shared)
    assert path.name == "taskhub-demo-planted.db"  # nothing was planted: the first name
    mode = path.stat().st_mode
    assert stat.S_ISREG(mode) and stat.S_IMODE(mode) == 0o600


def test_a_planted_symlink_is_never_followed(shared: Path) -> None:
    victim = shared / "victim.txt"
    victim.write_text("precious\n")
    (shared / "taskhub-demo-planted.db").symlink_to(victim)
    path = opened(shared)
    assert path.name == "taskhub-demo-fresh.db"
    assert victim.read_text() == "precious\n"
    assert (shared / "taskhub-demo-planted.db").readlink() == victim
    assert stat.S_IMODE(path.lstat().st_mode) == 0o600 and not path.is_symlink()


def test_a_planted_file_is_left_alone_and_does_not_fail_the_demo(shared: Path) -> None:
    planted = shared / "taskhub-demo-planted.db"
    with sqlite3.connect(planted) as db:  # a store from the future: the demo cannot use it
        db.execute("CREATE TABLE taskhub_schema (version INTEGER NOT NULL)")
        db.execute("INSERT INTO taskhub_schema VALUES (99)")
    db.close()
    before = planted.read_bytes()
    path = opened(shared)
    assert path.name == "taskhub-demo-fresh.db"
    assert planted.read_bytes() == before
