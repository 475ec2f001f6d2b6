"""Refs everywhere: a Task, a "backend:id" ref or a bare id address the same task."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

import taskhub
from taskhub import InvalidRequest, State, Status, Task
from taskhub.model import split_ref
from taskhub.testing import Simulation, simulate


@pytest.fixture
def sim() -> Iterator[Simulation]:
    with simulate("livepeer") as running:
        yield running


def test_a_task_its_ref_and_its_id_address_the_same_task(sim: Simulation) -> None:
    with sim.connect() as hub:
        task = hub.submit(kind="upload", url="https://in.example/a.mp4", name="a")
        assert task.ref == f"livepeer:{task.id}"
        for address in (task, task.ref, task.id):
            assert hub.get(address).id == task.id
        sim.clock.advance(60)
        assert (
            hub.wait(
                task.ref, timeout=30, poll=taskhub.PollPolicy(initial=0.01, factor=1, ceiling=0.01)
            ).id
            == task.id
        )
        assert [t.after for t in hub.watch([task], timeout=5)] == []  # already finished


def test_a_ref_or_task_of_another_backend_is_refused_before_any_request(sim: Simulation) -> None:
    with sim.connect() as hub:
        before = len(sim.requests)
        other = Task("media2", "livepeer", "abc", Status(State.RUNNING))
        for address in ("media2:abc", other):
            with pytest.raises(InvalidRequest, match="belongs to backend 'media2'") as info:
                hub.get(address)
            assert info.value.field == "task_id"
        with pytest.raises(InvalidRequest):
            hub.wait("media2:abc", timeout=1)
        assert len(sim.requests) == before


def test_a_named_backend_takes_its_own_refs(sim: Simulation) -> None:
    config = {"backends": {"media": {"vendor": "livepeer", **sim.options}}}
    with taskhub.connect("media", config=config) as hub:
        task = hub.submit(kind="upload", url="https://in.example/b.mp4", name="b")
        assert task.ref.startswith("media:")
        assert hub.get(task.ref) == hub.get(task.id)
        with pytest.raises(InvalidRequest, match="belongs to backend 'livepeer'"):
            hub.get(f"livepeer:{task.id}")


@given(st.text(min_size=1).filter(lambda b: ":" not in b and b.strip()), st.text(min_size=1))
def test_a_ref_round_trips(backend: str, task_id: str) -> None:
    task = Task(backend, "livepeer", task_id, Status(State.QUEUED))
    assert split_ref(task.ref) == (backend, task_id)


@pytest.mark.parametrize("ref", ["", ":", "abc", ":abc", "abc:"])
def test_a_malformed_ref_is_refused(ref: str) -> None:
    with pytest.raises(InvalidRequest):
        split_ref(ref)
