"""Cognite: adapter and simulator over loopback, the worker role, OAuth, and cognite-sdk."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

import taskhub
from taskhub import (
    AuthError,
    Conflict,
    InvalidRequest,
    InvalidTransition,
    OutcomeUnknown,
    State,
    TaskNotFound,
)
from taskhub.adapters.cognite.hub import CogniteHub
from taskhub.adapters.cognite.simulator import CogniteSimulator
from taskhub.testing import Simulation, simulate
from taskhub.testing.contract import AdapterContract

#: The cognite simulation, typed: its simulator and hub have the vendor's own helpers.
Sim = Simulation[CogniteSimulator, CogniteHub]


class TestCogniteContract(AdapterContract):
    vendor = "cognite"

    def submit_spec(self, sim: Simulation) -> dict[str, Any]:
        return {"workflow": "taskhub-auto", "version": "1", "input": {"fileId": 123}}


@pytest.fixture
def sim() -> Iterator[Sim]:
    with simulate("cognite") as running:
        yield running


@pytest.fixture
def hub(sim: Sim) -> Iterator[CogniteHub]:
    with sim.connect(max_retry_time=5) as connected:
        yield connected


def workflow(sim: Sim, name: str, tasks: list[dict[str, Any]], version: str = "1") -> None:
    sim.simulator.upsert_version(name, version, tasks)


def fn(xid: str, function: str, **extra: Any) -> dict[str, Any]:
    return {
        "externalId": xid,
        "type": "function",
        "parameters": {"function": {"externalId": function}},
        **extra,
    }


def words(task: taskhub.Task) -> dict[str, State]:
    return {t.status.raw or "": t.state for t in task.subtasks}


def test_every_status_word_goes_through_simulator_and_adapter(sim: Sim, hub: CogniteHub) -> None:
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
    sim.simulator.skip(run.id, "never")
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
    step = sim.simulator.async_task(demo.id)
    assert step is not None
    assert step is not None
    hub.report(step, State.FAILED, retryable=False)
    note(hub.get(demo.id))  # FAILED_WITH_TERMINAL_ERROR
    stopped = hub.submit(workflow="taskhub-demo", version="1")
    sim.clock.advance(1)
    hub.cancel(stopped.id)
    note(hub.get(stopped.id))  # TERMINATED, CANCELED
    sim.simulator.canceled_spelling = "CANCELLED"
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


def test_the_async_task_is_completed_by_report(sim: Sim, hub: CogniteHub) -> None:
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


def test_a_retryable_failure_report_runs_the_task_again(sim: Sim, hub: CogniteHub) -> None:
    run = hub.submit(workflow="taskhub-demo", version="1")
    sim.clock.advance(3)
    step = sim.simulator.async_task(run.id)
    assert step is not None
    again = hub.report(step, State.FAILED, output={"error": "transient"})
    assert again.state is State.RUNNING  # retried per its retries setting
    assert again.id == step


def test_report_refusals_happen_before_sending(sim: Sim, hub: CogniteHub) -> None:
    run = hub.submit(workflow="taskhub-demo", version="1")
    sim.clock.advance(3)
    step = sim.simulator.async_task(run.id)
    assert step is not None
    sent = len(sim.requests)
    with pytest.raises(InvalidRequest, match="102400") as big:
        hub.report(step, State.SUCCEEDED, output={"blob": "x" * 110_000})
    assert big.value.field == "output"
    with pytest.raises(InvalidTransition, match="it takes: succeeded, failed"):
        hub.report(step, State.RUNNING)
    with pytest.raises(InvalidRequest, match="must be a JSON object"):
        hub.report(step, State.SUCCEEDED, output=["not", "a", "dict"])
    assert len(sim.requests) == sent


def test_an_update_for_a_task_that_is_not_async_is_refused(sim: Sim, hub: CogniteHub) -> None:
    run = hub.submit(workflow="taskhub-auto", version="1")
    sim.clock.advance(1)
    task = hub.get(run.id).subtasks[0]
    hub.tracker.forget(task.ref)
    # CDF's own refusal of the change (a 400) is InvalidTransition, as the hub's is.
    with pytest.raises(
        InvalidTransition, match="task whose definition sets isAsyncComplete"
    ) as info:
        hub.report(task.id, State.SUCCEEDED)
    assert info.value.http_status == 400
    assert info.value.request_id and info.value.request_id.startswith("sim-")


def test_cancel_and_retry(sim: Sim, hub: CogniteHub) -> None:
    run = hub.submit(workflow="taskhub-demo", version="1")
    sim.clock.advance(3)
    with pytest.raises(InvalidRequest, match="at most 500"):
        hub.cancel(run.id, reason="x" * 501)
    stopped = hub.cancel(run.id, reason="no longer needed")
    assert (stopped.state, stopped.status.message) == (State.CANCELLED, "no longer needed")
    before = len(sim.requests)
    with pytest.raises(InvalidTransition, match="already cancelled"):
        hub.cancel(run.id)  # the hub knows it finished: refused before any request
    assert len(sim.requests) == before
    with pytest.raises(Conflict):
        hub.cancel(run.id, force=True)  # sent: the vendor's own refusal
    again = hub.retry(run.id)
    assert again.state is State.RUNNING
    assert (
        hub.tracker.state(run.ref) is State.RUNNING
    )  # the commanded retry left the terminal state
    sim.clock.advance(3)
    step = sim.simulator.async_task(run.id)
    assert step is not None
    assert step is not None
    with pytest.raises(Conflict, match="only FAILED"):
        hub.retry(run.id)


def test_list_filters_and_cursor_paging(sim: Sim) -> None:
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


def test_percent_encoded_ids_and_bad_input(sim: Sim, hub: CogniteHub) -> None:
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


def test_an_unknown_execution_is_task_not_found(hub: CogniteHub) -> None:
    with pytest.raises(TaskNotFound) as info:
        hub.get("6a1f0c3e-2b7d-4e58-9a41-3c5d7e9f1b20")
    assert info.value.http_status == 400  # CDF's answer for an id it does not know


def test_a_lost_run_answer_is_found_again_not_duplicated(sim: Sim) -> None:
    with sim.connect(timeout=0.3) as hub:
        sim.inject("delay", seconds=1.0, path="/run$")
        with pytest.raises(OutcomeUnknown) as info:
            hub.submit(workflow="taskhub-auto", version="1")
        assert len(sim.simulator.executions) == 1
        found = hub.adapter.find_submitted(info.value.lookup)
        assert found is not None
        assert found.id == next(iter(sim.simulator.executions))


def test_a_full_metadata_map_is_refused_before_sending(sim: Sim, hub: CogniteHub) -> None:
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
    sim: Sim, first: dict[str, str], second: dict[str, str]
) -> None:
    with sim.connect(timeout=0.3) as hub:
        hub.submit(workflow="taskhub-auto", version="1", metadata=first)  # an identical run
        sim.inject("delay", seconds=1.0, path="/run$")
        with pytest.raises(OutcomeUnknown) as info:
            hub.submit(workflow="taskhub-auto", version="1", metadata=second)
        held = sim.simulator.executions
        assert len(held) == 2
        assert all(len(e.metadata or {}) == 10 for e in held.values())
        found = hub.adapter.find_submitted(info.value.lookup)
        assert found is not None
        assert found.id == list(held)[-1]


def test_a_retry_that_timed_out_is_not_sent_again(sim: Sim) -> None:
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
        assert hub.adapter.find_submitted(info.value.lookup) is None
        assert hub.get(run.id).state is State.RUNNING  # the server did act


def test_a_report_that_timed_out_is_not_sent_again(sim: Sim) -> None:
    with sim.connect(timeout=0.3) as hub:
        run = hub.submit(workflow="taskhub-demo", version="1")
        sim.clock.advance(3)
        step = sim.simulator.async_task(run.id)
        assert step is not None
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
        options = sim.simulator.oauth_options(sim.url)
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


# -- the simulator's wire behaviour (issue 12) ----------------------------------------------------


def call(sim: Sim, method: str, path: str, body: Any = None, **params: str) -> Any:
    """One raw request to the simulator's project API; returns the response."""
    simulator: Any = sim.simulator
    return requests.request(
        method,
        f"{sim.url}/api/v1/projects/{simulator.project}{path}",
        json=body,
        params=params,
        headers={"Authorization": f"Bearer {simulator.token}"},
        timeout=10,
    )


