"""Veritone Edge: adapter and simulator over loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

import taskhub
from taskhub import AuthError, InvalidRequest, State, TaskNotFound
from taskhub.adapters.veritone_edge.hub import EdgeHub
from taskhub.adapters.veritone_edge.parse import parse_task as parse_edge_task
from taskhub.adapters.veritone_edge.simulator import ENGINE, OUTPUT_WRITER, STATUSES, EdgeSimulator
from taskhub.testing import Simulation, simulate
from taskhub.testing.contract import AdapterContract

#: The veritone_edge simulation, typed: its simulator and hub have the vendor's own helpers.
Sim = Simulation[EdgeSimulator, EdgeHub]


class TestEdgeContract(AdapterContract):
    vendor = "veritone-edge"

    def submit_spec(self, sim: Simulation) -> dict[str, Any]:
        return {"tasks": [{"engineId": ENGINE, "payload": {"url": "https://x/in.txt"}}]}


@pytest.fixture
def sim() -> Iterator[Sim]:
    with simulate("veritone-edge") as running:
        yield running


@pytest.fixture
def hub(sim: Sim) -> Iterator[EdgeHub]:
    with sim.connect(max_retry_time=5) as connected:
        yield connected


def submit(hub: EdgeHub, *payloads: dict[str, Any]) -> taskhub.Task:
    return hub.submit(tasks=[{"engineId": ENGINE, "payload": p} for p in payloads or ({},)])


def update(hub: EdgeHub, task_id: str, word: str) -> None:
    hub.adapter.transport.request(
        "POST",
        "/proc/tasks/update_status",
        operation="report",
        json={"taskIDs": [task_id], "taskStatus": word},
    )


def test_every_status_word_goes_through_simulator_and_adapter(sim: Sim, hub: EdgeHub) -> None:
    table = taskhub.registry.status_table("veritone-edge")
    assert set(STATUSES) == set(table.vocabularies["task"]) == set(table.vocabularies["job"])
    seen_task: dict[str, State] = {}
    seen_job: dict[str, State] = {}
    for word in STATUSES:
        job = submit(hub)
        update(hub, job.subtasks[0].id, word)
        now = hub.get(job.id)
        seen_task[now.subtasks[0].status.raw or ""] = now.subtasks[0].state
        seen_job[now.status.raw or ""] = now.state
    expected = {w: r.state for w, r in table.vocabularies["task"].items()}
    assert seen_task == expected
    assert seen_job == expected


def test_lifecycle_outputs_and_download(sim: Sim, hub: EdgeHub, tmp_path: Path) -> None:
    job = hub.submit(
        tasks=[
            {
                "engineId": ENGINE,
                "correlationTaskId": "t1",
                "payload": {"url": "https://x"},
                "ioFolders": [{"correlationID": "t1-out", "mode": "chunk", "type": "output"}],
            },
            {
                "engineId": OUTPUT_WRITER,
                "correlationTaskId": "ow",
                "parentMustBeCompleteBeforeStarting": True,
                "ioFolders": [{"correlationID": "ow-in", "mode": "chunk", "type": "input"}],
            },
        ],
        routes=[
            {"taskChildId": "t1"},
            {
                "taskParentId": "t1",
                "taskParentOutputId": "t1-out",
                "taskChildId": "ow",
                "taskChildInputId": "ow-in",
            },
        ],
    )
    assert (job.state, job.kind) == (State.PENDING, "job")
    sent = json.loads(sim.requests[0].body)["jobs"][0]
    assert sent["tasks"][0]["payloadJSON"] == '{"url": "https://x"}'  # a JSON string
    assert hub.ex_outputs(job.id) == []
    sim.clock.advance(1)
    assert hub.get(job.id).state is State.RUNNING
    sim.clock.advance(10)
    done = hub.get(job.id)
    assert done.state is State.SUCCEEDED
    assert done.subtasks[0].output == {"series": [], "sourceEngineId": ENGINE}  # taskOutputSON
    assert done.subtasks[0].params["payload"] == {"url": "https://x"}
    (output,) = done.outputs
    assert output.name is not None and output.name.startswith("vtn-standard-")
    path = hub.ex_download_output(job.id, output.name, tmp_path)
    assert json.loads(path.read_text())["schemaId"] == "vtn-standard"
    assert list(tmp_path.iterdir()) == [path]


def test_a_failed_task_carries_its_reason_and_detail(sim: Sim, hub: EdgeHub) -> None:
    job = submit(hub, {"simulate": "fail"})
    sim.clock.advance(10)
    failed = hub.get(job.id)
    task = failed.subtasks[0]
    assert (failed.state, task.state, task.status.reason) == (
        State.FAILED,
        State.FAILED,
        "bad_data",
    )
    assert task.status.message and "could not be decoded" in task.status.message
    rejected = submit(hub, {"simulate": "reject"})
    sim.clock.advance(10)
    status = hub.get(rejected.id).subtasks[0].status
    assert (status.state, status.reason, status.retryable) == (State.FAILED, "rejected", False)


def test_report_and_the_worker_words(sim: Sim, hub: EdgeHub) -> None:
    job = submit(hub)
    task = job.subtasks[0]
    assert hub.report(task.id, State.RUNNING).state is State.RUNNING
    assert hub.report(task.id, State.SUCCEEDED).state is State.SUCCEEDED
    with pytest.raises(taskhub.InvalidTransition, match="already succeeded"):
        hub.report(task.id, State.FAILED)
    with pytest.raises(taskhub.InvalidTransition, match="cannot report cancelled"):
        hub.report(task.id, State.CANCELLED)


def test_cancel_is_refused_and_delete_job_is_offered(sim: Sim, hub: EdgeHub) -> None:
    job = submit(hub)
    with pytest.raises(taskhub.UnsupportedOperation, match="delete_job"):
        hub.cancel(job.id)
    hub.ex_delete_job(job.id)
    with pytest.raises(TaskNotFound) as info:
        hub.get(job.id)
    assert "job not found" in str(info.value)
    assert info.value.request_id  # the correlation id names the failed request
    assert info.value.request_id == sim.requests[-1].headers["X-Correlation-Id"]


def test_list_pages_and_filters(sim: Sim) -> None:
    with sim.connect() as hub:
        ids = [submit(hub).id for _ in range(5)]
        failing = submit(hub, {"simulate": "fail"})
        sim.clock.advance(20)
        assert [j.id for j in hub.list()] == [failing.id, *ids[::-1]]
        assert [j.id for j in hub.list(state=State.FAILED)] == [failing.id]
        assert len(list(hub.list(limit=2))) == 2
    listed = [r for r in sim.requests if r.path.endswith("/proc/jobs")]
    assert any("status=" in r.query for r in listed) is False  # failed has three words: client side


def test_auth_styles_headers_and_forbidden(sim: Sim) -> None:
    s: Any = sim.simulator
    with sim.connect(token=None, api_key=s.token) as by_key:
        job = submit(by_key)
    record = sim.requests[0]
    assert "Api-Key" in record.headers and "Authorization" not in record.headers
    with sim.connect(token=s.readonly_token) as readonly:
        assert readonly.get(job.id).id == job.id
        with pytest.raises(AuthError) as info:
            submit(readonly)
        assert info.value.http_status == 403
    answer = requests.get(
        sim.url + "/proc/jobs", headers={"X-Correlation-Id": "abc-123"}, timeout=5
    )
    assert answer.status_code == 401
    assert answer.headers["X-Correlation-Id"] == "abc-123"
    assert answer.headers["X-Aiware-Version"]
    assert set(answer.json()) == {"id", "description", "detail"}
    fresh = requests.get(
        sim.url + "/version", headers={"Authorization": f"Bearer {s.token}"}, timeout=5
    )
    assert fresh.headers["X-Correlation-Id"] and fresh.json()["version"]
    assert requests.delete(sim.url + "/proc/jobs", timeout=5).status_code == 405


def test_429_and_503_carry_retry_after_and_are_retried(sim: Sim, hub: EdgeHub) -> None:
    job = submit(hub)
    sim.inject(status=429, times=1, headers={"Retry-After": "0"})
    sim.inject(status=503, times=1, headers={"Retry-After": "0"})
    assert hub.get(job.id).id == job.id
    faulted = [r for r in sim.requests if r.fault]
    assert [r.status for r in faulted] == [429, 503]


def test_bad_submissions(sim: Sim, hub: EdgeHub) -> None:
    for spec, field in (
        ({"tasks": []}, "tasks"),
        ({"tasks": [{"payload": {}}]}, "tasks[0].engineId"),
        ({"tasks": [{"engineId": ENGINE}], "routes": [{"taskChildId": "nope"}]}, "routes[0]"),
    ):
        with pytest.raises(InvalidRequest) as info:
            hub.submit(**spec)
        assert info.value.field == field
    assert sim.requests == []
    with pytest.raises(InvalidRequest, match="not available on edge") as server:
        hub.submit(tasks=[{"engineId": "00000000-0000-4000-8000-000000000000"}])
    assert server.value.http_status == 400


def test_several_jobs_per_request_on_the_wire(sim: Sim) -> None:
    s: Any = sim.simulator
    body = {"jobs": [{"tasks": [{"engineId": ENGINE}]}, {"tasks": [{"engineId": ENGINE}]}]}
    answer = requests.post(
        sim.url + "/proc/job/create",
        json=body,
        timeout=5,
        headers={"Authorization": f"Bearer {s.token}"},
    )
    assert len(answer.json()["internalJobIds"]) == 2


def test_engines_listing(hub: EdgeHub) -> None:
    engines = hub.ex_engines()
    assert OUTPUT_WRITER in {e["engineID"] for e in engines}
    assert {"engineID", "engineName", "engineState"} <= set(engines[0])


def test_the_task_payload_travels_in_taskpayloadjson_and_comes_back(sim: Sim, hub: EdgeHub) -> None:
    """The documented examples carry the input in ``taskPayloadJSON`` (the jobs quickstart in
    ``payloadJSON`` too): a ``payload`` is sent in both, ``taskPayload`` sets the second apart,
    and the simulator keeps and returns ``taskPayloadJSON``, which the adapter reads."""
    job = hub.submit(
        tasks=[
            {"engineId": ENGINE, "payload": {"url": "https://x/in.txt"}},
            {"engineId": ENGINE, "payload": {"url": "https://x/b"}, "taskPayload": {"l": "en"}},
            {"engineId": OUTPUT_WRITER},
        ]
    )
    sent = json.loads(sim.requests[0].body)["jobs"][0]["tasks"]
    assert [(t.get("payloadJSON"), t.get("taskPayloadJSON")) for t in sent] == [
        ('{"url": "https://x/in.txt"}', '{"url": "https://x/in.txt"}'),
        ('{"url": "https://x/b"}', '{"l": "en"}'),
        (None, None),
    ]
    first, second, writer = hub.get(job.id).subtasks
    assert first.raw["taskPayloadJSON"] == '{"url": "https://x/in.txt"}'
    assert first.params == {
        "payload": {"url": "https://x/in.txt"},
        "task_payload": {"url": "https://x/in.txt"},
        "engine_name": "Simulated Transcription",
    }
    assert (second.params["payload"], second.params["task_payload"]) == (
        {"url": "https://x/b"},
        {"l": "en"},
    )
    assert "payload" not in writer.params and "taskPayloadJSON" not in writer.raw
    # a task payload alone (the Edge install guide's shape) steers the simulator too
    failing = hub.submit(tasks=[{"engineId": ENGINE, "taskPayload": {"simulate": "fail"}}])
    sim.clock.advance(10)
    assert hub.get(failing.id).state is State.FAILED


def _nulls(value: Any, where: str = "") -> list[str]:
    if value is None:
        return [where or "the body"]
    if isinstance(value, dict):
        return [n for k, v in value.items() for n in _nulls(v, f"{where}.{k}")]
    if isinstance(value, list):
        return [n for i, v in enumerate(value) for n in _nulls(v, f"{where}[{i}]")]
    return []


def test_no_answer_holds_a_null(sim: Sim, hub: EdgeHub) -> None:
    """The spec types failureReason, failureDetail, jobConfigJSON, completedDateTime,
    payloadJSON, taskOutputSON and error as (non-nullable) strings or objects: a field with no
    value is left out, for pending, running, complete and failed tasks alike."""
    s: Any = sim.simulator
    key = {"Authorization": f"Bearer {s.token}"}
    pending = hub.submit(tasks=[{"engineId": OUTPUT_WRITER, "ioFolders": [{"mode": "chunk"}]}])
    failing = submit(hub, {"simulate": "fail"})
    bodies = [hub.get(pending.id).raw]
    sim.clock.advance(1)
    bodies.append(hub.get(failing.id).raw)
    sim.clock.advance(10)
    for path in (
        f"/proc/job/{pending.id}/detail",
        f"/proc/job/{failing.id}/detail",
        f"/proc/task/{pending.subtasks[0].id}/detail",
        "/proc/jobs",
        "/admin/engines",
        f"/proc/job/{pending.id}/outputs",
    ):
        bodies.append(requests.get(sim.url + path, headers=key, timeout=5).json())
    update = {"taskIDs": [pending.subtasks[0].id], "taskStatus": "running"}
    bodies.append(
        requests.post(
            sim.url + "/proc/tasks/update_status", json=update, headers=key, timeout=5
        ).json()
    )
    assert [n for b in bodies for n in _nulls(b)] == []
    task = bodies[0]["tasks"][0]
    for absent in ("failureReason", "failureDetail", "completedDateTime", "taskOutputSON"):
        assert absent not in task
    assert "jobConfigJSON" not in bodies[0] and "error" not in bodies[-1]
    done = bodies[3]["job"]["tasks"][0]
    assert (done["failureReason"], done["taskStatus"]) == ("bad_data", "failed")


@pytest.mark.parametrize("empty", [None, "", "absent"])
def test_the_adapter_reads_a_missing_value_as_null_empty_or_absent(
    hub: EdgeHub, empty: Any
) -> None:
    """Whatever a server sends for a field without a value (null, "" or nothing), the Task is
    the same; FailureReasonEnum's ``none`` is no reason either."""
    fields = (
        "failureReason",
        "failureDetail",
        "completedDateTime",
        "startedDateTime",
        "payloadJSON",
        "taskPayloadJSON",
        "taskOutputSON",
    )
    task: dict[str, Any] = {
        "internalTaskID": "8a8f9d7e-3b5c-4d1e-9f0a-1b2c3d4e5f60",
        "internalJobID": "e1484460-7cb5-4cab-87ea-436c4768904f",
        "engineID": ENGINE,
        "taskStatus": "complete",
        "createdDateTime": "2020-02-07T19:11:12Z",
    }
    job: dict[str, Any] = {
        "internalJobID": "e1484460-7cb5-4cab-87ea-436c4768904f",
        "jobStatus": "complete",
        "createdDateTime": "2020-02-07T19:11:12Z",
        "tasks": [task],
    }
    if empty != "absent":
        task.update(dict.fromkeys(fields, empty))
        job.update(dict.fromkeys(("jobConfigJSON", "completedDateTime"), empty))
    parsed = hub.adapter.parse(job)
    (sub,) = parsed.subtasks
    assert (sub.state, sub.status.reason, sub.status.message) == (State.SUCCEEDED, None, None)
    assert (sub.output, sub.params, sub.started_at, sub.finished_at) == (None, {}, None, None)
    assert (parsed.params, parsed.finished_at) == ({}, None)
    none = parse_edge_task({**task, "failureReason": "none"}, hub.backend)
    assert none.status.reason is None


