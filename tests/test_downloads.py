"""Downloads: unsafe names, oversize bodies, connections dropped mid-body.

Whatever goes wrong, nothing is written outside the target directory, no partial file is left,
and the error is a typed DownloadError with a reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from taskhub import DownloadError
from taskhub.download import download, safe_name, write_file
from taskhub.testing import simulate

NAMES = [
    "../../etc/passwd",
    "/etc/passwd",
    "..",
    ".",
    "",
    "a/../../b",
    "C:\\\\Windows\\\\x.dll",
    "..\\\\..\\\\x",
    " .hidden",
    "ok.mp4",
    "x" * 500,
    "name\x00with-nul",
    "%2e%2e%2fx",
]


@pytest.fixture
def media(tmp_path: Path) -> Any:
    with simulate("veritone") as sim:
        tdo = sim.simulator.add_tdo()
        asset = sim.simulator.add_asset(
            tdo["id"],
            "media",
            "video/mp4",
            data=b"v" * 100_000,
            name="in.mp4",
        )
        yield sim, sim.simulator.signed_uri(asset)


def outside(root: Path, target: Path) -> list[Path]:
    """Files under root's parent that are not inside target."""
    return [p for p in root.rglob("*") if p.is_file() and target not in p.parents]


@pytest.mark.parametrize("name", NAMES)
def test_unsafe_names_stay_inside_the_directory(media: Any, tmp_path: Path, name: str) -> None:
    _, url = media
    target = tmp_path / "out"
    target.mkdir()
    path = download(url, target, name=name)
    assert path.parent == target.resolve()
    assert path.read_bytes() == b"v" * 100_000
    assert outside(tmp_path, target) == []
    assert path.name == safe_name(name, fallback="in.mp4")


def test_oversize_bodies_are_refused_and_leave_nothing(media: Any, tmp_path: Path) -> None:
    _, url = media
    with pytest.raises(DownloadError) as info:
        download(url, tmp_path, max_bytes=10_000)
    assert info.value.reason == "too_large"
    assert list(tmp_path.iterdir()) == []


def test_a_connection_dropped_mid_body_leaves_no_partial_file(media: Any, tmp_path: Path) -> None:
    sim, url = media
    sim.inject("truncate", path="^/media/", times=1)
    with pytest.raises(DownloadError) as info:
        download(url, tmp_path)
    assert info.value.reason == "error"
    assert "broke off" in str(info.value)
    assert list(tmp_path.iterdir()) == []
    assert "X-Amz-Signature" not in str(info.value) and "***" in str(info.value)


@pytest.mark.parametrize(
    ("status", "reason"), [(404, "not_found"), (403, "not_allowed"), (500, "error")]
)
def test_http_failures_are_typed(media: Any, tmp_path: Path, status: int, reason: str) -> None:
    sim, url = media
    sim.inject(status=status, path="^/media/", times=1)
    with pytest.raises(DownloadError) as info:
        download(url, tmp_path)
    assert (info.value.reason, info.value.http_status) == (reason, status)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_directory_and_write_file(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="not a directory"):
        download("http://127.0.0.1:9/x", tmp_path / "nope")
    for name in NAMES:
        written = write_file(tmp_path, name, b"data")
        assert written.parent == tmp_path.resolve()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_answers_cut_off_mid_body_are_retried_for_reads(tmp_path: Path) -> None:
    with simulate("livepeer") as sim, sim.connect() as hub:
        task = hub.submit(kind="upload", url="https://m.example/a.mp4", name="a")
        sim.inject("truncate", method="GET", times=1)
        assert hub.get(task.id).id == task.id
        assert [r.fault for r in sim.requests[-2:]] == ["truncate", None]