def raw_task(xid: str, **extra: Any) -> dict[str, Any]:
    return {
        "externalId": xid,
        "type": "function",
        "parameters": {"function": {"externalId": "fn"}},
        **extra,
    }


def version_body(*tasks: dict[str, Any], version: Any = "1") -> dict[str, Any]:
    return {
        "items": [
            {
                "workflowExternalId": "wf",
                "version": version,
                "workflowDefinition": {"tasks": list(tasks)},
            }
        ]
    }


NONCE = {"authentication": {"nonce": "n"}}
SOME_ID = "6a1f0c3e-2b7d-4e58-9a41-3c5d7e9f1b20"
RUN = "/workflows/taskhub-auto/versions/1/run"

BAD_BODIES: list[tuple[str, str, Any, dict[str, str], str]] = [
    # workflow upsert
    ("POST", "/workflows", [], {}, "request body must be an object"),
    ("POST", "/workflows", {"items": []}, {}, "exactly one item"),
    ("POST", "/workflows", {"items": [{"externalId": " x"}]}, {}, "whitespace"),
    ("POST", "/workflows", {"items": [{"externalId": "x" * 256}]}, {}, "at most 255"),
    ("POST", "/workflows", {"items": [{"externalId": "x", "dataSetId": "7"}]}, {}, "integer"),
    (
        "POST",
        "/workflows",
        {"items": [{"externalId": "x", "maxConcurrentExecutions": 0}]},
        {},
        "at least 1",
    ),
    # version upsert
    ("POST", "/workflows/versions", version_body(raw_task("a"), version=1), {}, "not a number"),
    (
        "POST",
        "/workflows/versions",
        {"items": [{"workflowExternalId": "wf", "version": "1"}]},
        {},
        "workflowDefinition must be an object",
    ),
    ("POST", "/workflows/versions", version_body(raw_task("a", type="shell")), {}, "type must"),
    ("POST", "/workflows/versions", version_body(raw_task("a", retries=None)), {}, "not be null"),
    ("POST", "/workflows/versions", version_body(raw_task("a", retries=11)), {}, "between 0"),
    ("POST", "/workflows/versions", version_body(raw_task("a", timeout=0)), {}, "at least 1"),
    (
        "POST",
        "/workflows/versions",
        version_body(raw_task("a", onFailure="ignore")),
        {},
        "abortWorkflow or skipTask",
    ),
    ("POST", "/workflows/versions", version_body(raw_task("workflow")), {}, "'workflow'"),
    ("POST", "/workflows/versions", version_body(raw_task("__a")), {}, "start with '__'"),
    ("POST", "/workflows/versions", version_body(raw_task("a"), raw_task("a")), {}, "Duplicate"),
    (
        "POST",
        "/workflows/versions",
        version_body(raw_task("a", dependsOn=[{"externalId": "b"}])),
        {},
        "which is not in",
    ),
    (
        "POST",
        "/workflows/versions",
        version_body(
            raw_task("a", dependsOn=[{"externalId": "b"}]),
            raw_task("b", dependsOn=[{"externalId": "a"}]),
        ),
        {},
        "cycle",
    ),
    (
        "POST",
        "/workflows/versions",
        version_body(raw_task("a", parameters={"function": {}})),
        {},
        "function.externalId",
    ),
    (
        "POST",
        "/workflows/versions",
        version_body(raw_task("a", type="dynamic", parameters={"dynamic": {"tasks": []}})),
        {},
        "must be a reference",
    ),
    (
        "POST",
        "/workflows/versions",
        version_body(
            raw_task(
                "a",
                type="subworkflow",
                parameters={
                    "subworkflow": {
                        "tasks": [
                            raw_task(
                                "b",
                                type="dynamic",
                                parameters={"dynamic": {"tasks": "${x.output}"}},
                            )
                        ]
                    }
                },
            )
        ),
        {},
        "cannot contain dynamic",
    ),
    (
        "POST",
        "/workflows/versions",
        version_body(
            raw_task(
                "a",
                type="cdf",
                parameters={"cdfRequest": {"resourcePath": "/assets", "method": "PATCH"}},
            )
        ),
        {},
        "GET, POST, PUT or DELETE",
    ),
    (
        "POST",
        "/workflows/versions",
        version_body(
            raw_task(
                "a",
                type="transformation",
                parameters={"transformation": {"externalId": "t", "concurrencyPolicy": "queue"}},
            )
        ),
        {},
        "concurrencyPolicy",
    ),
    (
        "POST",
        "/workflows/versions",
        version_body(*[raw_task(f"t{n}") for n in range(201)]),
        {},
        "at most 200 tasks",
    ),
    # run
    ("POST", RUN, {}, {}, "authentication.nonce is required"),
    ("POST", RUN, {**NONCE, "input": [1]}, {}, "input must be an object"),
    ("POST", RUN, {**NONCE, "input": {"b": "x" * 103_000}}, {}, "at most 100 KB"),
    ("POST", RUN, {**NONCE, "metadata": {f"k{n}": "v" for n in range(11)}}, {}, "10 pairs"),
    ("POST", RUN, {**NONCE, "metadata": {"k" * 33: "v"}}, {}, "1 to 32"),
    ("POST", RUN, {**NONCE, "metadata": {"k": 1}}, {}, "must be strings"),
    # list filters
    ("POST", "/workflows/executions/list", {"limit": 0}, {}, "between 1 and 1000"),
    ("POST", "/workflows/executions/list", {"limit": 1001}, {}, "between 1 and 1000"),
    ("POST", "/workflows/executions/list", {"filter": {"status": ["DONE"]}}, {}, "filter.status"),
    (
        "POST",
        "/workflows/executions/list",
        {"filter": {"createdTimeStart": "x"}},
        {},
        "createdTimeStart must be an integer",
    ),
    (
        "POST",
        "/workflows/executions/list",
        {"filter": {"workflowFilters": [{"version": "1"}]}},
        {},
        "externalId must be a non-empty string",
    ),
    ("POST", "/workflows/executions/list", {"cursor": 5}, {}, "cursor must be a string"),
    ("POST", "/workflows/versions/list", {"limit": "10"}, {}, "limit must be an integer"),
    (
        "POST",
        "/workflows/versions/list",
        {"filter": {"workflowFilters": "wf"}},
        {},
        "workflowFilters must be a list",
    ),
    ("GET", "/workflows", None, {"limit": "0"}, "between 1 and 1000"),
    # cancel, retry, task update
    ("POST", f"/workflows/executions/{SOME_ID}/cancel", {"reason": "x" * 501}, {}, "500"),
    ("POST", f"/workflows/executions/{SOME_ID}/cancel", {"reason": 5}, {}, "500"),
    ("POST", f"/workflows/executions/{SOME_ID}/retry", {}, {}, "authentication.nonce"),
    ("POST", f"/workflows/tasks/{SOME_ID}/update", {"status": "DONE"}, {}, "status must be"),
    (
        "POST",
        f"/workflows/tasks/{SOME_ID}/update",
        {"status": "COMPLETED", "output": [1]},
        {},
        "output must be an object",
    ),
    (
        "POST",
        f"/workflows/tasks/{SOME_ID}/update",
        {"status": "COMPLETED", "output": {"b": "x" * 103_000}},
        {},
        "100 KB",
    ),
    # delete
    ("POST", "/workflows/delete", {"items": []}, {}, "1 to 100"),
    ("POST", "/workflows/delete", {"items": [{"externalId": "x"}] * 101}, {}, "1 to 100"),
    ("POST", "/workflows/delete", {"items": [{"externalId": 5}]}, {}, "externalId"),
    (
        "POST",
        "/workflows/delete",
        {"items": [{"externalId": "x"}]},
        {"ignoreUnknownIds": "1"},
        "ignoreUnknownIds",
    ),
    ("POST", "/workflows/versions/delete", {"items": [{"workflowExternalId": "x"}]}, {}, "version"),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "params", "says"),
    BAD_BODIES,
    ids=[f"{m} {p} {says}" for m, p, _, _, says in BAD_BODIES],
)
def test_bodies_are_checked_as_the_api_does(
    sim: Sim, method: str, path: str, body: Any, params: dict[str, str], says: str
) -> None:
    answer = call(sim, method, path, body, **params)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == 400
    assert says in error["message"]
    assert answer.headers["x-request-id"].startswith("sim-")
    simulator: Any = sim.simulator
    assert simulator.executions == {}  # nothing was acted on
    assert set(simulator.workflows) == {"taskhub-auto", "taskhub-demo"}


