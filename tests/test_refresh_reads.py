"""The cheapest read per vendor: each backend's ``refresh`` against its simulator, with the
requests of every cycle counted where they arrive.

Each vendor gets the shape of benchmark P5b at a small scale: 30 followed tasks in an account
holding 60 newer unfinished ones, pages (or batches) made small so the 30 fill one, and the
goal scaled with it: at most ⌈30 / 30⌉ + 2 = 3 requests per cycle. Every cycle's answer is
checked against ``get`` of each task on the same (manual) clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

import taskhub
from taskhub import State, TaskhubError, TaskNotFound
from taskhub.adapters.veritone.simulator import DEFAULT_ENGINE, EXTERNAL_ENGINE
from taskhub.adapters.veritone_edge.simulator import ENGINE as EDGE_ENGINE
from taskhub.model import Task
from taskhub.testing import Simulation, simulate

FOLLOWED = 30
NEWER = 60
PAGE = 30
#: P5b's goal, ⌈followed / page⌉ + 2, at this scale.
GOAL = math.ceil(FOLLOWED / PAGE) + 2


def _cycle(sim: Simulation, hub: taskhub.TaskHub, ids: list[str]) -> tuple[list[Any], int]:
    """One refresh cycle: what it yields, and the requests the simulator received for it."""
    before = len(sim.requests)
    read = list(hub.adapter.refresh(ids))
    return read, len(sim.requests) - before


def _check(hub: taskhub.TaskHub, ids: list[str], read: list[Any], *, times: bool) -> None:
    """The cycle answered every id once, each as ``get`` sees it now (the clock stands);
    ``times``: ``updated_at`` too (a Cognite list item has no tasks to derive it from)."""
    assert sorted(t.id for t in read) == sorted(ids)
    for task in read:
        assert isinstance(task, Task), task
        truth = hub.get(task.id)
        assert (task.state, task.status.raw) == (truth.state, truth.status.raw), task.id
        assert not times or task.updated_at == truth.updated_at, task.id


def _follow(
    sim: Simulation,
    hub: taskhub.TaskHub,
    ids: list[str],
    *,
    cycles: int,
    step: float,
    times: bool = True,
) -> list[int]:
    """Requests per cycle over ``cycles`` cycles, ``step`` simulated seconds apart."""
    counts = []
    for _ in range(cycles):
        read, sent = _cycle(sim, hub, ids)
        _check(hub, ids, read, times=times)
        counts.append(sent)
        sim.clock.advance(step)
    return counts


# -- Veritone: jobs by id, many to a GraphQL document -----------------------------------------


def _veritone_job(hub: taskhub.TaskHub, engine: str) -> str:
    target = {"startDateTime": 1700000000, "stopDateTime": 1700000060, "name": "rec"}
    return hub.submit(tasks=[{"engineId": engine, "payload": {}}], target=target).id


@pytest.fixture
def veritone() -> Iterator[tuple[Simulation, taskhub.TaskHub]]:
    with simulate("veritone") as sim, sim.connect(max_retry_time=5) as hub:
        yield sim, hub


def test_veritone_reads_followed_jobs_by_id_a_batch_to_a_document(
    veritone: tuple[Simulation, taskhub.TaskHub],
) -> None:
    sim, hub = veritone
    ids = [_veritone_job(hub, DEFAULT_ENGINE) for _ in range(FOLLOWED)]
    for _ in range(NEWER):  # newer, unfinished: they wait for an engine that never comes
        _veritone_job(hub, EXTERNAL_ENGINE)
    adapter: Any = hub.adapter
    adapter.refresh_batch = 10
    counts = _follow(sim, hub, ids, cycles=4, step=1.5)
    assert counts == [math.ceil(FOLLOWED / 10)] * 4  # no listing: the newer jobs cost nothing
    assert {hub.get(i).state for i in ids} == {State.SUCCEEDED}
    adapter.refresh_batch = 1000
    read, sent = _cycle(sim, hub, ids)
    assert sent == 1 and all(isinstance(t, Task) for t in read)
    body = sim.requests[-1].json()
    assert set(body["variables"]) == {f"id{n}" for n in range(FOLLOWED)}
    assert "jobs(" not in body["query"]


def test_veritone_a_missing_job_is_its_own_not_found_and_the_others_are_read(
    veritone: tuple[Simulation, taskhub.TaskHub],
) -> None:
    sim, hub = veritone
    ids = [_veritone_job(hub, DEFAULT_ENGINE) for _ in range(4)]
    gone = "19041508_nZEzTQcTx8"
    read, sent = _cycle(sim, hub, [ids[0], gone, *ids[1:]])
    assert sent == 1
    missing = [r for r in read if isinstance(r, TaskhubError)]
    assert len(missing) == 1 and isinstance(missing[0], TaskNotFound)
    assert missing[0].task_id == gone
    assert sorted(t.id for t in read if isinstance(t, Task)) == sorted(ids)
    answer = sim.requests[-1]
    assert answer.status == 200


def test_veritone_a_batch_over_capacity_is_split(
    veritone: tuple[Simulation, taskhub.TaskHub],
) -> None:
    """``capacity_exceeded`` (after the transport's own retries): split the query."""
    sim, _ = veritone
    with sim.connect(max_retries=0) as hub:
        ids = [_veritone_job(hub, DEFAULT_ENGINE) for _ in range(6)]
        sim.inject("graphql", name="capacity_exceeded", times=1, path="graphql")
        read, sent = _cycle(sim, hub, ids)
    assert sent == 3  # the whole, then each half
    assert sorted(t.id for t in read) == sorted(ids)


def test_veritone_one_or_two_jobs_are_read_whole(
    veritone: tuple[Simulation, taskhub.TaskHub],
) -> None:
    sim, hub = veritone
    ids = [_veritone_job(hub, DEFAULT_ENGINE) for _ in range(2)]
    read, sent = _cycle(sim, hub, ids)
    assert sent == 2 and all(t.subtasks for t in read)  # get: the job with its tasks


# -- Veritone Edge: what changed since the last cycle ----------------------------------------


def test_edge_lists_what_changed_since_the_last_cycle() -> None:
    with simulate("veritone-edge") as sim, sim.connect(max_retry_time=5) as hub:
        ids = []
        for _ in range(FOLLOWED):  # jobs of four tasks in a row: a change every two seconds
            ids.append(hub.submit(tasks=[{"engineId": EDGE_ENGINE}] * 4).id)
            sim.clock.advance(0.2)
        newer = [hub.submit(tasks=[{"engineId": EDGE_ENGINE}]) for _ in range(NEWER)]
        # Newer and unfinished: their tasks are held running (a status the platform set).
        hub.adapter.transport.request(
            "POST",
            "/proc/tasks/update_status",
            operation="report",
            json={"taskIDs": [j.subtasks[0].id for j in newer], "taskStatus": "running"},
        )
        adapter: Any = hub.adapter
        adapter.refresh_page = PAGE
        start = len(sim.requests)
        counts = _follow(sim, hub, ids, cycles=16, step=1.0)
        lists = [r for r in sim.requests[start:] if r.path.endswith("/proc/jobs")]
        assert {hub.get(i).state for i in ids} == {State.SUCCEEDED}
    # The first cycle walks the newest jobs until it has seen all 30: three pages. Then each
    # lists what changed (modifiedAfter): three pages while the newer jobs' last change is
    # within the overlap of the newest change seen, then one. The eleventh is a full read
    # again (from the oldest followed job's creation on), which notices deleted jobs.
    assert counts[0] == GOAL and max(counts) <= GOAL, counts
    assert counts[5:10] == [1] * 5 and counts[10] == GOAL and set(counts[11:]) == {1}, counts
    assert all("CreatedAfter=" in r.query for r in lists[GOAL:])
    assert sum("modifiedAfter=" in r.query for r in lists) >= 10


def test_edge_a_deleted_job_is_found_out_at_the_next_full_read() -> None:
    with simulate("veritone-edge", task_s=20.0) as sim, sim.connect(max_retry_time=5) as hub:
        ids = [hub.submit(tasks=[{"engineId": EDGE_ENGINE}]).id for _ in range(5)]
        adapter: Any = hub.adapter
        first = list(adapter.refresh(ids))
        assert all(isinstance(t, Task) for t in first)
        adapter.delete_job(ids[2])
        seen: list[Any] = []
        for _ in range(10):
            sim.clock.advance(1)
            seen = list(adapter.refresh(ids))
            if any(isinstance(r, TaskNotFound) for r in seen):
                break
        (lost,) = [r for r in seen if isinstance(r, TaskNotFound)]
        assert lost.task_id == ids[2]


def test_the_edge_simulator_filters_jobs_as_documented() -> None:
    """``/proc/jobs`` takes ``modifiedAfter``, ``CreatedAfter`` (and their ``Before``s),
    ``status`` and ``jobID`` (veritone-edge.md section 8); the time bounds are Unix seconds,
    compared strictly."""
    with simulate("veritone-edge", task_s=100.0) as sim, sim.connect(max_retry_time=5) as hub:
        adapter: Any = hub.adapter

        def listed(**params: Any) -> list[str]:
            body = adapter._json("GET", "/proc/jobs", "list", params={"limit": 100, **params})
            return [j["internalJobID"] for j in body["result"]]

        first = hub.submit(tasks=[{"engineId": EDGE_ENGINE}])
        sim.clock.advance(10)
        second = hub.submit(tasks=[{"engineId": EDGE_ENGINE}])
        made = int(sim.clock.now())
        sim.clock.advance(10)
        assert listed() == [second.id, first.id]  # newest first
        assert listed(CreatedAfter=made - 1) == [second.id]
        assert listed(CreatedAfter=made) == []  # strictly after
        assert listed(CreatedBefore=made) == [first.id]
        assert listed(jobID=first.id) == [first.id]
        assert listed(status="running") == [second.id, first.id]
        now = int(sim.clock.now())
        assert listed(modifiedAfter=now - 1) == []  # both started running 9.5 s ago
        assert listed(modifiedAfter=now - 10) == [second.id]
        assert listed(modifiedBefore=now - 10) == [first.id]
        for bad in ({"modifiedAfter": "yesterday"}, {"jobID": "not-a-uuid"}):
            with pytest.raises(taskhub.InvalidRequest):
                listed(**bad)


# -- Livepeer: what changed since the last cycle ---------------------------------------------


def test_livepeer_lists_what_changed_since_the_last_cycle() -> None:
    with (
        simulate("livepeer", running_s=20.0, max_active=FOLLOWED + NEWER + 1) as sim,
        sim.connect(max_retry_time=5) as hub,
    ):
        ids = []
        for n in range(FOLLOWED):
            ids.append(hub.submit(kind="upload", url=f"https://m.example/{n}.mp4", name="x").id)
            sim.clock.advance(0.2)
        sim.clock.advance(1)
        for n in range(NEWER):  # newer, and waiting forever for a worker
            hub.submit(kind="upload", url=f"https://m.example/stuck-{n}.mp4", name="y")
        adapter: Any = hub.adapter
        adapter.refresh_page = PAGE
        start = len(sim.requests)
        counts = _follow(sim, hub, ids, cycles=16, step=2.0)
        lists = [r for r in sim.requests[start:] if r.path.endswith("/task")]
        assert {hub.get(i).state for i in ids} == {State.SUCCEEDED}
    # Three pages to find all 30 among the newest; then what changed (updatedAt), created
    # between the oldest and the newest followed task (createdAt): one page, the full read
    # of the eleventh cycle included.
    assert counts == [GOAL] + [1] * 15, counts
    full = [n for n, r in enumerate(lists) if "updatedAt" not in r.query]
    assert full == [0, 1, 2, GOAL + 9]  # the first cycle's walk, the eleventh cycle's read
    assert all("createdAt%22%2C%22value%22%3A%7B%22lte" in r.query for r in lists[GOAL:])


def test_livepeer_followers_joining_and_leaving_between_change_only_cycles() -> None:
    """Tasks followed from a later cycle on (so never observed, and maybe unchanged since
    long) are found all the same: in the change listing, else by id, else (more than two) in
    the newest-first listing; a task no longer followed is not answered for."""
    with simulate("livepeer", running_s=20.0) as sim, sim.connect(max_retry_time=5) as hub:
        stuck = [
            hub.submit(kind="upload", url=f"https://m.example/stuck-{n}.mp4", name="s").id
            for n in range(5)
        ]
        sim.clock.advance(5)
        moving = [
            hub.submit(kind="upload", url=f"https://m.example/{n}.mp4", name="m").id
            for n in range(5)
        ]
        adapter: Any = hub.adapter
        adapter.refresh_page = 4
        counts = []
        for ids in (moving, moving + stuck[:1], moving + stuck[:2], moving[1:] + stuck):
            read, sent = _cycle(sim, hub, ids)
            _check(hub, ids, read, times=True)
            counts.append(sent)
            sim.clock.advance(2)
        # 1: a page of four, the fifth by id (another page would not pay for one task);
        # 2, 3: the five that changed (two pages), the one or two unchanged newcomers by id;
        # 4: the changes (two pages), then three newcomers in the newest-first listing.
        assert counts == [2, 3, 3, 4], counts
        read, sent = _cycle(sim, hub, moving[1:] + stuck)
        _check(hub, moving[1:] + stuck, read, times=True)
        assert sent == 2  # the four moving ones: a full page, and the empty one it links to


# -- Cognite: the running ones, created since the oldest followed ---------------------------


def test_cognite_lists_the_running_executions_created_since_the_oldest_followed() -> None:
    with simulate("cognite") as sim, sim.connect(max_retry_time=5, page_size=PAGE) as hub:
        ids = []
        for _ in range(FOLLOWED):
            ids.append(hub.submit(workflow="taskhub-auto", version="1").id)
            sim.clock.advance(0.05)
        sim.clock.advance(0.5)
        for _ in range(NEWER):  # newer, and waiting for their asynchronous step
            hub.submit(workflow="taskhub-demo", version="1")
        start = len(sim.requests)
        counts = _follow(sim, hub, ids, cycles=8, step=0.5, times=False)
        lists = [r for r in sim.requests[start:] if r.path.endswith("/executions/list")]
        assert {hub.get(i).state for i in ids} == {State.SUCCEEDED}
    # Three pages of running executions to find all 30 among the newest; then the running
    # ones created between the oldest and the newest followed (one page), and those that
    # finished: by id when one did, else listed (one page).
    assert counts[0] == GOAL and set(counts[1:]) <= {1, 2}, counts
    windowed = [r.json()["filter"] for r in lists[GOAL:]]
    assert all("createdTimeStart" in f and "createdTimeEnd" in f for f in windowed)
    assert {tuple(f["status"]) for f in windowed} == {
        ("RUNNING",),
        ("COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"),
    }
