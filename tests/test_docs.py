"""The documentation: generated pages are current, and no link is broken."""

from __future__ import annotations

import functools
import inspect
import os
import re
from pathlib import Path

import pytest

from taskhub import registry
from taskhub.adapter import OPERATIONS
from taskhub.cli import build_parser, docgen

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


def test_the_documented_task_schema_is_the_packaged_one() -> None:
    """docs/task.schema.json is a copy of the schema the package carries (which the
    service's OpenAPI document is built on)."""
    assert (DOCS / "task.schema.json").read_text() == (
        ROOT / "taskhub" / "task.schema.json"
    ).read_text()


def test_every_test_named_in_the_security_page_exists() -> None:
    page = (DOCS / "security.md").read_text()
    named = set(re.findall(r"`(test_\w+)`", page))
    defined = {
        m
        # The contract suite every adapter runs lives in taskhub.testing.
        for path in [*(ROOT / "tests").rglob("*.py"), ROOT / "taskhub/testing/contract.py"]
        for m in re.findall(r"^\s*def (test_\w+)", path.read_text(), flags=re.M)
    }
    assert len(named) > 30
    assert sorted(named - defined) == []


_CODE = re.compile(r"`([^`\n]+)`")
_FENCE = re.compile(r"^```.*?^```", flags=re.S | re.M)
_PATH_SUFFIXES = (".py", ".md", ".toml", ".json", ".cfg")

_LIVEPEER_SDK = "a file of Livepeer's Python SDK, cited as evidence"
_COGNITE_SDK = "a file of cognite-sdk-python, cited as evidence"

#: Paths that claim to be here by their form (see _claims_the_repo) but are deliberately not
#: in this repository, page by page, with why.
NOT_IN_REPO: dict[str, dict[str, str]] = {
    "docs/configuration.md": {"./taskhub.toml": "the user's configuration file"},
    "docs/quickstart.md": {"taskhub.toml": "the user's configuration file"},
    "docs/vendors/cognite.md": {
        "tests/tests_integration/test_api/test_workflows.py": _COGNITE_SDK,
        "tests/tests_unit/test_data_classes/data/workflow_execution.json": _COGNITE_SDK,
    },
    "docs/vendors/livepeer.md": {
        "asset.py": _LIVEPEER_SDK,
        "stream.py": _LIVEPEER_SDK,
        "task.py": _LIVEPEER_SDK,
        "transcode.py": _LIVEPEER_SDK,
    },
    "docs/vendors/veritone.md": {
        "docs/apis/schema/v3/schema.graphql": "a file of veritone/docs, cited as evidence",
        "mymodule.py": "the user's engine module",
    },
}


def _doc_pages() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def _path_like(token: str) -> bool:
    """A backticked token that reads as a file path (not code, a URL, an id or a placeholder)."""
    if any(c in token for c in " \"'()<>*?=[]{}…@%,;:|$") or "..." in token:
        return False
    if token.startswith(("/", "~")):  # absolute: an API path or a file of the user's
        return False
    return "/" in token or token.endswith(_PATH_SUFFIXES)


def _claims_the_repo(page: Path, token: str) -> bool:
    """Whether a path says it is one of this repository's: it starts with ``./`` or ``../``,
    or with a top-level entry of the repository (``tests/``, ``docs/`` ...) or of the page's
    directory (``vendors/``), or it is a bare file name (``DESIGN.md``). Other paths
    (``controllers/task.ts``) are in the vendors' repositories the pages cite as evidence."""
    first = token.split("/", 1)[0]
    if "/" not in token or first in (".", ".."):
        return True
    return (ROOT / first).exists() or (page.parent / first).exists()


@functools.cache
def _repo_file_names() -> frozenset[str]:
    """The name of every file of the repository (not of virtual environments, caches or
    other hidden or build directories)."""
    names: set[str] = set()
    for _directory, subdirectories, files in os.walk(ROOT):
        subdirectories[:] = [
            d
            for d in subdirectories
            if not d.startswith((".", "__pycache__")) and not d.endswith(".egg-info")
        ]
        names.update(files)
    return frozenset(names)