def test_internal_organization_id_is_sent_only_when_configured(sim: Sim) -> None:
    """The spec requires ``internalOrganizationID``; every documented create example omits it
    and the server takes the token's organization. taskhub sends it only when
    ``organization_id`` is set; the simulator accepts both and answers with the job's."""
    s: Any = sim.simulator
    with sim.connect() as plain:
        job = submit(plain)
    assert "internalOrganizationID" not in json.loads(sim.requests[0].body)["jobs"][0]
    assert job.params["internalOrganizationID"] == s.organization
    mine = "5b1e3c1e-8b53-4a52-9f7e-6a7d1c0e1f22"
    with sim.connect(organization_id=mine) as configured:
        job = submit(configured)
    create = next(r for r in sim.requests[::-1] if r.path.endswith("/proc/job/create"))
    assert json.loads(create.body)["jobs"][0]["internalOrganizationID"] == mine
    assert job.params["internalOrganizationID"] == mine
    with sim.connect(organization_id="acme") as wrong, pytest.raises(InvalidRequest) as info:
        submit(wrong)
    assert "internalOrganizationID is not a UUID" in str(info.value)


def test_a_stateless_worker_cannot_move_a_finished_task(sim: Sim, hub: EdgeHub) -> None:
    job = submit(hub)
    task = job.subtasks[0]
    hub.report(task.id, State.SUCCEEDED)
    with sim.connect() as fresh:
        sent = len(sim.requests)
        with pytest.raises(taskhub.InvalidTransition, match="already succeeded"):
            fresh.report(task, State.FAILED)
        paths = [r.path for r in sim.requests[sent:]]
    assert paths == [f"/edge/v1/proc/task/{task.id}/detail"]