def test_the_documented_bodies_are_taken(sim: Sim) -> None:
    tasks = [
        raw_task(
            "fn",
            parameters={
                "function": {"externalId": "f", "data": "${workflow.input}"},
                "isAsyncComplete": False,
            },
        ),
        raw_task(
            "tr",
            type="transformation",
            parameters={
                "transformation": {
                    "externalId": "t",
                    "concurrencyPolicy": "waitForCurrent",
                    "useTransformationCredentials": True,
                }
            },
            dependsOn=[{"externalId": "fn"}],
        ),
        raw_task(
            "req",
            type="cdf",
            parameters={
                "cdfRequest": {
                    "resourcePath": "/assets/list",
                    "method": "POST",
                    "queryParameters": {},
                    "body": {"limit": 1},
                    "requestTimeoutInMillis": 5000,
                    "cdfVersionHeader": "beta",
                }
            },
        ),
        raw_task(
            "dyn",
            type="dynamic",
            parameters={"dynamic": {"tasks": "${fn.output.response}"}},
            onFailure="skipTask",
            retries=0,
            timeout=60,
        ),
        raw_task(
            "sub", type="subworkflow", parameters={"subworkflow": {"tasks": [raw_task("in")]}}
        ),
        raw_task(
            "ref",
            type="subworkflow",
            parameters={"subworkflow": {"workflowExternalId": "taskhub-auto", "version": "1"}},
        ),
        raw_task(
            "sim",
            type="simulation",
            parameters={
                "simulation": {
                    "routineExternalId": "r",
                    "runTime": 1,
                    "inputs": [{"referenceId": "x", "value": 1}],
                }
            },
        ),
    ]
    upserted = call(sim, "POST", "/workflows/versions", version_body(*tasks))
    assert upserted.status_code == 200
    stored = upserted.json()["items"][0]["workflowDefinition"]["tasks"]
    assert [t["externalId"] for t in stored] == ["fn", "tr", "req", "dyn", "sub", "ref", "sim"]
    inner = stored[4]["parameters"]["subworkflow"]["tasks"][0]
    assert (inner["retries"], inner["timeout"], inner["onFailure"]) == (3, 3600, "abortWorkflow")
    workflow = call(
        sim,
        "POST",
        "/workflows",
        {
            "items": [
                {
                    "externalId": "wf",
                    "description": "",
                    "dataSetId": 1,
                    "maxConcurrentExecutions": 2,
                    "dataDomainExternalId": "domain",
                }
            ]
        },
    )
    assert workflow.status_code == 200
    assert workflow.json()["items"][0]["dataDomainExternalId"] == "domain"
    nonce = call(sim, "POST", "/sessions", {"items": [{"tokenExchange": True}]}).json()
    run = call(
        sim,
        "POST",
        "/workflows/wf/versions/1/run",
        {
            "authentication": {"nonce": nonce["items"][0]["nonce"]},
            "input": {"a": 1},
            "metadata": {"k" * 32: "v" * 255},
        },
    )
    assert run.status_code == 200
    execution = run.json()["id"]
    assert call(sim, "POST", f"/workflows/executions/{execution}/cancel").status_code == 200


