"""Every built-in vendor is typed everywhere a vendor's name picks a type.

Python's typing maps a ``Literal`` vendor name to its hub class only through overloads (it
has no mapping from a value to a type), so ``connect``, ``taskhub.aio.connect`` and
``simulate`` each carry one overload per vendor. A vendor added to setup.cfg without them
would still work, typed as a plain TaskHub: this test names the overload it lacks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from taskhub import registry

ROOT = Path(__file__).resolve().parent.parent
#: Module -> the function whose overloads map a vendor name to its types.
TYPED = {
    "taskhub/hub.py": "connect",
    "taskhub/aio.py": "connect",
    "taskhub/testing/simulate.py": "simulate",
}
BUILTINS = sorted(name for name, entry in registry.entries().items() if entry.builtin)


def _overloads(path: str, function: str) -> dict[str, str]:
    """Vendor name -> the return annotation of its overload of ``function``."""
    found: dict[str, str] = {}
    for node in ast.parse((ROOT / path).read_text()).body:
        if not (isinstance(node, ast.FunctionDef) and node.name == function):
            continue
        if not any(ast.unparse(d) == "overload" for d in node.decorator_list):
            continue
        first = node.args.args[0].annotation if node.args.args else None
        if isinstance(first, ast.Subscript) and ast.unparse(first.value) == "Literal":
            assert isinstance(first.slice, ast.Constant), ast.unparse(first)
            found[str(first.slice.value)] = ast.unparse(node.returns or first)
    return found


@pytest.mark.parametrize("path", sorted(TYPED))
def test_every_builtin_vendor_has_its_typed_overload(path: str) -> None:
    assert "livepeer" in BUILTINS  # the entry points were found (setup.cfg)
    overloads = _overloads(path, TYPED[path])
    assert sorted(overloads) == BUILTINS
    for vendor, returns in overloads.items():
        kind = registry.load(vendor)
        hub = kind.hub_class if isinstance(kind.hub_class, str) else None
        assert hub is not None, f"{vendor} names its hub class lazily"
        assert hub.rpartition(":")[2] in returns, f"{path}: {vendor} -> {returns}"
        if path.endswith("simulate.py"):
            assert kind.simulator is not None
            assert kind.simulator.rpartition(":")[2] in returns, f"{vendor} -> {returns}"
