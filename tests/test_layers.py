"""The core's module graph: no import cycles, and the core never imports an integration or
an adapter (DESIGN §2, STYLE "house rules")."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "taskhub"


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, *, anywhere: bool = True) -> set[str]:
    """Modules ``path`` imports when it runs: anywhere (functions included), or only at
    import time (module level)."""
    found: set[str] = set()
    tree = ast.parse(path.read_text())
    # Imports under "if TYPE_CHECKING:" never run; every other one (in a function too) does.
    for block in [n for n in ast.walk(tree) if isinstance(n, ast.If)]:
        if "TYPE_CHECKING" in ast.unparse(block.test):
            block.body = []
    nodes = ast.walk(tree) if anywhere else iter(tree.body)
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # "from taskhub import registry" imports the submodule, not the facade's names.
            if node.module != "taskhub":
                found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return {m for m in found if m.startswith("taskhub")}


def _graph() -> dict[str, set[str]]:
    # The package facade (__init__) only re-exports, lazily: it is not a node.
    modules = {_module(p): p for p in CORE.glob("*.py") if p.name != "__init__.py"}
    return {name: {m for m in _imports(path) if m in modules and m != name}
            for name, path in modules.items()}  # fmt: skip


def test_the_core_has_no_import_cycle() -> None:
    graph = _graph()
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, trail: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle.extend([*trail[trail.index(nxt) :], nxt] if nxt in trail else [node, nxt])
                return True
            if nxt not in state and visit(nxt, [*trail, nxt]):
                return True
        state[node] = 2
        return False

    for start in sorted(graph):
        if start not in state and visit(start, [start]):
            break
    assert cycle == [], " -> ".join(cycle)


def test_the_core_imports_no_adapter_and_no_integration_at_import_time() -> None:
    for path in CORE.glob("*.py"):
        for module in _imports(path, anywhere=False):
            integration = ("taskhub.adapters", "taskhub.airflow", "taskhub.store", "taskhub.serve")
            assert not module.startswith(integration), f"{path.name} imports {module}"