def test_the_run_answer_and_the_detailed_execution_have_the_api_shape(
    sim: Sim, hub: CogniteHub
) -> None:
    run = hub.submit(workflow="taskhub-auto", version="1")
    answer = run.raw
    assert answer["status"] == "RUNNING"
    assert "startTime" not in answer  # created now, started a little later
    detailed = call(sim, "GET", f"/workflows/executions/{run.id}").json()
    assert "input" not in detailed  # no input given: omitted, not null
    assert [(t["externalId"], t["status"]) for t in detailed["executedTasks"]] == [
        ("process", "SCHEDULED")
    ]
    sim.clock.advance(3)
    detailed = call(sim, "GET", f"/workflows/executions/{run.id}").json()
    assert detailed["startTime"] == detailed["createdTime"] + 100
    (task,) = detailed["executedTasks"]
    assert task["startTime"] == detailed["createdTime"] + 500
    assert set(task) == {
        "id",
        "externalId",
        "status",
        "taskType",
        "input",
        "output",
        "startTime",
        "endTime",
    }
    assert task["input"]["function"]["externalId"] == "process-fn"
    assert task["input"]["asyncComplete"] is False


def test_a_scheduled_async_task_takes_an_update(sim: Sim, hub: CogniteHub) -> None:
    # The documented worker flow, through taskhub: no wait between run and report.
    workflow(
        sim,
        "async",
        [
            fn(
                "step",
                "step-fn",
                parameters={"function": {"externalId": "step-fn"}, "isAsyncComplete": True},
            )
        ],
    )
    run = hub.submit(workflow="async", version="1")
    (step,) = hub.get(run.id).subtasks
    assert (step.state, step.status.raw) == (State.QUEUED, "SCHEDULED")
    done = hub.report(step.id, State.SUCCEEDED, output={"ok": True})
    assert done.state is State.SUCCEEDED
    assert done.output["response"] == {"cogniteOrchestrationTaskId": step.id}
    assert done.output["ok"] is True
    finished = hub.get(run.id)
    assert finished.state is State.SUCCEEDED
    assert finished.started_at == finished.created_at  # it started when the update came


