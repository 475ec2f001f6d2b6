"""Fault soak: 1,000 mixed operations across the five simulators, 20% of requests faulted.

Faults: 503 and 429 (with Retry-After), connections dropped before or after the server acted,
answers delayed past the client's timeout, malformed bodies, and GraphQL errors with HTTP 200.
Afterwards, with the faults off:

* no task is lost: every task a simulator holds was returned by a submit, or was named by an
  OutcomeUnknown whose lookup finds it (find_submitted);
* no creation is duplicated: no two simulator tasks come from one submit;
* every task the client knows ends terminal in its view;
* nothing escaped the TaskhubError tree.
"""

from __future__ import annotations

import collections
import json
import random
import time
from collections.abc import Callable
from typing import Any

import pytest

from taskhub import OutcomeUnknown, PollPolicy, State, TaskHub, TaskhubError
from taskhub.adapters.veritone.simulator import DEFAULT_ENGINE
from taskhub.adapters.veritone_edge.simulator import ENGINE
from taskhub.adapters.vionlabs import PRODUCTS, make_id
from taskhub.testing import SimClock, Simulation, simulate

OPS_PER_VENDOR = 200
FAULT_RATE = 0.20
TIMEOUT = 0.3
FAST = PollPolicy(initial=0.05, factor=1.0, ceiling=0.05)
TARGET = {"startDateTime": 1700000000, "stopDateTime": 1700000060}


def spec(vendor: str, n: int) -> dict[str, Any]:
    """The n-th submission's spec; each carries a unique mark to detect duplicates by."""
    if vendor == "livepeer":
        return {"kind": "upload", "url": f"https://m.example/soak-{n}.mp4", "name": f"soak-{n}"}
    if vendor == "cognite":
        workflow = "taskhub-demo" if n % 3 == 0 else "taskhub-auto"
        return {"workflow": workflow, "version": "1", "metadata": {"soak": str(n)}}
    if vendor == "vionlabs":
        return {
            "inventory_id": "soak-item",
            "product": PRODUCTS[n % len(PRODUCTS)],
            "version": f"1.{n}",
        }
    if vendor == "veritone":
        return {"tasks": [{"engineId": DEFAULT_ENGINE, "payload": {"soak": n}}], "target": TARGET}
    return {"tasks": [{"engineId": ENGINE, "payload": {"soak": n}}]}


def held(vendor: str, sim: Simulation) -> dict[str, str]:
    """Every task the simulator holds: id -> the mark of the submit that made it."""
    s: Any = sim.simulator
    if vendor == "livepeer":
        return {i: t.params["upload"]["url"] for i, t in s.tasks.items()}
    if vendor == "cognite":
        return {i: (e.metadata or {}).get("soak", "") for i, e in s.executions.items()}
    if vendor == "vionlabs":
        return {make_id(*key): make_id(*key) for key in s.tasks}
    if vendor == "veritone":
        return {i: json.dumps(j.tasks[0].payload) for i, j in s.jobs.items()}
    return {i: j.tasks[0].payload or "" for i, j in s.jobs.items()}


def inject_faults(vendor: str, sim: Simulation) -> None:
    kinds: list[tuple[str, dict[str, Any]]] = [
        ("status", {"status": 503, "headers": {"Retry-After": "0"}}),
        ("status", {"status": 429, "headers": {"Retry-After": "0"}}),
        ("drop", {}),
        ("drop", {"after_effect": True}),
        ("delay", {"seconds": TIMEOUT + 0.2}),
        ("malformed", {}),
    ]
    if vendor == "veritone":
        kinds.append(("graphql", {"name": "service_unavailable"}))
    each = 1 - (1 - FAULT_RATE) ** (1 / len(kinds))  # so that ~20% of requests are faulted
    for kind, extra in kinds:
        sim.inject(kind, probability=each, times=None, **extra)


def worker_step(vendor: str, hub: TaskHub, task_id: str, rng: random.Random) -> None:
    """Play the worker where the vendor has one: complete what waits for a report."""
    task = hub.get(task_id)
    for sub in task.subtasks:
        if sub.state is not State.RUNNING and not (vendor == "veritone-edge" and sub.state.active):
            continue
        if vendor == "cognite" and (sub.params.get("input") or {}).get("asyncComplete"):
            hub.report(sub.id, rng.choice([State.SUCCEEDED, State.FAILED]), output={"soak": True})
        elif vendor == "veritone-edge":
            hub.report(sub.id, State.SUCCEEDED)


