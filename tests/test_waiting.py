"""wait and watch over loopback; connect_all, taskhub.parse, named jobs, poll options."""

from __future__ import annotations

from typing import Any

import pytest

import taskhub
from taskhub import ConfigError, PollPolicy, StaleTask, State, WaitTimeout, config
from taskhub.clock import VirtualClock
from taskhub.testing import SimClock, simulate

FAST = PollPolicy(initial=0.02, factor=1.5, ceiling=0.1)
URL = "https://media.example.com/in.mp4"


def test_poll_policy_grows_to_its_ceiling_with_jitter() -> None:
    delays = PollPolicy(initial=1, factor=2, ceiling=5, jitter=0.0).delays()
    assert [next(delays) for _ in range(5)] == [1, 2, 4, 5, 5]
    jittered = PollPolicy(initial=10, factor=1.0, jitter=0.2).delays()
    assert all(8 <= next(jittered) <= 12 for _ in range(20))
    with pytest.raises(ValueError, match="factor"):
        PollPolicy(factor=0.5)


def test_wait_returns_the_terminal_task_and_reports_each_transition_once() -> None:
    with simulate("livepeer", clock=SimClock(speed=40)) as sim, sim.connect() as hub:
        task = hub.submit(kind="upload", url=URL, name="in")
        seen: list[Any] = []
        done = hub.wait(task.id, timeout=30, on_update=seen.append, poll=FAST)
    assert done.state is State.SUCCEEDED
    assert [t.after for t in seen] == [State.RUNNING, State.SUCCEEDED]
    assert len({id(t) for t in seen}) == len(seen)


def test_wait_times_out_with_the_last_task() -> None:
    with simulate("livepeer", clock=SimClock(speed=40)) as sim, sim.connect() as hub:
        task = hub.submit(kind="upload", url="https://m.example/stuck.mp4", name="s")
        with pytest.raises(WaitTimeout) as info:
            hub.wait(task.id, timeout=0.3, poll=FAST, stale_after=3600)
    assert info.value.task is not None
    assert info.value.task.state is State.QUEUED
    assert not isinstance(info.value, StaleTask)


def test_a_task_that_never_changes_is_reported_stale() -> None:
    with simulate("livepeer") as sim, sim.connect(stale_after=0.2) as hub:
        task = hub.submit(kind="upload", url="https://m.example/stuck.mp4", name="s")
        with pytest.raises(StaleTask, match="has not changed") as info:
            hub.wait(task.id, timeout=30, poll=FAST)
    assert info.value.since >= 0.2
    assert info.value.task is not None and info.value.task.status.raw == "waiting"


def test_watch_refreshes_many_tasks_with_one_listing_per_cycle() -> None:
    with simulate("livepeer", clock=SimClock(speed=40)) as sim, sim.connect() as hub:
        ids = [
            hub.submit(kind="upload", url=f"https://m.example/{n}.mp4", name="x").id
            for n in range(25)
        ]
        sim.simulator.log.clear()
        refresher = hub.refresher(FAST)
        before = refresher.cycles
        transitions = list(hub.watch(ids, timeout=60, poll=FAST))
        cycles = refresher.cycles - before
        listings = sim.simulator.log.find("GET", r"/api/task$")
        singles = sim.simulator.log.find("GET", r"/api/task/")
    assert {t.ref.split(":", 1)[1] for t in transitions if t.after is State.SUCCEEDED} == set(ids)
    assert len(listings) >= 1  # many unfinished tasks: one listing serves them all
    # Never one request per task: at most two per cycle (the last one or two unfinished tasks
    # are read by id, cheaper than a page of a thousand).
    assert len(listings) + len(singles) <= 2 * cycles


def test_watch_falls_back_to_gets_where_the_vendor_cannot_list() -> None:
    with simulate("vionlabs", clock=SimClock(speed=40)) as sim, sim.connect() as hub:
        sim.simulator.add_item({"id": "m", "type": "standalone", "title": "M"})
        ids = [
            hub.submit(inventory_id="m", product=p, version="1").id for p in ("markers", "nudity")
        ]
        states = {t.ref: t.after for t in hub.watch(ids, timeout=60, poll=FAST)}
    assert set(states.values()) >= {State.SUCCEEDED}
    assert len(states) == 2