def test_task_types_answer_their_documented_outputs(sim: Sim, hub: CogniteHub) -> None:
    workflow(
        sim,
        "typed",
        [
            raw_task(
                "tr",
                type="transformation",
                parameters={"transformation": {"externalId": "tr-fail"}},
                retries=0,
                onFailure="skipTask",
            ),
            raw_task(
                "req",
                type="cdf",
                parameters={"cdfRequest": {"resourcePath": "/fail/here", "method": "GET"}},
                retries=0,
                onFailure="skipTask",
            ),
            raw_task(
                "sim",
                type="simulation",
                parameters={"simulation": {"routineExternalId": "routine"}},
            ),
            raw_task(
                "dyn",
                type="dynamic",
                parameters={"dynamic": {"tasks": "${workflow.input}"}},
                onFailure="skipTask",
            ),
        ],
    )
    run = hub.submit(workflow="typed", version="1", input={"not": "a list"})
    sim.clock.advance(1)
    running = {t.params["external_id"]: t for t in hub.get(run.id).subtasks}
    assert set(running["tr"].output) == {"jobId"}
    assert set(running["sim"].output) == {"runId", "logId"}
    assert running["req"].output == {}
    sim.clock.advance(5)
    done = {t.params["external_id"]: t for t in hub.get(run.id).subtasks}
    assert done["req"].output == {
        "response": {"error": {"code": 400, "message": "simulated failure"}},
        "statusCode": 400,
    }
    assert done["req"].status.raw == "COMPLETED_WITH_ERRORS"
    assert done["tr"].status.raw == "COMPLETED_WITH_ERRORS"
    assert done["sim"].output["statusMessage"] == "Simulation ran to completion"
    assert (done["dyn"].status.raw, done["dyn"].status.message) == (
        "COMPLETED_WITH_ERRORS",
        "dynamic.tasks did not resolve to a list of task definitions",
    )
    assert hub.get(run.id).state is State.SUCCEEDED


