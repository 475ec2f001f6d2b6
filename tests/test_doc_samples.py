"""Every Python sample in README.md and docs/ runs here, so no sample can rot.

The samples of one page run in order in one namespace (later ones build on earlier ones),
in a directory holding a ``taskhub.toml`` whose backends are the built-in simulators, on a
fast clock. A sample that defines ``test_*`` functions has them called, as pytest would.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from taskhub.testing import SimClock, Simulation, simulate

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def samples(page: Path) -> list[str]:
    return _BLOCK.findall(page.read_text())


@pytest.fixture
def media(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulation]:
    """A taskhub.toml with backend "media" (the Livepeer simulator) and job "ingest"."""
    with ExitStack() as stack:
        sim = stack.enter_context(simulate("livepeer", clock=SimClock(speed=200)))
        (tmp_path / "taskhub.toml").write_text(
            'default = "media"\n'
            "[backends.media]\n"
            'vendor = "livepeer"\n'
            'api_key = "${LIVEPEER_API_KEY}"\n'
            f'base_url = "{sim.url}"\n'
            "poll_interval = 0.05\n"
            "poll_max = 0.1\n"
            "[jobs.ingest]\n"
            'backend = "media"\n'
            'spec = { kind = "upload", url = "https://example.com/in.mp4", name = "in.mp4" }\n'
        )
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("TASKHUB_CONFIG", raising=False)
        monkeypatch.delenv("TASKHUB_BACKEND", raising=False)
        monkeypatch.setenv("LIVEPEER_API_KEY", sim.options["api_key"])
        yield sim


@pytest.mark.parametrize(
    "page", [p for p in PAGES if samples(p)], ids=lambda p: str(p.relative_to(ROOT))
)
def test_every_sample_on_the_page_runs(
    page: Path, media: Simulation, capsys: pytest.CaptureFixture[str]
) -> None:
    namespace: dict[str, Any] = {"__name__": f"sample_{page.stem}"}
    for number, code in enumerate(samples(page), 1):
        exec(compile(code, f"{page.name} sample {number}", "exec"), namespace)
        for name, value in list(namespace.items()):
            if name.startswith("test_") and callable(value) and not isinstance(value, type):
                value()
                namespace.pop(name)
    capsys.readouterr()


def test_the_sample_pages_are_the_ones_with_python() -> None:
    with_samples = [p.relative_to(ROOT).as_posix() for p in PAGES if samples(p)]
    assert "README.md" in with_samples
    assert "docs/writing-an-adapter.md" in with_samples
