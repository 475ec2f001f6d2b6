"""TaskHub over the toy simulator: operations, tracking, report checks, capabilities."""

from __future__ import annotations

import pytest

import taskhub
from taskhub import InvalidRequest, InvalidTransition, State, TaskHub, UnsupportedOperation
from taskhub.testing import Simulation


@pytest.fixture
def hub(toy: Simulation) -> TaskHub:
    return toy.connect()


def test_capabilities_are_what_the_adapter_implements(hub: TaskHub) -> None:
    assert hub.capabilities == {"submit", "get", "list", "cancel", "report"}
    assert taskhub.registry.load("livepeer").capabilities() <= set(taskhub.adapter.OPERATIONS)


def test_unsupported_operation_names_vendor_operation_and_alternative(
    hub: TaskHub, toy: Simulation
) -> None:
    with pytest.raises(UnsupportedOperation) as info:
        hub.retry("t1")
    assert str(info.value) == "toy does not support retry; submit the same work again"
    assert toy.requests == []


def test_submit_get_and_the_tracker(hub: TaskHub, toy: Simulation) -> None:
    task = hub.submit(input="x")
    assert task.state is State.QUEUED
    toy.clock.advance(1)
    assert hub.get(task.id).state is State.RUNNING
    toy.clock.advance(5)
    assert hub.get(task.id).state is State.SUCCEEDED
    assert [t.after for t in hub.tracker.history(task.ref)] == [
        State.QUEUED,
        State.RUNNING,
        State.SUCCEEDED,
    ]


def test_list_streams_pages_lazily_and_honours_limit(hub: TaskHub, toy: Simulation) -> None:
    for _ in range(5):
        hub.submit()
    stream = hub.list()
    assert toy.requests[-1].method == "POST"  # nothing fetched yet
    assert [t.id for t in stream] == ["t1", "t2", "t3", "t4", "t5"]
    assert len(toy.simulator.log.find("GET", "/tasks$")) == 3  # pages of two
    assert len(list(hub.list(limit=3))) == 3


@pytest.mark.parametrize("limit", [0, -1, 2.5, True, "3"])
def test_a_bad_limit_is_refused_before_sending(
    hub: TaskHub, toy: Simulation, limit: object
) -> None:
    with pytest.raises(InvalidRequest, match="limit"):
        hub.list(limit=limit)  # type: ignore[arg-type]
    assert toy.requests == []


def test_list_filters_by_state(hub: TaskHub, toy: Simulation) -> None:
    hub.submit()
    toy.clock.advance(5)
    hub.submit()
    assert [t.id for t in hub.list(state="succeeded")] == ["t1"]
    assert [t.id for t in hub.list(state=[State.QUEUED, "running"])] == ["t2"]
    with pytest.raises(InvalidRequest, match="unknown state 'finished'"):
        hub.list(state="finished")


def test_report_checks_the_vendor_words_and_the_last_known_state(
    hub: TaskHub, toy: Simulation
) -> None:
    task = hub.submit()
    with pytest.raises(
        InvalidTransition,
        match=r"cannot report paused to toy \(it takes: running, succeeded, failed\)",
    ):
        hub.report(task.id, State.PAUSED)
    assert hub.report(task.id, "running").state is State.RUNNING
    assert hub.report(task.id, State.SUCCEEDED).state is State.SUCCEEDED
    sent = len(toy.requests)
    with pytest.raises(InvalidTransition, match="already succeeded"):
        hub.report(task.id, State.FAILED)
    assert len(toy.requests) == sent
    # Forced, it is sent; the hub's answer stays the Tracker's.
    assert hub.report(task.id, State.FAILED, force=True).state is State.SUCCEEDED
    assert len(toy.requests) == sent + 1


def test_ids_are_checked_before_sending(hub: TaskHub, toy: Simulation) -> None:
    for bad in ("", "  ", "a\nb", None, 5):
        with pytest.raises(InvalidRequest):
            hub.get(bad)  # type: ignore[arg-type]
    assert toy.requests == []


def test_parse_needs_no_request(hub: TaskHub, toy: Simulation) -> None:
    task = hub.parse({"id": "z", "status": "done", "created": 1_700_000_000})
    assert (task.id, task.state, task.backend) == ("z", State.SUCCEEDED, "toy")
    with pytest.raises(taskhub.MalformedResponse):
        hub.parse({"status": "done"})
    assert toy.requests == []


def test_repr_shows_no_secret(hub: TaskHub) -> None:
    assert "toy-secret" not in repr(hub) + repr(hub.options) + repr(hub.adapter)


def test_the_hubs_policy_is_what_masks_its_tasks(hub: TaskHub) -> None:
    task = hub.submit(input="x")
    assert hub.policy is task.policy
    assert hub.policy.text("token toy-secret-token-0123456789") == "token ***"
