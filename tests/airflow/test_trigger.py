"""TaskHubTrigger against the simulators, its run() driven in an event loop as a triggerer
drives it: one event, plain kwargs, a restart that resumes, no request from the loop."""

from __future__ import annotations

import asyncio
import gc
import json
import threading
import time
from typing import Any

import pytest
import requests
from airflow.sdk.serde import deserialize, serialize
from airflow.triggers.base import TriggerEvent

from taskhub.airflow import TaskHubHook, TaskHubTrigger, triggers
from taskhub.clock import VirtualClock
from taskhub.following import Patience
from taskhub.refresh import Refresher, Subscription
from taskhub.testing import Simulation, simulate

from .conftest import connection, prepare


def events_of(trigger: TaskHubTrigger) -> list[TriggerEvent]:
    """Every event the trigger yields, run to its end in a new event loop."""

    async def run() -> list[TriggerEvent]:
        return [event async for event in trigger.run()]

    return asyncio.run(asyncio.wait_for(run(), 60))


def rebuilt(trigger: TaskHubTrigger) -> TaskHubTrigger:
    """The trigger as another triggerer makes it: from the stored classpath and kwargs."""
    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    cls = getattr(__import__(module, fromlist=[name]), name)
    stored = json.loads(json.dumps(serialize(kwargs)))  # what the metadata database keeps
    values = deserialize(stored)
    assert isinstance(values, dict)
    made: TaskHubTrigger = cls(**values)
    return made


def submit(sim: Simulation, url: str = "https://media.example.com/in.mp4") -> str:
    with sim.connect() as hub:
        return hub.submit(kind="upload", url=url, name="in.mp4").ref


def test_the_trigger_has_only_plain_kwargs_and_rebuilds_the_same() -> None:
    trigger = TaskHubTrigger("taskhub_default", "livepeer:abc", deadline=1.5e9, stale_after=60)
    classpath, kwargs = trigger.serialize()
    assert classpath == "taskhub.airflow.triggers.TaskHubTrigger"
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert all(isinstance(v, (str, int, float, bool, type(None))) for v in kwargs.values())
    assert rebuilt(trigger).serialize() == (classpath, kwargs)


def test_a_task_that_succeeds_gives_one_event_with_its_ref_state_word_and_dict(
    livepeer: Simulation,
) -> None:
    ref = submit(livepeer)
    (event,) = events_of(TaskHubTrigger("taskhub_default", ref))
    payload = event.payload
    assert payload["outcome"] == "succeeded" and payload["state"] == "succeeded"
    assert payload["ref"] == ref and payload["raw"] == "completed"
    assert payload["task"]["ref"] == ref and payload["task"]["status"]["raw"] == "completed"
    assert livepeer.options["api_key"] not in json.dumps(payload)
    assert json.loads(json.dumps(payload)) == payload


def test_a_task_that_fails_gives_the_vendors_message_and_word(livepeer: Simulation) -> None:
    ref = submit(livepeer, "https://media.example.com/fail-fatal.mp4")
    (event,) = events_of(TaskHubTrigger("taskhub_default", ref))
    assert event.payload["outcome"] == "failed" and event.payload["raw"] == "failed"
    assert event.payload["message"]


def test_the_deadline_and_staleness_end_the_wait(livepeer: Simulation) -> None:
    ref = submit(livepeer, "https://media.example.com/stuck.mp4")
    started = time.monotonic()
    (timeout,) = events_of(TaskHubTrigger("taskhub_default", ref, deadline=time.time() + 0.5))
    assert timeout.payload["outcome"] == "timeout" and timeout.payload["state"] == "queued"
    assert time.monotonic() - started < 5
    (stale,) = events_of(TaskHubTrigger("taskhub_default", ref, stale_after=0.4))
    assert stale.payload["outcome"] == "stale" and "not changed" in stale.payload["message"]


def test_an_unknown_task_and_a_bad_connection_are_error_events(
    livepeer: Simulation, use_connection: Any
) -> None:
    (missing,) = events_of(TaskHubTrigger("taskhub_default", "livepeer:no-such-task"))
    assert missing.payload["outcome"] == "error" and missing.payload["error"] == "TaskNotFound"
    use_connection({"conn_type": "taskhub", "extra": {"vendor": "livepeeer"}}, "broken")
    before = len(livepeer.requests)
    (bad,) = events_of(TaskHubTrigger("broken", "livepeer:abc"))
    assert bad.payload["outcome"] == "error"
    assert "did you mean 'livepeer'" in bad.payload["message"]
    assert len(livepeer.requests) == before