def _in_repo(page: Path, token: str) -> bool:
    """Whether the path names a file of this repository, from its root or from the page; a
    bare file name, one of its files wherever it is."""
    if "/" not in token and token in _repo_file_names():
        return True
    for base in (ROOT, page.parent):
        target = (base / token).resolve()
        if target.is_relative_to(ROOT) and target.exists():
            return True
    return False


def _cited_paths(page: Path) -> set[str]:
    """The repository paths a page cites in backticks (fenced code left out)."""
    tokens = _CODE.findall(_FENCE.sub("", page.read_text()))
    return {t for t in tokens if _path_like(t) and _claims_the_repo(page, t)}


@pytest.mark.parametrize("page", _doc_pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_path_the_docs_cite_is_in_the_repo(page: Path) -> None:
    """A repository path in backticks names a file of this repository, not one outside it
    (the design document, vendor reference files), unless NOT_IN_REPO says why not."""
    name = str(page.relative_to(ROOT))
    allowed = NOT_IN_REPO.get(name, {})
    missing = sorted(t for t in _cited_paths(page) if t not in allowed and not _in_repo(page, t))
    assert missing == [], f"{name} cites paths that are not in the repo"


def test_the_not_in_repo_list_has_no_stale_entry() -> None:
    """Every allowed path is still cited on its page and is still not in the repo, so the
    list cannot grow into a way around the check."""
    stale = [
        (name, token)
        for name, tokens in NOT_IN_REPO.items()
        for token in tokens
        if token not in _cited_paths(ROOT / name) or _in_repo(ROOT / name, token)
    ]
    assert stale == []


def test_the_path_check_sees_what_it_must() -> None:
    page = DOCS / "design-decisions.md"
    for token in ("DESIGN.md", "../shared/DESIGN.md", "tests/nope.py", "vendors/nope.md"):
        assert _path_like(token) and _claims_the_repo(page, token), token
        assert not _in_repo(page, token), token
    assert _in_repo(page, "hub.py") and _in_repo(page, "tests/test_docs.py")
    assert _in_repo(page, "vendors/cognite.md") and _in_repo(page, "../setup.cfg")
    assert not _claims_the_repo(page, "controllers/task.ts")
    for token in ("https://a.b/c", "/v3/graphql", "~/.netrc", 'hub.get("a/b")', "<origin>/x"):
        assert not _path_like(token), token


def _operation_cells(vendor: str) -> list[str]:
    block = docgen.vendor_block(vendor)
    table = block.split("## Operations", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert len(rows) == len(OPERATIONS)
    return [row.rsplit(" |", 1)[0].split(" | ", 2)[2] for row in rows]


@pytest.mark.parametrize("vendor", BUILTINS)
def test_no_operation_cell_stops_mid_sentence(vendor: str) -> None:
    """Each cell of a vendor page's operations table is whole sentences: a supported
    operation's cell is the start of its docstring's first paragraph, never its first line cut
    off, and every cell ends with a full stop (or ! or ?), not "…" or a dangling word."""
    cls = registry.load(vendor)
    for op, cell in zip(OPERATIONS, _operation_cells(vendor), strict=True):
        assert cell.endswith((".", "!", "?")) and not cell.endswith(("...", "…")), (vendor, op)
        if op in cls.capabilities():
            doc = inspect.getdoc(getattr(cls, op)) or ""
            paragraph = " ".join(doc.split("\n\n", 1)[0].split()).replace("``", "`")
            assert paragraph.startswith(cell.replace("\\|", "|")[:-1]), (vendor, op)


def test_a_summary_is_the_first_whole_sentence() -> None:
    doc = "Submit ``tasks`` (with ``engineId``) on a TDO\nor on one made on the fly. More.\n\nMore."
    assert (
        docgen.summary(doc)
        == "Submit ``tasks`` (with ``engineId``) on a TDO or on one made on the fly."
    )
    assert docgen.summary("The task's status, e.g. ``GET``. Then more.") == (
        "The task's status, e.g. ``GET``."
    )
    assert docgen.summary("no full stop\nat all") == "no full stop at all"
    assert (
        docgen.sentence("tasks are advanced by the vendor") == "Tasks are advanced by the vendor."
    )