class Soak:
    def __init__(self, vendor: str, sim: Simulation, seed: int) -> None:
        self.vendor, self.sim, self.rng = vendor, sim, random.Random(seed)
        self.hub = sim.connect(
            timeout=TIMEOUT, connect_timeout=1, max_retries=8, max_retry_time=20, poll_interval=0.05
        )
        self.known: set[str] = set()
        self.unknown: list[dict[str, Any]] = []
        self.errors: collections.Counter[str] = collections.Counter()
        self.ops: collections.Counter[str] = collections.Counter()
        self.escaped: list[BaseException] = []
        self.submits = 0

    def op(self, name: str, fn: Callable[[], object]) -> None:
        self.ops[name] += 1
        try:
            fn()
        except OutcomeUnknown as exc:
            self.errors["OutcomeUnknown"] += 1
            self.unknown.append(exc.lookup)
        except TaskhubError as exc:
            self.errors[type(exc).__name__] += 1
        except BaseException as exc:  # the test fails on any of these
            self.escaped.append(exc)

    def submit(self) -> None:
        self.submits += 1
        task = self.hub.submit(**spec(self.vendor, self.submits))
        self.known.add(task.id)

    def pick(self) -> str | None:
        return self.rng.choice(sorted(self.known)) if self.known else None

    def step(self) -> None:
        caps = self.hub.capabilities
        choices = ["submit"] * 35 + ["get"] * 25 + ["list"] * 10 + ["wait"] * 10
        choices += ["cancel"] * 10 if "cancel" in caps else []
        choices += ["report"] * 10 if "report" in caps else []
        name = self.rng.choice(choices)
        target = self.pick()
        if name == "submit" or target is None:
            self.op("submit", self.submit)
        elif name == "get":
            self.op("get", lambda: self.hub.get(target))
        elif name == "list":
            if "list" in caps:
                self.op("list", lambda: list(self.hub.list(limit=20)))
            else:
                self.op("list (refused)", lambda: self.hub.list())
        elif name == "wait":
            self.op("wait", lambda: self.hub.wait(target, timeout=0.2, poll=FAST))
        elif name == "cancel":
            self.op("cancel", lambda: self.hub.cancel(target))
        else:
            self.op("report", lambda: worker_step(self.vendor, self.hub, target, self.rng))

    def reconcile(self) -> int:
        """With the faults off, find what the unknown outcomes created."""
        found = 0
        for lookup in self.unknown:
            task = self.hub.adapter.find_submitted(lookup)
            if task is not None:
                self.known.add(task.id)
                found += 1
        return found

    def finish(self, deadline: float) -> set[str]:
        """Drive every known task to its end; return those the client still sees unfinished."""
        left = set(self.known)
        while left and time.monotonic() < deadline:
            for task_id in sorted(left):
                worker_step(self.vendor, self.hub, task_id, self.rng)
                if self.hub.get(task_id).state.terminal:
                    left.discard(task_id)
            time.sleep(0.05)
        return left


@pytest.mark.slow
def test_fault_soak_loses_nothing_and_duplicates_nothing(summary: Callable[[str], None]) -> None:
    vendors = ["livepeer", "cognite", "vionlabs", "veritone", "veritone-edge"]
    totals: collections.Counter[str] = collections.Counter()
    lines = []
    for seed, vendor in enumerate(vendors):
        with simulate(vendor, clock=SimClock(speed=20), seed=seed) as sim:
            if vendor == "vionlabs":
                sim.simulator.add_item({"id": "soak-item", "type": "standalone", "title": "S"})  # type: ignore[attr-defined]
            soak = Soak(vendor, sim, seed)
            inject_faults(vendor, sim)
            for _ in range(OPS_PER_VENDOR):
                soak.step()
            requests = len(sim.requests)
            faulted = collections.Counter(r.fault for r in sim.requests if r.fault)
            sim.simulator.faults.clear()
            found = soak.reconcile()
            unfinished = soak.finish(time.monotonic() + 120)
            holding = held(vendor, sim)
            lost = set(holding) - soak.known
            marks = collections.Counter(holding.values())
            duplicates = {m: c for m, c in marks.items() if c > 1}
            assert soak.escaped == [], f"{vendor}: escaped the error tree: {soak.escaped!r}"
            assert lost == set(), f"{vendor}: tasks the client never learned of: {lost}"
            assert duplicates == {}, f"{vendor}: duplicated creations: {duplicates}"
            assert unfinished == set(), f"{vendor}: not terminal in the client's view: {unfinished}"
            assert not sim.simulator.crashes
            totals.update(
                {
                    "operations": sum(soak.ops.values()),
                    "requests": requests,
                    "faulted": sum(faulted.values()),
                    "tasks": len(holding),
                    "outcome unknown": len(soak.unknown),
                    "found again": found,
                }
            )
            lines.append(
                f"  {vendor:<14} ops={dict(soak.ops)} requests={requests} "
                f"faults={dict(faulted)} errors={dict(soak.errors)} "
                f"tasks={len(holding)} unknown={len(soak.unknown)} found={found} "
                f"lost=0 duplicates=0"
            )
    assert totals["operations"] == OPS_PER_VENDOR * len(vendors)
    assert 0.12 < totals["faulted"] / totals["requests"] < 0.30
    summary(f"fault soak: {dict(totals)}")
    for line in lines:
        summary(line)