def test_watch_by_filter_and_its_timeout() -> None:
    with simulate("cognite", clock=SimClock(speed=40)) as sim, sim.connect() as hub:
        runs = [hub.submit(workflow="taskhub-auto", version="1").id for _ in range(3)]
        demo = hub.submit(workflow="taskhub-demo", version="1").id  # waits for a report
        with pytest.raises(WaitTimeout, match="1 task still unfinished") as info:
            for _ in hub.watch(state=State.RUNNING, timeout=1.0, poll=FAST):
                pass
        assert demo in str(info.value)
        assert {hub.tracker.state(f"cognite:{r}") for r in runs} == {State.SUCCEEDED}
        with pytest.raises(taskhub.InvalidRequest, match="not both"):
            hub.watch(runs, state=State.RUNNING)


def test_connect_all_and_parse_without_a_request() -> None:
    hubs = taskhub.connect_all(
        {
            "backends": {
                "media": {"vendor": "livepeer", "api_key": "k" * 8},
                "flows": {
                    "vendor": "cognite",
                    "project": "p",
                    "base_url": "https://x",
                    "token": "t" * 8,
                },
            }
        }
    )
    assert {n: h.vendor for n, h in hubs.items()} == {"media": "livepeer", "flows": "cognite"}
    payload = {
        "id": "t1",
        "type": "upload",
        "status": {"phase": "completed", "updatedAt": 1700000000000},
    }
    task = taskhub.parse("livepeer", payload, backend="media")
    assert (task.ref, task.state) == ("media:t1", State.SUCCEEDED)
    assert (
        taskhub.parse(
            "vionlabs",
            {
                "status": "done",
                "_links": {"self": {"href": "/tasks/catalog-item/m/product/markers/version/1"}},
            },
        ).id
        == "m/markers/1"
    )
    with pytest.raises(taskhub.MalformedResponse):
        taskhub.parse("cognite", {"id": "x"})


def test_named_jobs_in_the_configuration() -> None:
    cfg = config.parse(
        {
            "default": "media",
            "backends": {"media": {"vendor": "livepeer", "api_key": "k" * 8, "poll_interval": 0.5}},
            "jobs": {"ingest": {"spec": {"kind": "upload", "url": "${SRC}", "name": "in"}}},
        },
        environ={"SRC": "https://x/in.mp4"},
    )
    assert cfg.job("ingest").spec == {"kind": "upload", "url": "https://x/in.mp4", "name": "in"}
    with pytest.raises(ConfigError, match="unknown job 'ingets'; did you mean 'ingest'"):
        cfg.job("ingets")
    with pytest.raises(ConfigError, match=r"jobs\.x\.backend: unknown backend 'nope'"):
        config.parse({"backends": {}, "jobs": {"x": {"backend": "nope"}}})
    with pytest.raises(ConfigError, match=r"jobs\.x: unknown setting 'specs'"):
        config.parse({"jobs": {"x": {"specs": {}}}})
    hub = taskhub.connect(config=cfg)
    assert hub.poll_policy.initial == 0.5
    assert hub.poll_policy.ceiling == 30.0  # the vendor's default


def _virtual(sim: Any) -> VirtualClock:
    return VirtualClock(on_sleep=sim.clock.advance)


def test_wait_runs_on_virtual_time_and_hands_the_task_to_each_callback() -> None:
    with simulate("livepeer") as sim, sim.connect() as hub:  # a manual clock: only sleeps move it
        hub.clock = clock = _virtual(sim)
        task = hub.submit(kind="upload", url=URL, name="in")
        seen: list[Any] = []
        progress: list[float] = []
        done = hub.wait(
            task,
            on_update=seen.append,
            on_progress=lambda t: progress.append(t.status.progress or 0.0),
            poll=PollPolicy(initial=1.0, factor=1.0, ceiling=1.0, jitter=0.0),
        )
    assert done.state is State.SUCCEEDED
    assert [(t.before, t.after) for t in seen] == [
        (State.QUEUED, State.RUNNING),
        (State.RUNNING, State.SUCCEEDED),
    ]
    assert all(t.task is not None and t.task.ref == t.ref for t in seen)
    assert seen[-1].task is not None and seen[-1].task.outputs == done.outputs
    assert len(progress) >= 2 and progress == sorted(progress)  # rising, without a state change
    assert all(p is not None and 0 < p < 1 for p in progress)
    assert sum(clock.slept) >= 1  # it waited in virtual seconds, not real ones


def test_the_default_wait_has_no_timeout_but_a_stuck_task_is_stale() -> None:
    with simulate("livepeer") as sim, sim.connect(stale_after=600) as hub:
        hub.clock = clock = _virtual(sim)
        task = hub.submit(kind="upload", url="https://m.example/stuck.mp4", name="s")
        with pytest.raises(StaleTask) as info:
            hub.wait(task, poll=PollPolicy(initial=60, factor=1.0, ceiling=60, jitter=0.0))
    assert info.value.since >= 600
    assert 600 <= sum(clock.slept) <= 700