def test_children_carry_their_parent(sim: Sim, hub: CogniteHub) -> None:
    workflow(
        sim,
        "nested",
        [
            raw_task(
                "fan", type="dynamic", parameters={"dynamic": {"tasks": "${workflow.input.t}"}}
            ),
            raw_task("after", dependsOn=[{"externalId": "fan"}]),
        ],
    )
    run = hub.submit(workflow="nested", version="1", input={"t": [raw_task("c1"), raw_task("c2")]})
    sim.clock.advance(2)
    tasks = {t.params["external_id"]: t for t in hub.get(run.id).subtasks}
    assert tasks["fan"].status.raw == "COMPLETED"
    assert (tasks["c1"].params["parent_task"], tasks["c2"].params["parent_task"]) == ("fan", "fan")
    assert "after" not in tasks  # waits until the children finished
    hub.cancel(run.id)
    tasks = {t.params["external_id"]: t for t in hub.get(run.id).subtasks}
    assert tasks["c1"].status.raw == "CANCELED"
    hub.retry(run.id)  # only the stopped children run again
    sim.clock.advance(10)
    final = hub.get(run.id)
    assert final.state is State.SUCCEEDED
    assert [t.params["external_id"] for t in final.subtasks] == ["fan", "c1", "c2", "after"]


