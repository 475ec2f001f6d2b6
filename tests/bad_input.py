"""Every public call with bad arguments: the typed error it gives, before any request.

docs/bad-input.md is generated from CASES (test_bad_input.py checks both the page and that
each call raises its error while the simulator's request log stays empty).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

import taskhub
from taskhub import (
    ConfigError,
    InvalidRequest,
    InvalidTransition,
    State,
    TaskhubError,
    UnsupportedOperation,
)
from taskhub.testing import Simulation


@attrs.frozen
class Case:
    vendor: str | None  # None: no simulator needed
    call: str  # how the docs show it
    run: Callable[[Any, Simulation | None], object]
    error: type[TaskhubError]
    says: str
    setup: Callable[[Any, Simulation], Any] | None = None


def _done_cognite_step(hub: Any, sim: Simulation) -> str:
    run = hub.submit(workflow="taskhub-demo", version="1")
    sim.clock.advance(3)
    step: str = sim.simulator.async_task(run.id)  # type: ignore[attr-defined]
    hub.report(step, State.SUCCEEDED)
    return step


CASES: list[Case] = [
    # -- any vendor ----------------------------------------------------------------------------
    Case(
        None,
        'taskhub.connect("livepeeer", api_key=...)',
        lambda h, s: taskhub.connect("livepeeer", api_key="k" * 8),
        ConfigError,
        "did you mean 'livepeer'",
    ),
    Case(
        None,
        'taskhub.connect("livepeer")  # no api_key',
        lambda h, s: taskhub.connect("livepeer"),
        ConfigError,
        "required option is missing",
    ),
    Case(
        None,
        'taskhub.connect("livepeer", api_key=..., timeout="soon")',
        lambda h, s: taskhub.connect("livepeer", api_key="k" * 8, timeout="soon"),
        ConfigError,
        "livepeer.timeout: expected a number",
    ),
    Case(
        None,
        'taskhub.connect("livepeer", api_key=..., verify="perhaps")',
        lambda h, s: taskhub.connect("livepeer", api_key="k" * 8, verify="perhaps"),
        ConfigError,
        "expected true or false",
    ),
    Case(
        None,
        'taskhub.connect("livepeer", api_key=..., timout=3)',
        lambda h, s: taskhub.connect("livepeer", api_key="k" * 8, timout=3),
        ConfigError,
        "did you mean 'timeout'",
    ),
    Case(
        None,
        'taskhub.connect("vionlabs", api_key=...)  # no base_url',
        lambda h, s: taskhub.connect("vionlabs", api_key="k" * 8),
        ConfigError,
        "vionlabs.base_url: required option is missing",
    ),
    Case(
        None,
        'taskhub.connect("cognite", project=..., base_url=...)  # no credentials',
        lambda h, s: taskhub.connect("cognite", project="p", base_url="https://x"),
        ConfigError,
        "give either token, or client_id",
    ),
    Case(
        None,
        'taskhub.connect("veritone-edge", base_url=...)  # no token or api_key',
        lambda h, s: taskhub.connect("veritone-edge", base_url="http://x"),
        ConfigError,
        "give token (Bearer) or api_key",
    ),
    Case(
        None,
        'taskhub.parse("nope", {...})',
        lambda h, s: taskhub.parse("nope", {}),
        ConfigError,
        "unknown vendor or backend 'nope'",
    ),
    Case(
        None,
        'taskhub.register_adapter("livepeer", MyAdapter)',
        lambda h, s: taskhub.register_adapter("livepeer", "x:y"),
        ConfigError,
        "already registered (built-in)",
    ),
    Case(
        None,
        'Task.from_dict({... "status": {"state": "exploded"} ...})',
        lambda h, s: taskhub.Task.from_dict(
            {"backend": "b", "vendor": "v", "id": "1", "status": {"state": "exploded"}}
        ),
        InvalidRequest,
        "task.status.state: unknown state 'exploded'",
    ),
    Case("livepeer", 'hub.get("")', lambda h, s: h.get(""), InvalidRequest, "must not be empty"),
    Case(
        "livepeer",
        'hub.get("a\\nb")',
        lambda h, s: h.get("a\nb"),
        InvalidRequest,
        "control characters",
    ),
    Case(
        "livepeer",
        "hub.get(42)",
        lambda h, s: h.get(42),
        InvalidRequest,
        "must be a string, not int",
    ),
    Case(
        "livepeer",
        "hub.list(limit=0)",
        lambda h, s: h.list(limit=0),
        InvalidRequest,
        "limit must be a positive whole number",
    ),
    Case(
        "livepeer",
        'hub.list(state="finished")',
        lambda h, s: h.list(state="finished"),
        InvalidRequest,
        "unknown state 'finished'",
    ),
    Case(
        "cognite",
        'hub.report(id, "done")',
        lambda h, s: h.report("x", "done"),
        InvalidRequest,
        "unknown state 'done'",
    ),
    Case(
        "livepeer",
        'hub.watch(["id"], state="running")',
        lambda h, s: h.watch(["x"], state="running"),
        InvalidRequest,
        "not both",
    ),
    # -- livepeer ----------------------------------------------------------------------------
    Case(
        "livepeer",
        "hub.cancel(id)",
        lambda h, s: h.cancel("x"),
        UnsupportedOperation,
        "deleting the output asset",
    ),
    Case(
        "livepeer",
        "hub.report(id, State.SUCCEEDED)",
        lambda h, s: h.report("x", State.SUCCEEDED),
        UnsupportedOperation,
        "livepeer does not support report",
    ),
    Case(
        "livepeer",
        'hub.submit(kind="export")',
        lambda h, s: h.submit(kind="export"),
        InvalidRequest,
        "unknown kind 'export'",
    ),
    Case(
        "livepeer",
        'hub.submit(kind="upload", name="x")  # no url',
        lambda h, s: h.submit(kind="upload", name="x"),
        InvalidRequest,
        "Upload needs url",
    ),
    Case(
        "livepeer",
        'hub.submit(kind="upload", url="ftp://...", name="x")',
        lambda h, s: h.submit(kind="upload", url="ftp://h/x", name="x"),
        InvalidRequest,
        "url: must start with http",
    ),
    Case(
        "livepeer",
        'hub.list(phase="running")',
        lambda h, s: h.list(phase="running"),
        InvalidRequest,
        "unknown list filter 'phase'",
    ),
    # -- vionlabs ----------------------------------------------------------------------------
    Case("vionlabs", "hub.list()", lambda h, s: h.list(), UnsupportedOperation, "no listing"),
    Case(
        "vionlabs",
        "hub.retry(id)",
        lambda h, s: h.retry("m/markers/1"),
        UnsupportedOperation,
        "submit the same",
    ),
    Case(
        "vionlabs",
        'hub.submit(inventory_id="m", product="mood", version="1")',
        lambda h, s: h.submit(inventory_id="m", product="mood", version="1"),
        InvalidRequest,
        "unknown product 'mood'",
    ),
    Case(
        "vionlabs",
        'hub.submit(..., priority="urgent")',
        lambda h, s: h.submit(inventory_id="m", product="markers", version="1", priority="urgent"),
        InvalidRequest,
        "unknown priority 'urgent'",
    ),
    Case(
        "vionlabs",
        'hub.get("m-1/markers")',
        lambda h, s: h.get("m-1/markers"),
        InvalidRequest,
        "not a vionlabs task id",
    ),
    # -- cognite -----------------------------------------------------------------------------
    Case(
        "cognite",
        'hub.submit(workflow="w", version=1)',
        lambda h, s: h.submit(workflow="w", version=1),
        InvalidRequest,
        "versions too",
    ),
    Case(
        "cognite",
        'hub.submit(workflow="w", version="1", metadata={11 pairs})',
        lambda h, s: h.submit(
            workflow="w", version="1", metadata={f"k{n}": "v" for n in range(11)}
        ),
        InvalidRequest,
        "at most 10 pairs",
    ),
    Case(
        "cognite",
        'hub.cancel(id, reason="x" * 501)',
        lambda h, s: h.cancel("x", reason="x" * 501),
        InvalidRequest,
        "at most 500 characters",
    ),
    Case(
        "cognite",
        "hub.report(id, State.SUCCEEDED, output={110 KB})",
        lambda h, s: h.report("x", State.SUCCEEDED, output={"b": "x" * 110_000}),
        InvalidRequest,
        "Cognite takes at most 102400",
    ),
    Case(
        "cognite",
        "hub.report(id, State.RUNNING)",
        lambda h, s: h.report("x", State.RUNNING),
        InvalidTransition,
        "it takes: succeeded, failed",
    ),
    Case(
        "cognite",
        "hub.report(finished_task, State.FAILED)",
        lambda h, step: h.report(step, State.FAILED),
        InvalidTransition,
        "already succeeded",
        setup=_done_cognite_step,
    ),
    Case(
        "cognite",
        'hub.list(version="1")  # no workflow',
        lambda h, s: h.list(version="1"),
        InvalidRequest,
        "version needs workflow",
    ),
    # -- veritone ----------------------------------------------------------------------------
    Case(
        "veritone",
        "hub.submit(tasks=[], target_id=...)",
        lambda h, s: h.submit(tasks=[], target_id="1"),
        InvalidRequest,
        "tasks: must be a non-empty list",
    ),
    Case(
        "veritone",
        "hub.submit(tasks=[...], target_id=..., target={...})",
        lambda h, s: h.submit(tasks=[{"engineId": "e"}], target_id="1", target={}),
        InvalidRequest,
        "exactly one of target_id and target",
    ),
    Case(
        "veritone",
        "hub.submit(tasks=[{}], ...)  # no engineId or taskType",
        lambda h, s: h.submit(tasks=[{}], target_id="1"),
        InvalidRequest,
        "needs engineId or taskType",
    ),
    Case(
        "veritone",
        'hub.report(id, State.SUCCEEDED, failure_reason="invalid_data")',
        lambda h, s: h.report("x", State.SUCCEEDED, failure_reason="invalid_data"),
        InvalidRequest,
        "only with State.FAILED",
    ),
    Case(
        "veritone",
        'hub.report(id, State.FAILED, failure_reason="gremlins")',
        lambda h, s: h.report("x", State.FAILED, failure_reason="gremlins"),
        InvalidRequest,
        "unknown failure_reason 'gremlins'",
    ),
    Case(
        "veritone",
        "hub.report(id, State.PAUSED)",
        lambda h, s: h.report("x", State.PAUSED),
        InvalidTransition,
        "cannot report paused",
    ),
    # -- veritone-edge -----------------------------------------------------------------------
    Case(
        "veritone-edge",
        "hub.cancel(id)",
        lambda h, s: h.cancel("x"),
        UnsupportedOperation,
        "delete_job",
    ),
    Case(
        "veritone-edge",
        "hub.retry(id)",
        lambda h, s: h.retry("x"),
        UnsupportedOperation,
        "submit the job again",
    ),
    Case(
        "veritone-edge",
        'hub.submit(tasks=[...], routes=[{"taskChildId": "nope"}])',
        lambda h, s: h.submit(tasks=[{"engineId": "e"}], routes=[{"taskChildId": "nope"}]),
        InvalidRequest,
        "names no task",
    ),
    Case(
        "veritone-edge",
        "hub.report(id, State.CANCELLED)",
        lambda h, s: h.report("x", State.CANCELLED),
        InvalidTransition,
        "cannot report cancelled",
    ),
]


def page() -> str:
    """docs/bad-input.md."""
    rows = [
        "# Bad input",
        "",
        "Generated from `tests/bad_input.py`, which a test walks: every call below raises the "
        "error shown, with the text shown, and the vendor's simulator records no request.",
        "",
        "| vendor | call | error | says |",
        "|---|---|---|---|",
    ]
    for case in CASES:
        call = case.call.replace("|", "\\|")
        says = case.says.replace("|", "\\|")
        rows.append(f"| {case.vendor or 'any'} | `{call}` | `{case.error.__name__}` | {says} |")
    return "\n".join(rows) + "\n"
