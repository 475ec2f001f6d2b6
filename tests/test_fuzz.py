"""Fuzzing the response parsers: whatever JSON arrives, the result is a Task or
MalformedResponse, nothing else (no KeyError, TypeError, ValueError, InvalidRequest ...)."""

from __future__ import annotations

import copy
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taskhub import MalformedResponse, Task, registry
from taskhub.adapters.cognite import parse_task as cognite_task
from taskhub.adapters.veritone import parse_asset
from taskhub.adapters.veritone import parse_task as veritone_task

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
        cls = registry.load(vendor)
        found[vendor] = lambda payload, cls=cls: cls.parse_detached(payload)
    edge = registry.load("veritone-edge").__new__(registry.load("veritone-edge"))
    edge.backend = "e"
    found["veritone-edge task"] = edge.parse_task  # type: ignore[attr-defined]
    found["cognite task"] = lambda p: cognite_task(p, "c")
    found["veritone task"] = lambda p: veritone_task(p, "v")
    found["veritone asset"] = parse_asset
    return found


PARSERS = parsers()


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


def test_report_how_many_examples_ran() -> None:
    print(f"\nfuzzing: {COUNT['examples']} payloads through {len(PARSERS)} parsers")