def test_listings_page_with_a_cursor(sim: Sim) -> None:
    for n in range(3):
        call(sim, "POST", "/workflows", {"items": [{"externalId": f"w{n}"}]})
    first = call(sim, "GET", "/workflows", limit="2").json()
    assert [w["externalId"] for w in first["items"]] == ["taskhub-auto", "taskhub-demo"]
    rest = call(sim, "GET", "/workflows", limit="2", cursor=first["nextCursor"]).json()
    assert [w["externalId"] for w in rest["items"]] == ["w0", "w1"]
    last = call(sim, "GET", "/workflows", limit="2", cursor=rest["nextCursor"]).json()
    assert ([w["externalId"] for w in last["items"]], "nextCursor" in last) == (["w2"], False)
    versions = call(sim, "POST", "/workflows/versions/list", {"limit": 1}).json()
    assert len(versions["items"]) == 1
    more = call(
        sim, "POST", "/workflows/versions/list", {"limit": 1, "cursor": versions["nextCursor"]}
    ).json()
    assert more["items"][0]["workflowExternalId"] == "taskhub-demo"
    assert "nextCursor" not in more
    refused = call(sim, "POST", "/workflows/versions/list", {"cursor": "junk!"})
    assert refused.status_code == 400


# -- the official SDK ---------------------------------------------------------------------------


def test_cognite_sdk_works_against_the_simulator(sim: Sim, hub: CogniteHub) -> None:
    from cognite.client import ClientConfig, CogniteClient, global_config
    from cognite.client.credentials import Token

    global_config.disable_pypi_version_check = True
    client = CogniteClient(
        ClientConfig(
            client_name="conformance",
            project=sim.simulator.project,
            credentials=Token(sim.simulator.token),
            base_url=sim.url,
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


def test_a_stateless_worker_cannot_move_a_finished_task(sim: Sim, hub: CogniteHub) -> None:
    run = hub.submit(workflow="taskhub-demo", version="1")
    sim.clock.advance(3)
    step = sim.simulator.async_task(run.id)
    assert step is not None
    hub.report(step, State.SUCCEEDED, output={"result": 1})
    # A new process: its Tracker knows nothing of the task.
    with sim.connect() as fresh, pytest.raises(InvalidTransition) as info:
        fresh.report(step, State.FAILED, retryable=False)
    assert info.value.http_status in (400, 409)
    after = {t.id: t.state for t in hub.get(run.id).subtasks}
    assert after[step] is State.SUCCEEDED