def test_a_ref_of_another_backend_is_refused(livepeer: Simulation) -> None:
    (event,) = events_of(TaskHubTrigger("taskhub_default", "media:abc"))
    assert event.payload["outcome"] == "error"
    assert "belongs to backend 'media'" in event.payload["message"]


def test_a_trigger_restarted_elsewhere_resumes_from_the_ref(use_connection: Any) -> None:
    with simulate("livepeer", speed=1) as sim:  # real time: it runs for 5 s
        use_connection(connection(sim))
        ref = submit(sim)
        trigger = TaskHubTrigger("taskhub_default", ref)

        async def start_then_stop() -> None:
            runner = asyncio.ensure_future(trigger.run().__anext__())
            await asyncio.sleep(0.5)  # the triggerer dies (or hands the trigger on)
            assert not runner.done()
            runner.cancel()
            with pytest.raises(asyncio.CancelledError):
                await runner

        asyncio.run(start_then_stop())
        sim.clock.advance(10)
        (event,) = events_of(rebuilt(trigger))
        assert event.payload["outcome"] == "succeeded" and event.payload["ref"] == ref
        assert len([r for r in sim.requests if r.method == "POST"]) == 1


def test_no_request_is_sent_from_the_event_loops_thread(
    livepeer: Simulation, monkeypatch: pytest.MonkeyPatch
) -> None:
    refs = [submit(livepeer) for _ in range(5)]
    senders: list[int] = []
    send = requests.adapters.HTTPAdapter.send

    def recorded(self: Any, *args: Any, **kwargs: Any) -> Any:
        senders.append(threading.get_ident())
        return send(self, *args, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", recorded)

    async def run_all() -> tuple[int, list[Any]]:
        triggers = [TaskHubTrigger("taskhub_default", ref) for ref in refs]
        found = await asyncio.gather(*(t.wait() for t in triggers))
        return threading.get_ident(), found

    loop_thread, payloads = asyncio.run(run_all())
    assert [p["outcome"] for p in payloads] == ["succeeded"] * 5
    assert senders and loop_thread not in senders


@pytest.mark.parametrize("vendor", ["cognite", "livepeer"])
def test_on_kill_cancels_where_the_vendor_can(vendor: str, use_connection: Any) -> None:
    with simulate(vendor, speed=5) as sim:
        prepare(sim)
        use_connection(connection(sim))
        with sim.connect() as hub:
            spec: dict[str, Any] = (
                {"workflow": "taskhub-demo", "version": "1", "input": {"fileId": 1}}
                if vendor == "cognite"
                else {"kind": "upload", "url": "https://media.example.com/stuck.mp4", "name": "x"}
            )
            task = hub.submit(**spec)
            before = len(sim.requests)
            asyncio.run(TaskHubTrigger("taskhub_default", task.ref).on_kill())
            after = hub.get(task.id)
        if vendor == "cognite":
            assert after.state.value == "cancelled"
        else:  # Livepeer cannot cancel: nothing is sent, the task goes on
            assert len(sim.requests) == before + 1  # the get above
            assert not after.state.terminal


def test_cancel_on_kill_false_sends_nothing(livepeer: Simulation) -> None:
    before = len(livepeer.requests)
    trigger = TaskHubTrigger("taskhub_default", "livepeer:abc", cancel_on_kill=False)
    asyncio.run(trigger.on_kill())
    assert len(livepeer.requests) == before


def test_many_triggers_share_one_read_per_cycle(use_connection: Any) -> None:
    with simulate("livepeer", speed=5) as sim:
        use_connection(connection(sim))
        refs = [submit(sim) for _ in range(40)]
        start = len(sim.requests)

        async def run_all() -> list[dict[str, Any]]:
            triggers = [TaskHubTrigger("taskhub_default", r) for r in refs]
            return await asyncio.gather(*(t.wait() for t in triggers))

        payloads = asyncio.run(run_all())
        reads = len(sim.requests) - start
    assert {p["outcome"] for p in payloads} == {"succeeded"}
    assert reads < 40  # polling alone, each trigger would read at least once: 40 or more


def test_triggers_started_one_a_turn_share_one_subscription(
    use_connection: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with simulate("livepeer", speed=5) as sim:
        use_connection(connection(sim))
        refs = [submit(sim) for _ in range(20)]
        made: list[Subscription] = []
        follow = Refresher.follow

        def counted(self: Refresher, *args: Any, **kwargs: Any) -> Subscription:
            made.append(follow(self, *args, **kwargs))
            return made[-1]

        monkeypatch.setattr(Refresher, "follow", counted)

        async def run_all() -> list[dict[str, Any]]:
            await TaskHubHook("taskhub_default").aget_hub()  # the connection read once, first
            started = []
            for ref in refs:  # as Airflow's TriggerRunner.create_triggers: one a turn
                started.append(asyncio.ensure_future(TaskHubTrigger("taskhub_default", ref).wait()))
                await asyncio.sleep(0)
            return await asyncio.gather(*started)

        payloads = asyncio.run(asyncio.wait_for(run_all(), 60))
    assert {p["outcome"] for p in payloads} == {"succeeded"}
    # One subscription (and one reader) for the loop's twenty triggers, not one each.
    assert len(made) == 1 and made[0].closed


@pytest.mark.parametrize("setting", [None, "True"])
def test_the_heap_is_frozen_once_and_only_when_the_deployment_asks(
    livepeer: Simulation, monkeypatch: pytest.MonkeyPatch, setting: str | None
) -> None:
    monkeypatch.setattr(triggers, "_freeze_checked", False)  # as in a new triggerer process
    if setting is None:
        monkeypatch.delenv("AIRFLOW__TASKHUB__TRIGGERER_GC_FREEZE", raising=False)
    else:
        monkeypatch.setenv("AIRFLOW__TASKHUB__TRIGGERER_GC_FREEZE", setting)
    freezes: list[int] = []
    freeze = gc.freeze

    def counted() -> None:
        freezes.append(gc.get_freeze_count())
        freeze()

    monkeypatch.setattr(gc, "freeze", counted)
    try:
        for _ in range(2):  # a second trigger in the process does not freeze again
            (event,) = events_of(TaskHubTrigger("taskhub_default", submit(livepeer)))
            assert event.payload["outcome"] == "succeeded"
        frozen = gc.get_freeze_count()
    finally:
        gc.unfreeze()
    assert len(freezes) == (0 if setting is None else 1)
    assert (frozen > 0) is (setting is not None)


def test_a_vendor_outage_is_waited_out(use_connection: Any) -> None:
    with simulate("livepeer", speed=20) as sim:
        use_connection(connection(sim, max_retries=0))
        ref = submit(sim)
        sim.inject(status=503, method="GET", times=4)  # four cycles fail, then it answers
        (event,) = events_of(TaskHubTrigger("taskhub_default", ref, unreachable_after=30))
    assert event.payload["outcome"] == "succeeded"


def test_a_vendor_that_stays_unreachable_ends_the_wait(use_connection: Any) -> None:
    with simulate("livepeer", speed=20) as sim:
        conn = connection(sim, max_retries=0)
        ref = submit(sim)
    use_connection(conn)  # the simulator is gone: every read is refused
    started = time.monotonic()
    (event,) = events_of(TaskHubTrigger("taskhub_default", ref, unreachable_after=1))
    assert event.payload["outcome"] == "error" and event.payload["error"] == "VendorUnavailable"
    assert "every read failed for" in event.payload["message"]
    assert time.monotonic() - started < 10


def test_the_trigger_stops_by_the_rules_every_wait_has_on_virtual_time(
    use_connection: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The trigger's staleness is the one Patience hub.wait has: on a virtual clock, a task
    stuck in ``waiting`` is stale at the first cycle 600 s after it was first read."""
    decided: list[tuple[str, float]] = []
    due = Patience.due

    def recorded(self: Patience) -> Any:
        limit = due(self)
        if limit is not None:
            decided.append((limit, self.clock.monotonic() - self.started))
        return limit

    monkeypatch.setattr(Patience, "due", recorded)
    with simulate("livepeer") as sim:  # a manual clock: only the refresher's pauses move it
        use_connection(connection(sim, poll_interval=60, poll_max=60))
        ref = submit(sim, "https://media.example.com/stuck.mp4")
        hub = asyncio.run(TaskHubHook("taskhub_default").aget_hub())  # the trigger's hub
        hub.clock = VirtualClock(on_sleep=sim.clock.advance)
        (event,) = events_of(TaskHubTrigger("taskhub_default", ref, stale_after=600))
    assert event.payload["outcome"] == "stale"
    assert "has not changed for 6" in event.payload["message"]  # 600 s and a cycle at most
    assert [limit for limit, _ in decided] == ["stale"]
    # A cycle or two past it at most: the connection's 60 s polls carry ±10 % jitter.
    assert 600 <= decided[0][1] < 600 + 2 * 66
