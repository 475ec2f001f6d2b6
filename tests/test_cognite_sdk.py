"""The official cognite-sdk, unchanged, against the Cognite simulator: one test per SDK call.

Every SDK call that touches workflows, versions, executions, tasks and triggers is exercised
here and its parsed objects are asserted. The expectations come from the SDK's data classes
(``cognite/client/data_classes/workflows.py``) and its integration tests against the live API
(``tests/tests_integration/test_api/test_workflows.py``); see docs/vendors/cognite.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

pytest.importorskip("cognite.client")

from cognite.client import ClientConfig, CogniteClient, global_config
from cognite.client.credentials import Token
from cognite.client.data_classes import ClientCredentials
from cognite.client.data_classes.data_modeling import ViewId
from cognite.client.data_classes.data_modeling.query import (
    NodeResultSetExpression,
    Select,
    SourceSelector,
)
from cognite.client.data_classes.workflows import (
    CDFTaskOutput,
    CDFTaskParameters,
    DynamicTaskOutput,
    DynamicTaskParameters,
    FunctionTaskOutput,
    FunctionTaskParameters,
    SimulationTaskOutput,
    SimulationTaskParameters,
    SubworkflowReferenceParameters,
    SubworkflowTaskOutput,
    SubworkflowTaskParameters,
    TransformationTaskOutput,
    TransformationTaskParameters,
    Workflow,
    WorkflowDataModelingTriggerRule,
    WorkflowDefinition,
    WorkflowDefinitionUpsert,
    WorkflowExecution,
    WorkflowExecutionDetailed,
    WorkflowList,
    WorkflowScheduledTriggerRule,
    WorkflowTask,
    WorkflowTaskExecution,
    WorkflowTrigger,
    WorkflowTriggerDataModelingQuery,
    WorkflowTriggerList,
    WorkflowTriggerRun,
    WorkflowTriggerRunList,
    WorkflowTriggerUpsert,
    WorkflowUpsert,
    WorkflowVersion,
    WorkflowVersionId,
    WorkflowVersionList,
    WorkflowVersionUpsert,
)
from cognite.client.exceptions import CogniteAPIError, CogniteNotFoundError

from taskhub.testing import SimClock, Simulation, simulate


@pytest.fixture
def sim() -> Iterator[Simulation]:
    with simulate("cognite") as running:
        yield running


@pytest.fixture
def client(sim: Simulation) -> CogniteClient:
    return sdk_client(sim)


def sdk_client(sim: Simulation) -> CogniteClient:
    global_config.disable_pypi_version_check = True  # offline: no PyPI look-up thread
    return CogniteClient(
        ClientConfig(
            client_name="conformance",
            project=sim.simulator.project,  # type: ignore[attr-defined]
            credentials=Token(sim.simulator.token),  # type: ignore[attr-defined]
            base_url=sim.url,
        )
    )


def function_task(xid: str, function: str, **extra: Any) -> WorkflowTask:
    is_async = extra.pop("is_async_complete", None)
    return WorkflowTask(
        external_id=xid,
        parameters=FunctionTaskParameters(function, is_async_complete=is_async),
        **extra,
    )


def upsert(
    client: CogniteClient, workflow: str, tasks: list[WorkflowTask], version: str = "1"
) -> WorkflowVersion:
    return client.workflows.versions.upsert(
        WorkflowVersionUpsert(workflow, version, WorkflowDefinitionUpsert(tasks=tasks))
    )


def by_xid(detailed: WorkflowExecutionDetailed) -> dict[str, WorkflowTaskExecution]:
    return {t.external_id: t for t in detailed.executed_tasks}


# -- workflows ----------------------------------------------------------------------------------


def test_workflows_upsert(client: CogniteClient, sim: Simulation) -> None:
    created = client.workflows.upsert(
        WorkflowUpsert("wf", description="d", data_set_id=7, max_concurrent_executions=3)
    )
    assert isinstance(created, Workflow)
    assert (created.external_id, created.description, created.data_set_id) == ("wf", "d", 7)
    assert created.max_concurrent_executions == 3
    assert created.created_time == created.last_updated_time == sim.clock.now_ms()
    sim.clock.advance(5)
    replaced = client.workflows.upsert(WorkflowUpsert("wf"))  # replace mode: unset fields go
    assert (replaced.description, replaced.data_set_id) == (None, None)
    assert replaced.created_time == created.created_time
    assert replaced.last_updated_time == created.created_time + 5000
    both = client.workflows.upsert([WorkflowUpsert("a"), WorkflowUpsert("b")])  # one per request
    assert isinstance(both, WorkflowList)
    assert sorted(w.external_id for w in both) == ["a", "b"]


def test_workflows_retrieve(client: CogniteClient, sim: Simulation) -> None:
    client.workflows.upsert(WorkflowUpsert("wf 1/x", description="slash and space"))
    found = client.workflows.retrieve("wf 1/x")
    assert isinstance(found, Workflow)
    assert found.description == "slash and space"
    assert client.workflows.retrieve("nope") is None  # the SDK turns the 404 into None
    raw = [r.raw_path for r in sim.simulator.log.find("GET", "/workflows/")]
    assert raw[0].endswith("/workflows/wf%201%2Fx")
    # (Retrieving a list of ids is left out: SDK 8.22 puts each one-id chunk, a Python list,
    # into the path, "/workflows/%5B%27wf%27%5D", so it cannot work against any server.)


def test_workflows_list(client: CogniteClient) -> None:
    for name in ("x1", "x2", "x3"):
        client.workflows.upsert(WorkflowUpsert(name))
    everything = client.workflows.list(limit=-1)
    assert isinstance(everything, WorkflowList)
    assert [w.external_id for w in everything] == [
        "taskhub-auto",
        "taskhub-demo",
        "x1",
        "x2",
        "x3",
    ]
    assert len(client.workflows.list(limit=2)) == 2
    chunks = list(client.workflows(chunk_size=2))
    assert [len(c) for c in chunks] == [2, 2, 1]


def test_workflows_delete(client: CogniteClient, sim: Simulation) -> None:
    upsert(client, "wf", [function_task("t", "ok-fn")])
    with pytest.raises(CogniteAPIError, match="workflows were not found") as missing:
        client.workflows.delete(["wf", "nope"])
    assert isinstance(missing.value, CogniteNotFoundError)
    assert missing.value.not_found == [{"externalId": "nope"}]
    assert client.workflows.retrieve("wf") is not None  # nothing deleted
    run = client.workflows.executions.run("wf", "1")
    with pytest.raises(CogniteAPIError, match="running executions"):
        client.workflows.delete("wf")
    client.workflows.executions.cancel(run.id, reason="teardown")
    client.workflows.delete(["wf", "nope"], ignore_unknown_ids=True)
    assert client.workflows.retrieve("wf") is None
    assert client.workflows.versions.retrieve(("wf", "1")) is None  # its versions went too
    raw = sim.simulator.log.find("POST", "/workflows/delete")
    assert raw[-1].query == "ignoreUnknownIds=true"


# -- versions ----------------------------------------------------------------------------------


def test_versions_upsert(client: CogniteClient, sim: Simulation) -> None:
    version = client.workflows.versions.upsert(
        WorkflowVersionUpsert(
            "new-wf",
            "1",
            WorkflowDefinitionUpsert(
                tasks=[
                    function_task("first", "ok-fn"),
                    function_task("second", "ok-fn", depends_on=["first"], retries=0),
                ],
                description="two steps",
            ),
        )
    )
    assert isinstance(version, WorkflowVersion)
    assert (version.workflow_external_id, version.version) == ("new-wf", "1")
    definition = version.workflow_definition
    assert isinstance(definition, WorkflowDefinition)
    assert isinstance(definition.hash_, str) and definition.hash_
    assert definition.description == "two steps"
    first, second = definition.tasks
    assert (first.retries, first.timeout, first.on_failure) == (3, 3600, "abortWorkflow")
    assert (second.retries, second.depends_on) == (0, ["first"])
    assert isinstance(second.parameters, FunctionTaskParameters)
    assert client.workflows.retrieve("new-wf") is not None  # the workflow was created with it
    sim.clock.advance(1)
    again = upsert(client, "new-wf", [function_task("only", "ok-fn")])
    assert again.created_time == version.created_time
    assert again.last_updated_time == version.created_time + 1000
    assert again.workflow_definition.hash_ != definition.hash_


def test_versions_retrieve(client: CogniteClient, sim: Simulation) -> None:
    upsert(client, "wf", [function_task("t", "ok-fn")], version="v 1")
    found = client.workflows.versions.retrieve(("wf", "v 1"))
    assert isinstance(found, WorkflowVersion)
    assert found.version == "v 1"
    assert client.workflows.versions.retrieve(WorkflowVersionId("wf", "v 1")) == found
    assert client.workflows.versions.retrieve(("wf", "nope")) is None
    raw = [r.raw_path for r in sim.simulator.log.find("GET", "/versions/")]
    assert raw[0].endswith("/workflows/wf/versions/v%201")
    # (A list of ids is left out, as for workflows.retrieve: the SDK's chunks break the path.)


def test_versions_list(client: CogniteClient) -> None:
    for number in ("1", "2"):
        upsert(client, "wf", [function_task("t", "ok-fn")], version=number)
    upsert(client, "other", [function_task("t", "ok-fn")])
    by_name = client.workflows.versions.list("wf")
    assert isinstance(by_name, WorkflowVersionList)
    assert [v.as_id().as_tuple() for v in by_name] == [("wf", "1"), ("wf", "2")]
    by_id = client.workflows.versions.list(WorkflowVersionId("wf"))
    assert [v.version for v in by_id] == ["1", "2"]
    by_tuples = client.workflows.versions.list([("wf", "2"), ("other", "1")])
    assert [v.as_id().as_tuple() for v in by_tuples] == [("wf", "2"), ("other", "1")]
    assert len(client.workflows.versions.list(limit=-1)) == 5  # with the two built-in ones
    assert len(client.workflows.versions.list(limit=1)) == 1


def test_versions_delete(client: CogniteClient) -> None:
    for number in ("1", "2"):
        upsert(client, "wf", [function_task("t", "ok-fn")], version=number)
    client.workflows.versions.delete(("wf", "1"))
    assert client.workflows.versions.retrieve(("wf", "1")) is None
    with pytest.raises(CogniteNotFoundError, match="not found") as missing:
        client.workflows.versions.delete([("wf", "2"), ("wf", "nope")])
    assert missing.value.not_found == [{"workflowExternalId": "wf", "version": "nope"}]
    assert client.workflows.versions.retrieve(("wf", "2")) is not None
    client.workflows.versions.delete([("wf", "2"), ("wf", "nope")], ignore_unknown_ids=True)
    assert client.workflows.versions.list("wf") == WorkflowVersionList([])


# -- executions --------------------------------------------------------------------------------


def test_executions_run(client: CogniteClient, sim: Simulation) -> None:
    run = client.workflows.executions.run(
        "taskhub-demo", "1", input={"fileId": 1}, metadata={"source": "sdk"}
    )
    assert isinstance(run, WorkflowExecution)
    assert (run.workflow_external_id, run.version, run.status) == ("taskhub-demo", "1", "running")
    assert run.created_time == sim.clock.now_ms()
    assert run.start_time is None  # it starts a little after it was created
    assert run.metadata == {"source": "sdk"}
    session = client.iam.sessions.create()
    with_nonce = client.workflows.executions.run("taskhub-auto", "1", nonce=session.nonce)
    assert with_nonce.status == "running"
    with pytest.raises(CogniteAPIError, match="Failed to bind nonce"):
        client.workflows.executions.run("taskhub-auto", "1", nonce=session.nonce)
    simulator: Any = sim.simulator
    other = client.workflows.executions.run(
        "taskhub-auto",
        "1",
        client_credentials=ClientCredentials(simulator.client_id, simulator.client_secret),
    )
    assert other.status == "running"
    with pytest.raises(CogniteNotFoundError):
        client.workflows.executions.run("nope", "1")


def test_executions_retrieve_detailed(client: CogniteClient, sim: Simulation) -> None:
    run = client.workflows.executions.run("taskhub-demo", "1", input={"fileId": 7})
    now = client.workflows.executions.retrieve_detailed(run.id)
    assert isinstance(now, WorkflowExecutionDetailed)
    assert now.input == {"fileId": 7}
    assert now.workflow_definition.hash_
    assert [(t.external_id, t.status, t.start_time) for t in now.executed_tasks] == [
        ("prepare", "scheduled", None)
    ]
    sim.clock.advance(3)
    later = client.workflows.executions.retrieve_detailed(run.id)
    assert later is not None
    assert later.start_time == run.created_time + 100
    prepare, step = later.executed_tasks
    assert (prepare.status, step.status) == ("completed", "in_progress")
    assert isinstance(prepare.input, FunctionTaskParameters)
    assert prepare.input.data == {"fileId": 7}  # ${workflow.input} resolved
    assert isinstance(step.input, FunctionTaskParameters) and step.input.is_async_complete
    assert isinstance(step.output, FunctionTaskOutput)
    assert step.output.response == {"cogniteOrchestrationTaskId": step.id}
    assert client.workflows.executions.retrieve_detailed("not-a-uuid") is None
    bare = client.workflows.executions.run("taskhub-auto", "1")
    detailed = client.workflows.executions.retrieve_detailed(bare.id)
    assert detailed is not None and detailed.input is None


def test_executions_list(client: CogniteClient, sim: Simulation) -> None:
    first = client.workflows.executions.run("taskhub-auto", "1")
    sim.clock.advance(10)
    second = client.workflows.executions.run("taskhub-auto", "1")
    demo = client.workflows.executions.run("taskhub-demo", "1")
    listed = client.workflows.executions.list(("taskhub-auto", "1"))
    assert [e.id for e in listed] == [second.id, first.id]
    assert all(isinstance(e, WorkflowExecution) for e in listed)
    by_name = client.workflows.executions.list(WorkflowVersionId("taskhub-demo"))
    assert [e.id for e in by_name] == [demo.id]
    done = client.workflows.executions.list(statuses=["completed"])
    assert [(e.id, e.status) for e in done] == [(first.id, "completed")]
    recent = client.workflows.executions.list(created_time_start=second.created_time)
    assert {e.id for e in recent} == {second.id, demo.id}
    early = client.workflows.executions.list(created_time_end=first.created_time)
    assert [e.id for e in early] == [first.id]
    assert len(client.workflows.executions.list(statuses="running", limit=1)) == 1


def test_executions_cancel(client: CogniteClient, sim: Simulation) -> None:
    run = client.workflows.executions.run("taskhub-demo", "1")
    cancelled = client.workflows.executions.cancel(run.id, reason="test")
    assert isinstance(cancelled, WorkflowExecution)
    assert (cancelled.status, cancelled.reason_for_incompletion) == ("terminated", "test")
    detailed = client.workflows.executions.retrieve_detailed(run.id)
    assert detailed is not None
    assert [t.status for t in detailed.executed_tasks] == ["canceled"]  # one L on the wire
    other = client.workflows.executions.run("taskhub-demo", "1")
    assert client.workflows.executions.cancel(other.id, None).reason_for_incompletion == (
        "cancelled"
    )
    with pytest.raises(CogniteAPIError) as again:
        client.workflows.executions.cancel(run.id, reason="twice")
    assert again.value.code == 409


def test_executions_retry(client: CogniteClient, sim: Simulation) -> None:
    run = client.workflows.executions.run("taskhub-demo", "1")
    client.workflows.executions.cancel(run.id, reason="test")
    retried = client.workflows.executions.retry(run.id)
    assert isinstance(retried, WorkflowExecution)
    assert (retried.status, retried.reason_for_incompletion) == ("running", None)
    sim.clock.advance(3)
    detailed = client.workflows.executions.retrieve_detailed(run.id)
    assert detailed is not None
    assert [t.status for t in detailed.executed_tasks] == ["completed", "in_progress"]
    with pytest.raises(CogniteAPIError, match="only FAILED"):
        client.workflows.executions.retry(run.id)


# -- tasks -------------------------------------------------------------------------------------


def test_tasks_update_the_documented_worker_flow(client: CogniteClient, sim: Simulation) -> None:
    # The SDK's docstring and integration test: run, retrieve_detailed, update, no wait.
    upsert(
        client,
        "async-wf",
        [function_task("multiply", "multiply-fn", is_async_complete=True, retries=2)],
    )
    run = client.workflows.executions.run("async-wf", "1")
    detailed = client.workflows.executions.retrieve_detailed(run.id)
    assert detailed is not None
    task = detailed.executed_tasks[0]
    assert str(task.status) == "scheduled"  # outside the SDK's Literal, but what CDF sends
    updated = client.workflows.tasks.update(task.id, "completed", {"result": 7})
    assert isinstance(updated, WorkflowTaskExecution)
    assert (updated.id, updated.status) == (task.id, "completed")
    assert isinstance(updated.output, FunctionTaskOutput)
    assert updated.output.response == {"cogniteOrchestrationTaskId": task.id}
    assert updated.start_time == updated.end_time == sim.clock.now_ms()
    finished = client.workflows.executions.retrieve_detailed(run.id)
    assert finished is not None and finished.status == "completed"
    with pytest.raises(CogniteAPIError, match="COMPLETED"):
        client.workflows.tasks.update(task.id, "failed")


def test_tasks_update_failures(client: CogniteClient, sim: Simulation) -> None:
    upsert(
        client,
        "async-wf",
        [function_task("step", "step-fn", is_async_complete=True, retries=1)],
    )
    run = client.workflows.executions.run("async-wf", "1")
    sim.clock.advance(1)
    detailed = client.workflows.executions.retrieve_detailed(run.id)
    assert detailed is not None
    step = detailed.executed_tasks[0]
    assert step.status == "in_progress"
    again = client.workflows.tasks.update(step.id, "failed", {"error": "transient"})
    assert again.status == "in_progress"  # retried per its retries setting
    final = client.workflows.tasks.update(step.id, "failed_with_terminal_error")
    assert (final.status, final.reason_for_incompletion) == (
        "failed_with_terminal_error",
        "set by task update",
    )
    failed = client.workflows.executions.retrieve_detailed(run.id)
    assert failed is not None and failed.status == "failed"


# -- task types --------------------------------------------------------------------------------


def test_task_outputs_by_type(client: CogniteClient, sim: Simulation) -> None:
    simulation = SimulationTaskParameters("routine-1", run_time=123)
    upsert(
        client,
        "typed",
        [
            WorkflowTask("call", CDFTaskParameters("/timeseries", "GET")),
            WorkflowTask("transform", TransformationTaskParameters("tr-1")),
            WorkflowTask("simulate", simulation),
        ],
    )
    run = client.workflows.executions.run("typed", "1")
    sim.clock.advance(1)
    running = client.workflows.executions.retrieve_detailed(run.id)
    assert running is not None
    tasks = by_xid(running)
    assert isinstance(tasks["transform"].output, TransformationTaskOutput)
    assert isinstance(tasks["transform"].output.job_id, int)  # known as soon as it runs
    assert isinstance(tasks["call"].input, CDFTaskParameters)
    assert tasks["call"].input.resource_path == "/timeseries"
    sim.clock.advance(3)
    done = client.workflows.executions.retrieve_detailed(run.id)
    assert done is not None and done.status == "completed"
    tasks = by_xid(done)
    call = tasks["call"].output
    assert isinstance(call, CDFTaskOutput)
    assert (call.status_code, call.response) == (200, {"items": []})
    assert isinstance(tasks["simulate"].input, SimulationTaskParameters)
    assert tasks["simulate"].input.routine_external_id == "routine-1"
    simulated = tasks["simulate"].output
    assert isinstance(simulated, SimulationTaskOutput)
    assert isinstance(simulated.run_id, int) and isinstance(simulated.log_id, int)
    assert simulated.status_message == "Simulation ran to completion"


def test_dynamic_and_subworkflow_tasks_spawn_children(
    client: CogniteClient, sim: Simulation
) -> None:
    upsert(client, "referenced", [function_task("ref-step", "ok-fn")])
    upsert(
        client,
        "nested",
        [
            WorkflowTask("fan-out", DynamicTaskParameters("${workflow.input.tasks}")),
            WorkflowTask(
                "stage",
                SubworkflowTaskParameters([function_task("inner", "ok-fn")]),
                depends_on=["fan-out"],
            ),
            WorkflowTask(
                "embedded",
                SubworkflowReferenceParameters("referenced", "1"),
                depends_on=["stage"],
            ),
        ],
    )
    generated = [
        {
            "externalId": "gen-1",
            "type": "function",
            "parameters": {"function": {"externalId": "a"}},
        },
        {
            "externalId": "gen-2",
            "type": "function",
            "parameters": {"function": {"externalId": "b", "data": "${gen-1.output.callId}"}},
            "dependsOn": [{"externalId": "gen-1"}],
        },
    ]
    run = client.workflows.executions.run("nested", "1", input={"tasks": generated})
    sim.clock.advance(60)
    done = client.workflows.executions.retrieve_detailed(run.id)
    assert done is not None and done.status == "completed"
    tasks = by_xid(done)
    assert list(tasks) == ["fan-out", "gen-1", "gen-2", "stage", "inner", "embedded", "ref-step"]
    fan_out = tasks["fan-out"]
    assert isinstance(fan_out.input, DynamicTaskParameters)
    resolved = [getattr(t, "external_id", t) for t in fan_out.input.tasks]
    assert resolved == ["gen-1", "gen-2"]  # resolved into tasks, not references
    assert isinstance(fan_out.output, DynamicTaskOutput)
    assert isinstance(tasks["stage"].input, SubworkflowTaskParameters)
    assert isinstance(tasks["stage"].output, SubworkflowTaskOutput)
    assert isinstance(tasks["embedded"].input, SubworkflowReferenceParameters)
    gen_1, gen_2 = tasks["gen-1"], tasks["gen-2"]
    assert isinstance(gen_1.output, FunctionTaskOutput)
    assert isinstance(gen_2.input, FunctionTaskParameters)
    data: object = gen_2.input.data
    assert data == gen_1.output.call_id  # a sibling reference
    # A task depending on a dynamic or subworkflow task waits for every child.
    assert tasks["stage"].start_time is not None and gen_2.end_time is not None
    assert tasks["stage"].start_time > gen_2.end_time
    assert gen_1.start_time is not None and fan_out.end_time is not None
    assert gen_1.start_time > fan_out.end_time
    # parentTaskExternalId: the SDK does not read it, so look at the JSON itself.
    simulator: Any = sim.simulator
    answer = requests.get(
        f"{sim.url}/api/v1/projects/{simulator.project}/workflows/executions/{run.id}",
        headers={"Authorization": f"Bearer {simulator.token}"},
        timeout=10,
    ).json()
    parents = {t["externalId"]: t.get("parentTaskExternalId") for t in answer["executedTasks"]}
    assert parents == {
        "fan-out": None,
        "gen-1": "fan-out",
        "gen-2": "fan-out",
        "stage": None,
        "inner": "stage",
        "embedded": None,
        "ref-step": "embedded",
    }


# -- triggers ----------------------------------------------------------------------------------

#: A fixed start for the trigger tests' clock: Sunday 2024-03-31 00:50:00 UTC, ten minutes
#: before Oslo moves its clocks from 02:00 to 03:00 (01:00 UTC).
START = dt.datetime(2024, 3, 31, 0, 50, tzinfo=dt.timezone.utc)
START_MS = int(START.timestamp() * 1000)
MINUTE_MS = 60_000


@pytest.fixture
def fixed() -> Iterator[Simulation]:
    with simulate("cognite", clock=SimClock(manual=True, start=START.timestamp())) as running:
        yield running


def scheduled(xid: str, cron_expression: str, **extra: Any) -> WorkflowTriggerUpsert:
    timezone = extra.pop("timezone", None)
    return WorkflowTriggerUpsert(
        external_id=xid,
        trigger_rule=WorkflowScheduledTriggerRule(cron_expression, timezone=timezone),
        workflow_external_id=extra.pop("workflow", "taskhub-auto"),
        workflow_version=extra.pop("version", "1"),
        **extra,
    )


def dm_query(limit: int) -> WorkflowTriggerDataModelingQuery:
    view = ViewId("cdf_cdm", "CogniteTimeSeries", "v1")
    return WorkflowTriggerDataModelingQuery(
        with_={"timeseries": NodeResultSetExpression(limit=limit)},
        select={"timeseries": Select(sources=[SourceSelector(view, ["name"])])},
    )


def test_triggers_upsert(client: CogniteClient, sim: Simulation) -> None:
    created = client.workflows.triggers.upsert(
        scheduled("nightly", "0 0 * * *", input={"a": 1}, metadata={"test": "schedule"})
    )
    assert isinstance(created, WorkflowTrigger)
    assert (created.external_id, created.workflow_external_id, created.workflow_version) == (
        "nightly",
        "taskhub-auto",
        "1",
    )
    rule = created.trigger_rule
    assert isinstance(rule, WorkflowScheduledTriggerRule)
    assert (rule.cron_expression, rule.timezone) == ("0 0 * * *", None)
    assert (created.input, created.metadata, created.is_paused) == (
        {"a": 1},
        {"test": "schedule"},
        False,
    )
    assert created.created_time == created.last_updated_time == sim.clock.now_ms()
    # Updated in place (SDK IT test_create_update_scheduled_trigger), here with client
    # credentials: the SDK makes a client-credentials session for the nonce.
    sim.clock.advance(5)
    new_rule = WorkflowScheduledTriggerRule("0 * * * *", timezone=ZoneInfo("Europe/Oslo"))
    update = WorkflowTriggerUpsert._load(created.as_write().dump())
    update.trigger_rule = new_rule
    simulator: Any = sim.simulator
    updated = client.workflows.triggers.upsert(
        update, client_credentials=ClientCredentials(simulator.client_id, simulator.client_secret)
    )
    assert updated.trigger_rule.dump() == new_rule.dump()
    assert updated.created_time == created.created_time
    assert updated.last_updated_time == created.created_time + 5000
    sessions = [r.body for r in simulator.log.find("POST", "/sessions")]
    assert len(sessions) == 2  # one nonce per upsert
    # A data-modeling trigger (SDK IT test_create_update_delete_data_modeling_trigger).
    modeling = client.workflows.triggers.upsert(
        WorkflowTriggerUpsert(
            external_id="on-change",
            trigger_rule=WorkflowDataModelingTriggerRule(dm_query(500), 500, 300),
            workflow_external_id="taskhub-auto",
            workflow_version="1",
        )
    )
    assert modeling.trigger_rule == WorkflowDataModelingTriggerRule(dm_query(500), 500, 300)
    assert (modeling.input, modeling.metadata) == ({}, {})
    # Bodies the API refuses: 400 in CDF's error envelope.
    for bad in (
        scheduled("bad", "0 0 * *"),
        scheduled("bad", "61 * * * *"),
        scheduled("bad", "0 0 * * *", version=""),
    ):
        with pytest.raises(CogniteAPIError) as refused:
            client.workflows.triggers.upsert(bad)
        assert refused.value.code == 400
    assert [t.external_id for t in client.workflows.triggers.list()] == ["nightly", "on-change"]


def test_triggers_list(client: CogniteClient) -> None:
    for n in range(3):
        client.workflows.triggers.upsert(scheduled(f"t{n}", f"{n} * * * *"))
    listed = client.workflows.triggers.list(limit=-1)
    assert isinstance(listed, WorkflowTriggerList)
    assert listed.as_external_ids() == ["t0", "t1", "t2"]
    assert all(isinstance(t, WorkflowTrigger) for t in listed)
    assert [t.trigger_rule.dump()["cronExpression"] for t in listed] == [
        "0 * * * *",
        "1 * * * *",
        "2 * * * *",
    ]
    assert len(client.workflows.triggers.list(limit=2)) == 2


def test_triggers_delete(client: CogniteClient, sim: Simulation) -> None:
    for name in ("a", "b", "c"):
        client.workflows.triggers.upsert(scheduled(name, "* * * * *"))
    client.workflows.triggers.delete("a")
    client.workflows.triggers.delete(["b", "c"])  # the SDK sends one request per trigger
    assert client.workflows.triggers.list() == WorkflowTriggerList([])
    deletes = sim.simulator.log.find("POST", "/workflows/triggers/delete")
    assert len(deletes) == 3
    with pytest.raises(CogniteNotFoundError) as missing:
        client.workflows.triggers.delete("nope")
    assert missing.value.not_found == [{"externalId": "nope"}]
    # Deleting a workflow deletes its triggers (user guide).
    upsert(client, "wf", [function_task("t", "ok-fn")])
    client.workflows.triggers.upsert(scheduled("on-wf", "0 0 * * *", workflow="wf"))
    client.workflows.delete("wf")
    assert client.workflows.triggers.list() == WorkflowTriggerList([])


def test_triggers_list_runs(fixed: Simulation) -> None:
    client = sdk_client(fixed)
    trigger = client.workflows.triggers.upsert(
        scheduled("quarterly", "*/15 * * * *", input={"a": 1, "b": 2}, metadata={"k": "v"})
    )
    assert client.workflows.triggers.list_runs("quarterly") == WorkflowTriggerRunList([])
    fixed.clock.advance(10 * 60)  # 01:00 UTC: the first quarter hour after the start
    runs = client.workflows.triggers.list_runs("quarterly")
    assert isinstance(runs, WorkflowTriggerRunList)
    (first,) = runs
    assert isinstance(first, WorkflowTriggerRun)
    assert (first.external_id, first.status) == ("quarterly", "success")
    assert (first.workflow_external_id, first.workflow_version) == ("taskhub-auto", "1")
    assert first.fire_time == START_MS + 10 * MINUTE_MS
    assert first.workflow_execution_id is not None and first.reason_for_failure is None
    # The execution the trigger started (SDK IT test_trigger_run_history): the trigger's
    # metadata, and its input with the version added.
    detailed = client.workflows.executions.retrieve_detailed(first.workflow_execution_id)
    assert detailed is not None
    assert detailed.created_time == first.fire_time
    assert detailed.metadata == trigger.metadata
    assert detailed.input == {**trigger.input, "version": "1"}
    assert (detailed.status, detailed.start_time) == ("running", None)  # created just now
    # An hour later: four more runs, newest first; their executions were created in order.
    fixed.clock.advance(3600)
    runs = client.workflows.triggers.list_runs("quarterly", limit=None)
    assert [r.fire_time for r in runs] == [START_MS + m * MINUTE_MS for m in (70, 55, 40, 25, 10)]
    assert len(client.workflows.triggers.list_runs("quarterly", limit=2)) == 2
    executions = client.workflows.executions.list(("taskhub-auto", "1"), limit=None)
    assert [e.id for e in executions] == [r.workflow_execution_id for r in runs]
    assert [e.status for e in executions] == ["running"] + ["completed"] * 4  # same clock
    with pytest.raises(CogniteAPIError, match=r"Workflow trigger not found\."):
        client.workflows.triggers.list_runs("integration_test-non_existing_trigger")


def test_triggers_list_runs_failed_and_time_zones(fixed: Simulation) -> None:
    client = sdk_client(fixed)
    # 02:30 Oslo does not exist on 2024-03-31 (02:00 -> 03:00): the next run is a day later.
    client.workflows.triggers.upsert(
        scheduled("oslo", "30 2 * * *", timezone=ZoneInfo("Europe/Oslo"))
    )
    # A trigger whose version is gone records a failed run and starts nothing.
    upsert(client, "short-lived", [function_task("t", "ok-fn")])
    client.workflows.triggers.upsert(scheduled("orphan", "0 * * * *", workflow="short-lived"))
    client.workflows.versions.delete(("short-lived", "1"))
    fixed.clock.advance(24 * 3600)
    (oslo,) = client.workflows.triggers.list_runs("oslo")
    expected = dt.datetime(2024, 4, 1, 2, 30, tzinfo=ZoneInfo("Europe/Oslo"))
    assert oslo.fire_time == int(expected.timestamp() * 1000)
    orphan = client.workflows.triggers.list_runs("orphan", limit=None)
    assert len(orphan) == 24
    assert {(r.status, r.workflow_execution_id) for r in orphan} == {("failed", None)}
    assert orphan[0].reason_for_failure == "Workflow version 'short-lived'/'1' not found"


def test_triggers_pause(fixed: Simulation) -> None:
    client = sdk_client(fixed)
    client.workflows.triggers.upsert(scheduled("minutely", "* * * * *"))
    fixed.clock.advance(60)
    assert len(client.workflows.triggers.list_runs("minutely")) == 1
    client.workflows.triggers.pause("minutely")
    client.workflows.triggers.pause("minutely")  # idempotent
    (paused,) = client.workflows.triggers.list()
    assert paused.is_paused is True
    fixed.clock.advance(600)
    assert len(client.workflows.triggers.list_runs("minutely")) == 1  # nothing while paused
    with pytest.raises(CogniteAPIError, match=r"Trigger not found\."):
        client.workflows.triggers.pause("integration_test-non_existing_trigger")


def test_triggers_resume(fixed: Simulation) -> None:
    client = sdk_client(fixed)
    client.workflows.triggers.upsert(scheduled("minutely", "* * * * *"))
    client.workflows.triggers.pause("minutely")
    fixed.clock.advance(600)
    client.workflows.triggers.resume("minutely")
    client.workflows.triggers.resume("minutely")  # idempotent
    (resumed,) = client.workflows.triggers.list()
    assert resumed.is_paused is False
    assert client.workflows.triggers.list_runs("minutely") == WorkflowTriggerRunList([])
    fixed.clock.advance(60)  # the missed times are not made up for; the next one fires
    (run,) = client.workflows.triggers.list_runs("minutely")
    assert run.fire_time == START_MS + 11 * MINUTE_MS
    with pytest.raises(CogniteAPIError, match=r"Trigger not found\."):
        client.workflows.triggers.resume("integration_test-non_existing_trigger")
