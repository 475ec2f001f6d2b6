"""Fuzzing the response parsers: whatever JSON arrives, the result is a Task or
MalformedResponse, nothing else (no KeyError, TypeError, ValueError, InvalidRequest ...)."""

from __future__ import annotations

import copy
import inspect
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import taskhub
from taskhub import MalformedResponse, Task, registry
from taskhub.adapter import Adapter
from taskhub.adapters.cognite import parse_task as cognite_task
from taskhub.adapters.veritone import parse_asset
from taskhub.adapters.veritone import parse_task as veritone_task
from taskhub.adapters.veritone_edge.parse import parse_task as edge_task

sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
from p4_parse import MAKERS

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=15,
)

COUNT = {"examples": 0}


def parsers() -> dict[str, Callable[[Any], Any]]:
    found: dict[str, Callable[[Any], Any]] = {}
    for vendor in MAKERS:
        found[vendor] = registry.load(vendor).parse_detached
    found["veritone-edge task"] = lambda p: edge_task(p, "e")
    found["cognite task"] = lambda p: cognite_task(p, "c")
    found["veritone task"] = lambda p: veritone_task(p, "v")
    found["veritone asset"] = parse_asset
    return found


PARSERS = parsers()


@pytest.fixture(scope="module", autouse=True)
def _count_examples(summary: Callable[[str], None]) -> Iterator[None]:
    yield
    if COUNT["examples"]:
        summary(f"fuzzing: {COUNT['examples']} payloads through {len(PARSERS)} parsers")


def _no_instance(cls: type, *args: Any, **kwargs: Any) -> Any:
    raise AssertionError(f"{cls.__name__} was instantiated to parse")


@pytest.mark.parametrize("vendor", sorted(MAKERS))
def test_each_vendor_parses_with_a_pure_function_and_no_adapter(vendor: str) -> None:
    vendor_class = registry.load(vendor)
    assert vendor_class.parser is not Adapter.parser, f"{vendor} declares no parser"
    assert inspect.isfunction(vendor_class.parser)
    assert "." not in vendor_class.parser.__qualname__  # module-level: needs no instance
    # Not even a half-built adapter: this class cannot be instantiated. (A subclass, since
    # setting and then deleting __new__ on the vendor's class breaks its constructor.)
    cls: type[Adapter] = type("Detached", (vendor_class,), {"__new__": _no_instance})
    payload = MAKERS[vendor](7)
    task = cls.parser(payload, "media")
    assert (task.backend, task.vendor) == ("media", vendor)
    assert cls.parse_detached(payload, "media") == task
    assert taskhub.parse(vendor, payload, backend="media") == task
    assert cls.parse_detached(payload).backend == vendor


def check(parse: Callable[[Any], Any], payload: Any) -> None:
    COUNT["examples"] += 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unknown status words warn; that is expected here
        try:
            result = parse(payload)
        except MalformedResponse:
            return
    assert isinstance(result, Task) or type(result).__name__ == "Asset"
    repr(result)
    if isinstance(result, Task):
        result.to_dict()


@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(payload=json_values)
def test_arbitrary_json(name: str, payload: Any) -> None:
    check(PARSERS[name], payload)


@st.composite
def mutated(draw: st.DrawFn, vendor: str) -> Any:
    """A real-shaped payload with a few keys removed, replaced or retyped, at any depth."""
    payload = copy.deepcopy(MAKERS[vendor](draw(st.integers(0, 10_000))))
    for _ in range(draw(st.integers(1, 4))):
        node = payload
        while isinstance(node, dict) and node and draw(st.booleans()):
            child = node[draw(st.sampled_from(sorted(node)))]
            if not isinstance(child, dict):
                break
            node = child
        if not isinstance(node, dict) or not node:
            break
        key = draw(st.sampled_from(sorted(node)))
        action = draw(st.sampled_from(["delete", "replace", "stringify", "null", "add"]))
        if action == "delete":
            del node[key]
        elif action == "replace":
            node[key] = draw(json_values)
        elif action == "stringify":
            node[key] = str(node[key])
        elif action == "null":
            node[key] = None
        else:
            node[draw(st.text(max_size=8))] = draw(json_values)
    return payload


@pytest.mark.parametrize("vendor", sorted(MAKERS))
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_mutations_of_real_payloads(vendor: str, data: st.DataObject) -> None:
    check(PARSERS[vendor], data.draw(mutated(vendor)))
