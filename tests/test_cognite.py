"""Cognite: adapter and simulator over loopback, the worker role, OAuth, and cognite-sdk."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import taskhub
from taskhub import (
    AuthError,
    Conflict,
    InvalidRequest,
    InvalidTransition,
    OutcomeUnknown,
    State,
    TaskHub,
    TaskNotFound,
)
from taskhub.testing import Simulation, simulate
from taskhub.testing.contract import AdapterContract


class TestCogniteContract(AdapterContract):
    vendor = "cognite"

    def submit_spec(self, sim: Simulation) -> dict[str, Any]:
        return {"workflow": "taskhub-auto", "version": "1", "input": {"fileId": 123}}


@pytest.fixture
def sim() -> Iterator[Simulation]:
    with simulate("cognite") as running:
        yield running


@pytest.fixture
def hub(sim: Simulation) -> Iterator[TaskHub]:
    with sim.connect(max_retry_time=5) as connected:
        yield connected


def workflow(sim: Simulation, name: str, tasks: list[dict[str, Any]], version: str = "1") -> None:
    sim.simulator.upsert_version(name, version, tasks)  # type: ignore[attr-defined]


def fn(xid: str, function: str, **extra: Any) -> dict[str, Any]:
    return {
        "externalId": xid,
        "type": "function",
        "parameters": {"function": {"externalId": function}},
        **extra,
    }


def words(task: taskhub.Task) -> dict[str, State]:
    return {t.status.raw or "": t.state for t in task.subtasks}


def test_every_status_word_goes_through_simulator_and_adapter(
    sim: Simulation, hub: TaskHub
) -> None:
    seen: dict[tuple[str, str], State] = {}

    def note(task: taskhub.Task) -> None:
        seen[("execution", task.status.raw or "")] = task.state
        for sub in task.subtasks:
            seen[("task", sub.status.raw or "")] = sub.state

    workflow(
        sim,
        "mixed",
        [
            fn("ok", "ok-fn"),
            fn("soft", "fail-fn", retries=0, onFailure="skipTask"),
            fn("late", "ok-fn", dependsOn=[{"externalId": "ok"}]),
            fn("never", "ok-fn", dependsOn=[{"externalId": "late"}]),
        ],
    )
    run = hub.submit(workflow="mixed", version="1")
    note(hub.get(run.id))  # RUNNING, SCHEDULED
    sim.clock.advance(1)
    note(hub.get(run.id))  # IN_PROGRESS
    sim.simulator.skip(run.id, "never")  # type: ignore[attr-defined]
    sim.clock.advance(10)
    note(hub.get(run.id))  # COMPLETED, COMPLETED_WITH_ERRORS, SKIPPED
    workflow(sim, "hard", [fn("boom", "fail-fn", retries=0)])
    failing = hub.submit(workflow="hard", version="1")
    sim.clock.advance(10)
    note(hub.get(failing.id))  # FAILED / FAILED
    workflow(sim, "slow", [fn("wait", "timeout-fn")])
    slow = hub.submit(workflow="slow", version="1")
    sim.clock.advance(10)
    note(hub.get(slow.id))  # TIMED_OUT task
    demo = hub.submit(workflow="taskhub-demo", version="1")
    sim.clock.advance(10)
    step = sim.simulator.async_task(demo.id)  # type: ignore[attr-defined]
    assert step is not None
    hub.report(step, State.FAILED, retryable=False)
    note(hub.get(demo.id))  # FAILED_WITH_TERMINAL_ERROR
    stopped = hub.submit(workflow="taskhub-demo", version="1")
    sim.clock.advance(1)
    hub.cancel(stopped.id)
    note(hub.get(stopped.id))  # TERMINATED, CANCELED
    sim.simulator.canceled_spelling = "CANCELLED"  # type: ignore[attr-defined]
    other = hub.submit(workflow="taskhub-demo", version="1")
    sim.clock.advance(1)
    hub.cancel(other.id)
    note(hub.get(other.id))  # CANCELLED, as the SDK hint spells it
    long = hub.submit(workflow="taskhub-demo", version="1")
    sim.clock.advance(25 * 3600)
    note(hub.get(long.id))  # execution TIMED_OUT
    expected = {
        ("execution", w): r.state
        for w, r in taskhub.registry.status_table("cognite").vocabularies["execution"].items()
    } | {
        ("task", w): r.state
        for w, r in taskhub.registry.status_table("cognite").vocabularies["task"].items()
    }
    assert seen == expected


def test_the_async_task_is_completed_by_report(sim: Simulation, hub: TaskHub) -> None:
    run = hub.submit(
        workflow="taskhub-demo", version="1", input={"fileId": 7}, metadata={"source": "test"}
    )
    assert (run.state, run.kind, run.params["workflow"]) == (
        State.RUNNING,
        "execution",
        "taskhub-demo",
    )
    sim.clock.advance(3)
    detailed = hub.get(run.id)
    prepare, step = detailed.subtasks
    assert (prepare.state, step.state) == (State.SUCCEEDED, State.RUNNING)
    assert prepare.params["input"]["function"]["data"] == {"fileId": 7}  # ${workflow.input}
    assert step.output["response"] == {"cogniteOrchestrationTaskId": step.id}
    done = hub.report(step.id, State.SUCCEEDED, output={"result": 7})
    assert done.state is State.SUCCEEDED
    assert done.output == {
        "callId": step.output["callId"],
        "functionId": step.output["functionId"],
        "response": step.output["response"],
        "result": 7,
    }
    finished = hub.get(run.id)
    assert finished.state is State.SUCCEEDED
    assert finished.params["metadata"]["source"] == "test"
    with pytest.raises(InvalidTransition, match="already succeeded"):
        hub.report(step.id, State.FAILED)


def test_a_retryable_failure_report_runs_the_task_again(sim: Simulation, hub: TaskHub) -> None:
    run = hub.submit(workflow="taskhub-demo", version="1")
    sim.clock.advance(3)
    step = sim.simulator.async_task(run.id)  # type: ignore[attr-defined]
    again = hub.report(step, State.FAILED, output={"error": "transient"})
    assert again.state is State.RUNNING  # retried per its retries setting
    assert again.id == step


def test_report_refusals_happen_before_sending(sim: Simulation, hub: TaskHub) -> None:
    run = hub.submit(workflow="taskhub-demo", version="1")
    sim.clock.advance(3)
    step = sim.simulator.async_task(run.id)  # type: ignore[attr-defined]
    sent = len(sim.requests)
    with pytest.raises(InvalidRequest, match="102400") as big:
        hub.report(step, State.SUCCEEDED, output={"blob": "x" * 110_000})
    assert big.value.field == "output"
    with pytest.raises(InvalidTransition, match="it takes: succeeded, failed"):
        hub.report(step, State.RUNNING)
    with pytest.raises(InvalidRequest, match="must be a JSON object"):
        hub.report(step, State.SUCCEEDED, output=["not", "a", "dict"])  # type: ignore[arg-type]
    assert len(sim.requests) == sent


def test_an_update_for_a_task_that_is_not_async_is_refused(sim: Simulation, hub: TaskHub) -> None:
    run = hub.submit(workflow="taskhub-auto", version="1")
    sim.clock.advance(1)
    task = hub.get(run.id).subtasks[0]
    hub.tracker.forget(task.ref)
    with pytest.raises(InvalidRequest, match="only an IN_PROGRESS async task") as info:
        hub.report(task.id, State.SUCCEEDED)
    assert info.value.http_status == 400
    assert info.value.request_id and info.value.request_id.startswith("sim-")


def test_cancel_and_retry(sim: Simulation, hub: TaskHub) -> None:
    run = hub.submit(workflow="taskhub-demo", version="1")
    sim.clock.advance(3)
    with pytest.raises(InvalidRequest, match="at most 500"):
        hub.cancel(run.id, reason="x" * 501)
    stopped = hub.cancel(run.id, reason="no longer needed")
    assert (stopped.state, stopped.status.message) == (State.CANCELLED, "no longer needed")
    with pytest.raises(Conflict):
        hub.cancel(run.id)
    again = hub.retry(run.id)
    assert again.state is State.RUNNING
    assert (
        hub.tracker.state(run.ref) is State.RUNNING
    )  # the commanded retry left the terminal state
    sim.clock.advance(3)
    step = sim.simulator.async_task(run.id)  # type: ignore[attr-defined]
    assert step is not None
    with pytest.raises(Conflict, match="only FAILED"):
        hub.retry(run.id)


def test_list_filters_and_cursor_paging(sim: Simulation) -> None:
    with sim.connect(page_size=2) as hub:
        ids = [hub.submit(workflow="taskhub-auto", version="1").id for _ in range(5)]
        demo = hub.submit(workflow="taskhub-demo", version="1")
        assert [t.id for t in hub.list(workflow="taskhub-auto")] == ids[::-1]
        pages = sim.simulator.log.find("POST", "executions/list")
        assert len(pages) == 3
        assert "cursor" in pages[1].json()
        sim.clock.advance(10)
        assert {t.id for t in hub.list(state=State.SUCCEEDED)} == set(ids)
        assert [t.id for t in hub.list(state="running")] == [demo.id]
        assert list(hub.list(state=State.QUEUED)) == []  # executions are never queued
        assert len(list(hub.list(limit=3))) == 3
        assert list(hub.list(workflow="taskhub-auto", version="2")) == []
        with pytest.raises(InvalidRequest, match="version needs workflow"):
            hub.list(version="1")


def test_percent_encoded_ids_and_bad_input(sim: Simulation, hub: TaskHub) -> None:
    workflow(sim, "wf 1/x", [fn("a", "ok-fn")], version="v 1")
    run = hub.submit(workflow="wf 1/x", version="v 1")
    assert run.params == {
        "workflow": "wf 1/x",
        "version": "v 1",
        "metadata": run.params["metadata"],
    }
    raw = next(r.raw_path for r in sim.requests if r.path.endswith("/run"))
    assert raw.endswith("/workflows/wf%201%2Fx/versions/v%201/run")
    sent = len(sim.requests)
    for bad in (
        {"workflow": "", "version": "1"},
        {"workflow": "w", "version": 1},
        {"workflow": " w", "version": "1"},
        {"workflow": "w", "version": "1", "input": [1]},
        {"workflow": "w", "version": "1", "metadata": {"k" * 33: "v"}},
    ):
        with pytest.raises(InvalidRequest):
            hub.submit(**bad)
    assert len(sim.requests) == sent
    with pytest.raises(TaskNotFound):
        hub.submit(workflow="nope", version="1")


def test_an_unknown_execution_is_task_not_found(hub: TaskHub) -> None:
    with pytest.raises(TaskNotFound) as info:
        hub.get("6a1f0c3e-2b7d-4e58-9a41-3c5d7e9f1b20")
    assert info.value.http_status == 400  # CDF's answer for an id it does not know


def test_a_lost_run_answer_is_found_again_not_duplicated(sim: Simulation) -> None:
    with sim.connect(timeout=0.3) as hub:
        sim.inject("delay", seconds=1.0, path="/run$")
        with pytest.raises(OutcomeUnknown) as info:
            hub.submit(workflow="taskhub-auto", version="1")
        assert len(sim.simulator.executions) == 1  # type: ignore[attr-defined]
        found = hub.adapter.find_submitted(info.value.lookup)  # type: ignore[attr-defined]
        assert found is not None
        assert found.id == next(iter(sim.simulator.executions))  # type: ignore[attr-defined]


def test_a_full_metadata_map_is_refused_before_sending(sim: Simulation, hub: TaskHub) -> None:
    full = {f"k{n}": "v" for n in range(10)}
    with pytest.raises(InvalidRequest, match="at most 9 pairs of your own") as info:
        hub.submit(workflow="taskhub-auto", version="1", metadata=full)
    assert info.value.field == "metadata"
    assert "taskhub_submit_id" in str(info.value)
    assert sim.requests == []  # not even the session nonce
    with pytest.raises(InvalidRequest, match="must not be empty"):
        hub.submit(workflow="taskhub-auto", version="1", metadata={"taskhub_submit_id": ""})
    assert sim.requests == []


NINE = {f"k{n}": "v" for n in range(9)}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (NINE, NINE),  # taskhub adds the tenth pair, its marker
        ({**NINE, "taskhub_submit_id": "run-1"}, {**NINE, "taskhub_submit_id": "run-2"}),
    ],
)
def test_a_lost_run_with_a_full_metadata_map_is_found(
    sim: Simulation, first: dict[str, str], second: dict[str, str]
) -> None:
    with sim.connect(timeout=0.3) as hub:
        hub.submit(workflow="taskhub-auto", version="1", metadata=first)  # an identical run
        sim.inject("delay", seconds=1.0, path="/run$")
        with pytest.raises(OutcomeUnknown) as info:
            hub.submit(workflow="taskhub-auto", version="1", metadata=second)
        held = sim.simulator.executions  # type: ignore[attr-defined]
        assert len(held) == 2
        assert all(len(e.metadata) == 10 for e in held.values())
        found = hub.adapter.find_submitted(info.value.lookup)  # type: ignore[attr-defined]
        assert found is not None
        assert found.id == list(held)[-1]


def test_a_retry_that_timed_out_is_not_sent_again(sim: Simulation) -> None:
    with sim.connect(timeout=0.3) as hub:
        run = hub.submit(workflow="taskhub-demo", version="1")
        sim.clock.advance(3)
        hub.cancel(run.id)
        sim.inject("delay", seconds=1.0, path="/retry$")
        with pytest.raises(OutcomeUnknown) as info:
            hub.retry(run.id)
        assert len(sim.simulator.log.find("POST", "/retry")) == 1
        assert "look at its state before retrying again" in str(info.value)
        assert info.value.lookup == {"operation": "retry", "task_id": run.id}
        assert hub.adapter.find_submitted(info.value.lookup) is None  # type: ignore[attr-defined]
        assert hub.get(run.id).state is State.RUNNING  # the server did act


def test_a_report_that_timed_out_is_not_sent_again(sim: Simulation) -> None:
    with sim.connect(timeout=0.3) as hub:
        run = hub.submit(workflow="taskhub-demo", version="1")
        sim.clock.advance(3)
        step = sim.simulator.async_task(run.id)  # type: ignore[attr-defined]
        sim.inject("delay", seconds=1.0, path="/update$")
        with pytest.raises(OutcomeUnknown) as info:
            hub.report(step, State.FAILED, output={"error": "transient"})
        assert len(sim.simulator.log.find("POST", "/update")) == 1
        assert "look at this task's state before reporting again" in str(info.value)
        # One failure, so the task's own retry ran once: a re-sent report would fail it again.
        again = next(t for t in hub.get(run.id).subtasks if t.id == step)
        assert again.state is State.RUNNING


def test_client_credentials_are_fetched_and_refreshed() -> None:
    with simulate("cognite") as sim:
        options = sim.simulator.oauth_options(sim.url)  # type: ignore[attr-defined]
        with sim.connect(token=None, **options) as hub:
            hub.submit(workflow="taskhub-auto", version="1")
            hub.list(limit=1).__next__()
            auth = hub.adapter.transport.auth
            assert auth.fetched == 1  # type: ignore[union-attr]
        sim.simulator.token_ttl = 30  # shorter than the refresh margin: every call refreshes
        with sim.connect(token=None, **options) as hub:
            list(hub.list(limit=1))
            list(hub.list(limit=1))
            assert hub.adapter.transport.auth.fetched == 2  # type: ignore[union-attr]
        with sim.connect(token=None, **{**options, "client_secret": "wrong-secret-value"}) as bad:
            with pytest.raises(AuthError, match="invalid_client") as info:
                bad.get("x")
            assert "wrong-secret-value" not in str(info.value)


def test_parse_the_documented_example() -> None:
    from taskhub.adapters.cognite import parse_execution

    example = {
        "id": "6a1f0c3e-2b7d-4e58-9a41-3c5d7e9f1b20",
        "workflowExternalId": "video-pipeline",
        "version": "1",
        "status": "RUNNING",
        "createdTime": 1730204346000,
        "startTime": 1730204346120,
        "metadata": {"source": "scheduler"},
        "input": {"fileId": 123},
        "workflowDefinition": {"hash": "3A7D5C19E0B24F68", "tasks": []},
        "executedTasks": [
            {
                "id": "b3c4d5e6-f708-4a1b-9c2d-3e4f5a6b7c8d",
                "externalId": "prepare",
                "status": "COMPLETED",
                "taskType": "function",
                "input": {},
                "output": {"callId": 101},
                "startTime": 1730204346200,
                "endTime": 1730204351000,
            },
            {
                "id": "c4d5e6f7-0819-4b2c-8d3e-4f5a6b7c8d9e",
                "externalId": "external-step",
                "status": "IN_PROGRESS",
                "taskType": "function",
                "input": {"asyncComplete": True},
                "output": {},
                "startTime": 1730204351100,
            },
        ],
    }
    task = parse_execution(example, "cdf")
    assert (task.state, task.kind, len(task.subtasks)) == (State.RUNNING, "execution", 2)
    assert [s.state for s in task.subtasks] == [State.SUCCEEDED, State.RUNNING]
    assert task.subtasks[0].parent_id == task.id
    assert task.subtasks[0].params["external_id"] == "prepare"
    assert task.updated_at == task.subtasks[1].started_at
    for bad in (
        None,
        {"id": "x"},
        {**example, "createdTime": "soon"},
        {**example, "executedTasks": [1]},
    ):
        with pytest.raises(taskhub.MalformedResponse):
            parse_execution(bad, "cdf")


# -- the official SDK ---------------------------------------------------------------------------


def test_cognite_sdk_works_against_the_simulator(sim: Simulation, hub: TaskHub) -> None:
    from cognite.client import ClientConfig, CogniteClient, global_config
    from cognite.client.credentials import Token

    global_config.disable_pypi_version_check = True
    client = CogniteClient(
        ClientConfig(
            client_name="conformance",
            project=sim.simulator.project,  # type: ignore[attr-defined]
            credentials=Token(sim.simulator.token),
            base_url=sim.url,  # type: ignore[attr-defined]
        )
    )
    run = client.workflows.executions.run("taskhub-demo", "1", input={"fileId": 1})
    assert run.status == "running"
    sim.clock.advance(3)
    detailed = client.workflows.executions.retrieve_detailed(run.id)
    assert detailed is not None
    assert [t.status for t in detailed.executed_tasks] == ["completed", "in_progress"]
    step = detailed.executed_tasks[1]
    updated = client.workflows.tasks.update(step.id, "completed", {"result": 1})
    assert updated.status == "completed"
    assert hub.get(run.id).state is State.SUCCEEDED  # the SDK's gzip bodies were understood
    listed = client.workflows.executions.list(workflow_version_ids=("taskhub-demo", "1"))
    assert [e.id for e in listed] == [run.id]
    second = client.workflows.executions.run("taskhub-demo", "1")
    cancelled = client.workflows.executions.cancel(second.id, reason="conformance")
    assert cancelled.status == "terminated"
    assert client.workflows.executions.retrieve_detailed("not-a-uuid") is None
