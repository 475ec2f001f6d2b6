"""One rule for what a dashboard counts, on every vendor (issue 20, finding 2): units of work
(a Veritone or Edge job, a Cognite execution) are counted; their parts are stored where the
vendor's read carries them, linked to their parent and counted apart. The jobs here are
submitted elsewhere; the service finds them by listing and follows them through the shared
refresher, as ``taskhub serve`` does in production."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("waitress", reason="needs the serve extra: pip install 'taskhub[serve]'")

from prometheus_client.parser import text_string_to_metric_families

from taskhub.cli.demo import simulators
from taskhub.serve import Served, build
from taskhub.states import State
from taskhub.store import Filters
from taskhub.testing import Simulation
from tests.serving import fetch, serving

VENDORS = ("veritone", "veritone-edge", "cognite")
JOBS = 3


@pytest.fixture
def followed(tmp_path: Path) -> Iterator[tuple[str, Served, dict[str, list[str]]]]:
    with simulators(list(VENDORS), 20.0) as sims:
        submitted: dict[str, list[str]] = {}
        for vendor, sim in sims.items():
            spec = sim.simulator.demo_spec()
            assert spec is not None
            if vendor == "veritone":  # its demo job has one engine task: give it two
                spec = {**spec, "tasks": [*spec["tasks"], *spec["tasks"]]}
            with sim.connect() as elsewhere:
                submitted[vendor] = [elsewhere.submit(**spec).id for _ in range(JOBS)]
        hubs = {v: sim.connect(poll_interval=0.1, poll_max=0.2) for v, sim in sims.items()}
        served = build(hubs, f"sqlite:///{tmp_path / 'counts.db'}", discover_every=0.3)
        try:
            with serving(served.app, threads=2) as address:
                _drive(sims, served, submitted)
                yield address, served, submitted
        finally:
            served.close()
            for hub in hubs.values():
                hub.close()


def _drive(sims: dict[str, Simulation], served: Served, submitted: dict[str, list[str]]) -> None:
    """Move the simulators' work along until the store has every job finished."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done = True
        for vendor, ids in submitted.items():
            sim = sims[vendor]
            for task_id in ids:
                row = served.store.task(f"{vendor}:{task_id}")
                if row is not None and State.parse(row["status"]["state"]).terminal:
                    # Its parts are read whole once it finished: wait for them too.
                    parts = served.store.page(Filters(parent=f"{vendor}:{task_id}", level=None))
                    done = (
                        done
                        and parts.total >= 2
                        and all(State.parse(p["status"]["state"]).terminal for p in parts.tasks)
                    )
                    continue
                done = False
                with sim.connect() as worker:
                    sim.simulator.demo_step(worker, worker.get(task_id))
        if done:
            served.store.flush(10)
            return
        time.sleep(0.2)
    seen = {
        f"{v}:{i}": (served.store.task(f"{v}:{i}") or {}).get("status", {}).get("state")
        for v, ids in submitted.items()
        for i in ids
    }
    raise AssertionError(f"the service did not see every job finish: {seen}")


def test_counts_gauges_and_parts_follow_one_rule(
    followed: tuple[str, Served, dict[str, list[str]]],
) -> None:
    address, _, submitted = followed
    _, _, body = fetch(address, "/api/counts")

    counts = json.loads(body)["counts"]
    per_vendor: dict[str, int] = {}
    for row in counts:
        per_vendor[row["vendor"]] = per_vendor.get(row["vendor"], 0) + row["count"]
    assert per_vendor == dict.fromkeys(VENDORS, JOBS)
    _, _, body = fetch(address, "/api/counts?level=subtask")
    parts = json.loads(body)["counts"]
    assert {row["vendor"] for row in parts} == set(VENDORS), parts
    _, _, metrics = fetch(address, "/metrics")
    gauges: dict[str, dict[str, float]] = {"taskhub_tasks": {}, "taskhub_subtasks": {}}
    for family in text_string_to_metric_families(metrics.decode()):
        if family.name in gauges:
            for sample in family.samples:
                vendor = sample.labels["vendor"]
                gauges[family.name][vendor] = gauges[family.name].get(vendor, 0) + sample.value
    assert gauges["taskhub_tasks"] == dict.fromkeys(VENDORS, float(JOBS))
    assert set(gauges["taskhub_subtasks"]) == set(VENDORS)
    for vendor, ids in submitted.items():
        for task_id in ids:
            ref = f"{vendor}:{task_id}"
            _, _, body = fetch(address, f"/api/tasks?parent={ref}")
            page = json.loads(body)
            assert page["total"] >= 2, (ref, page)
            assert {t["parent_id"] for t in page["tasks"]} == {task_id}
            _, _, body = fetch(address, f"/api/tasks/{ref}")
            assert len(json.loads(body)["subtasks"]) == page["total"]
    _, _, body = fetch(address, "/api/tasks?limit=1000")
    assert {t["ref"].split(":")[0] for t in json.loads(body)["tasks"]} == set(VENDORS)
    assert json.loads(body)["total"] == JOBS * len(VENDORS)
