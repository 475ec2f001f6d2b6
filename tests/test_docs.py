"""The documentation: generated pages are current, and no link is broken."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from taskhub import docgen, registry
from taskhub.cli import build_parser

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
BUILTINS = [n for n, e in registry.entries().items() if e.builtin]
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_the_configuration_reference_is_current() -> None:
    assert (DOCS / "configuration-reference.md").read_text() == docgen.configuration_reference(), (
        "stale: run `taskhub docs configuration > docs/configuration-reference.md`"
    )


def test_the_cli_reference_is_current() -> None:
    assert (DOCS / "cli.md").read_text() == docgen.cli_reference(build_parser()), (
        "stale: run `taskhub docs cli > docs/cli.md`"
    )


@pytest.mark.parametrize("vendor", BUILTINS)
def test_each_vendor_page_is_current(vendor: str) -> None:
    page = (DOCS / "vendors" / f"{vendor}.md").read_text()
    assert docgen.generated_block(page) == docgen.vendor_block(vendor), (
        f"stale: regenerate the top of docs/vendors/{vendor}.md with `taskhub docs vendor {vendor}`"
    )
    assert "## Notes" in page.split(docgen.END, 1)[1]


def test_the_state_diagram_in_concepts_is_current() -> None:
    assert docgen.generated_block((DOCS / "concepts.md").read_text()) == docgen.concepts_diagram()


@pytest.mark.parametrize(
    "page",
    [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_link_is_broken(page: Path) -> None:
    for target in _LINK.findall(page.read_text()):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path = target.split("#", 1)[0]
        if path:
            assert (page.parent / path).exists(), f"{page.relative_to(ROOT)} links to {target}"


def test_every_doc_page_is_reachable_from_the_readme() -> None:
    reachable: set[Path] = set()
    todo = [ROOT / "README.md"]
    while todo:
        page = todo.pop()
        for target in _LINK.findall(page.read_text()):
            path = (page.parent / target.split("#", 1)[0]).resolve()
            if path.suffix == ".md" and path.exists() and path not in reachable:
                reachable.add(path)
                todo.append(path)
    orphans = [p.relative_to(ROOT) for p in DOCS.rglob("*.md") if p.resolve() not in reachable]
    assert orphans == []


def test_the_quick_start_has_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.+?)\n```", quick, flags=re.S)
    assert len(commands) == 2
    demo, tests = commands
    assert demo.endswith("taskhub demo") and tests.endswith("python -m pytest")
    assert tests in (ROOT / ".ci" / "run").read_text()


def test_every_test_named_in_the_security_page_exists() -> None:
    page = (DOCS / "security.md").read_text()
    named = set(re.findall(r"`(test_\w+)`", page))
    defined = {
        m
        for path in (ROOT / "tests").glob("*.py")
        for m in re.findall(r"^\s*def (test_\w+)", path.read_text(), flags=re.M)
    }
    assert len(named) > 30
    assert sorted(named - defined) == []
