"""Veritone GraphQL: adapter, simulator, assets, and the engine runner, over loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import requests

import taskhub
from taskhub import (
    AuthError,
    InvalidRequest,
    InvalidTransition,
    OutcomeUnknown,
    RateLimited,
    State,
    TaskNotFound,
)
from taskhub.adapters.veritone import documents as doc
from taskhub.adapters.veritone.engine import load_payload, run
from taskhub.adapters.veritone.hub import VeritoneHub
from taskhub.adapters.veritone.simulator import DEFAULT_ENGINE, EXTERNAL_ENGINE, VeritoneSimulator
from taskhub.testing import Simulation, simulate
from taskhub.testing.contract import AdapterContract

#: The veritone simulation, typed: its simulator and hub have the vendor's own helpers.
Sim = Simulation[VeritoneSimulator, VeritoneHub]

TARGET = {"startDateTime": 1700000000, "stopDateTime": 1700000060, "name": "rec"}


class TestVeritoneContract(AdapterContract):
    vendor = "veritone"
    unknown_id = "19041508_f2qIbo9qAh"

    def submit_spec(self, sim: Simulation) -> dict[str, Any]:
        return {
            "tasks": [{"engineId": DEFAULT_ENGINE, "payload": {"url": "https://x/in.mp4"}}],
            "target": TARGET,
        }


@pytest.fixture
def sim() -> Iterator[Sim]:
    with simulate("veritone") as running:
        yield running


@pytest.fixture
def hub(sim: Sim) -> Iterator[VeritoneHub]:
    with sim.connect(max_retry_time=5) as connected:
        yield connected


def job_of(hub: VeritoneHub, *engines: str, payload: dict[str, Any] | None = None) -> taskhub.Task:
    return hub.submit(
        tasks=[{"engineId": e, "payload": payload or {}} for e in engines], target=TARGET
    )


def set_status(hub: VeritoneHub, task_id: str, word: str) -> None:
    """What the platform (not a worker) may write: any TaskStatus word."""
    hub.adapter._graphql(doc.UPDATE_TASK, {"input": {"id": task_id, "status": word}}, "report")


def test_every_task_status_word_goes_through_simulator_and_adapter(
    sim: Sim, hub: VeritoneHub
) -> None:
    table = taskhub.registry.status_table("veritone").vocabularies["task"]
    job = job_of(hub, *[EXTERNAL_ENGINE] * len(table))
    for task, word in zip(job.subtasks, table, strict=True):
        set_status(hub, task.id, word)
    seen = {t.status.raw: t.state for t in hub.adapter.get(job.id).subtasks}
    assert seen == {w: r.state for w, r in table.items()}
    answered = hub.get(job.id)
    assert answered.state is State.FAILED  # a failed or aborted task fails its job
    # The hub answers what its Tracker keeps: a task first seen queued and then read
    # "pending" went backwards without a retry, so it stays queued.
    moved_back = {t.id for t, w in zip(job.subtasks, table, strict=True) if "pending" in w}
    assert {t.state for t in answered.subtasks if t.id in moved_back} == {State.QUEUED}


def test_jobs_run_their_tasks_in_order(sim: Sim, hub: VeritoneHub) -> None:
    job = job_of(hub, DEFAULT_ENGINE, DEFAULT_ENGINE)
    assert (job.state, job.kind) == (State.QUEUED, "job")
    assert [t.kind for t in job.subtasks] == [DEFAULT_ENGINE, DEFAULT_ENGINE]
    sim.clock.advance(2)
    running = hub.get(job.id)
    assert [t.state for t in running.subtasks] == [State.RUNNING, State.QUEUED]
    assert running.state is State.RUNNING
    sim.clock.advance(10)
    done = hub.get(job.id)
    assert done.state is State.SUCCEEDED
    assert all(t.finished_at for t in done.subtasks)
    assert done.subtasks[0].parent_id == job.id
    assert done.subtasks[0].id.startswith(job.id)


@pytest.mark.parametrize(
    ("plan", "word", "reason"),
    [("fail", "failed", "internal_error"), ("abort", "aborted", "aborted")],
)
def test_failed_or_aborted_tasks_fail_the_job_and_retry_restarts_it(
    sim: Sim, hub: VeritoneHub, plan: str, word: str, reason: str
) -> None:
    job = job_of(hub, DEFAULT_ENGINE, payload={"simulate": plan})
    sim.clock.advance(10)
    failed = hub.get(job.id)
    assert failed.state is State.FAILED
    assert (failed.subtasks[0].status.raw, failed.subtasks[0].status.reason) == (word, reason)
    again = hub.retry(job.id)
    assert again.state is State.QUEUED
    sim.clock.advance(10)
    assert hub.get(job.id).state is State.SUCCEEDED
    with pytest.raises(InvalidRequest, match="not in a failure state"):
        hub.retry(job.id)


def test_one_answer_per_job_whatever_a_cancel_after_success_makes_the_vendor_say(
    sim: Sim, hub: VeritoneHub
) -> None:
    job = job_of(hub, DEFAULT_ENGINE)
    sim.clock.advance(10)
    assert hub.wait(job.id, timeout=30).state is State.SUCCEEDED
    before = len(sim.requests)
    with pytest.raises(InvalidTransition, match=r"is already succeeded.*force=True"):
        hub.cancel(job.id)
    assert len(sim.requests) == before  # refused before any request
    # Forced: aiWARE takes the cancel and then calls the job cancelled; the hub does not.
    assert hub.cancel(job.id, force=True).state is State.SUCCEEDED
    assert hub.adapter.get(job.id).state is State.CANCELLED  # the vendor's word
    assert hub.get(job.id).state is State.SUCCEEDED
    assert {t.id: t.state for t in hub.list(limit=10)}[job.id] is State.SUCCEEDED
    assert hub.tracker.state(f"{hub.backend}:{job.id}") is State.SUCCEEDED
    (anomaly,) = hub.tracker.anomalies[-1:]  # the vendor's word, kept out and recorded
    assert (anomaly.kept.state, anomaly.observed.state) == (State.SUCCEEDED, State.CANCELLED)


def test_get_pages_past_the_default_page(sim: Sim, hub: VeritoneHub) -> None:
    job = job_of(hub, *[DEFAULT_ENGINE] * 130)
    assert len(job.subtasks) == 130
    before = len(sim.requests)
    assert len(hub.get(job.id).subtasks) == 130
    assert len(sim.requests) - before == 2  # 100 + 30


def test_list_cancel_and_state_filters(sim: Sim, hub: VeritoneHub) -> None:
    ok = job_of(hub, DEFAULT_ENGINE)
    bad = job_of(hub, DEFAULT_ENGINE, payload={"simulate": "fail"})
    stop = job_of(hub, EXTERNAL_ENGINE)
    assert hub.cancel(stop.id).state is State.CANCELLED
    sim.clock.advance(10)
    assert [j.id for j in hub.list()] == [stop.id, bad.id, ok.id]
    assert [j.id for j in hub.list(state=State.SUCCEEDED)] == [ok.id]
    assert [j.id for j in hub.list(state="failed")] == [bad.id]  # no server filter: client side
    assert [j.id for j in hub.list(state=State.CANCELLED)] == [stop.id]
    assert len(list(hub.list(limit=2))) == 2
    statuses = [r.json()["variables"]["status"] for r in sim.requests if b"ListJobs" in r.body]
    assert ["complete"] in statuses and None in statuses


def test_report_is_checked_before_sending(sim: Sim, hub: VeritoneHub) -> None:
    job = job_of(hub, EXTERNAL_ENGINE)
    task = job.subtasks[0]
    sent = len(sim.requests)
    with pytest.raises(InvalidRequest, match=r"only with State\.FAILED"):
        hub.report(task.id, State.SUCCEEDED, job_id=job.id, failure_reason="invalid_data")
    with pytest.raises(InvalidRequest, match="unknown failure_reason"):
        hub.report(task.id, State.FAILED, job_id=job.id, failure_reason="gremlins")
    with pytest.raises(InvalidRequest, match="needs failure_reason"):
        hub.report(task.id, State.FAILED, job_id=job.id, failure_message="why")
    with pytest.raises(InvalidTransition, match="it takes: running, succeeded, failed"):
        hub.report(task.id, State.PAUSED)
    assert len(sim.requests) == sent
    done = hub.report(task.id, State.SUCCEEDED, job_id=job.id, output={"series": [1]})
    assert (done.state, done.output) == (State.SUCCEEDED, {"series": [1]})
    sent_update = json.loads(sim.requests[-1].body)["variables"]["input"]
    assert sent_update == {
        "id": task.id,
        "status": "complete",
        "jobId": job.id,
        "outputString": '{"series": [1]}',
    }


def test_the_simulator_refuses_failure_reason_unless_failed(hub: VeritoneHub) -> None:
    job = job_of(hub, EXTERNAL_ENGINE)
    with pytest.raises(InvalidRequest, match="failureReason can only be set") as info:
        hub.adapter._graphql(
            doc.UPDATE_TASK,
            {
                "input": {
                    "id": job.subtasks[0].id,
                    "status": "complete",
                    "failureReason": "other",
                }
            },
            "report",
        )
    assert (info.value.http_status, info.value.code) == (200, "invalid_input")


def test_values_travel_only_as_variables(sim: Sim, hub: VeritoneHub) -> None:
    nasty = '") { __typename } mutation { cancelJob(id: "x'
    before = len(sim.requests)
    with pytest.raises(InvalidRequest) as info:
        hub.get(nasty)  # read as a "backend:id" ref of another backend
    assert info.value.field == "task_id"
    with pytest.raises(InvalidRequest, match="not a veritone task id") as info:
        hub.get(nasty.replace(":", ""))
    assert info.value.field == "task_id"
    assert len(sim.requests) == before  # refused by the id rules, before any request
    with pytest.raises(TaskNotFound):
        hub.get("no_such-job.1")
    body = json.loads(sim.requests[-1].body)
    assert body["query"] == doc.GET_JOB
    assert body["variables"]["id"] == "no_such-job.1"


def test_error_envelope_names_map_to_the_tree(sim: Sim, hub: VeritoneHub) -> None:
    job = job_of(hub, DEFAULT_ENGINE)
    sim.inject("graphql", name="rate_limited", times=1)
    sim.inject("graphql", name="service_unavailable", times=1)
    assert hub.get(job.id).id == job.id  # both retried transparently
    sim.inject("graphql", name="not_allowed", times=1)
    with pytest.raises(AuthError):
        hub.get(job.id)
    sim.inject("graphql", name="capacity_exceeded", times=None)
    with sim.connect(max_retries=1) as quick, pytest.raises(RateLimited):
        quick.get(job.id)


def test_partial_data_with_errors_is_an_error(hub: VeritoneHub) -> None:
    job = job_of(hub, DEFAULT_ENGINE)
    query = "query Two($a: ID!, $b: ID!) { a: job(id: $a) { id } b: job(id: $b) { id } }"
    with pytest.raises(TaskNotFound, match="not found"):
        hub.adapter._graphql(query, {"a": job.id, "b": "nope"}, "get")


@pytest.mark.parametrize("name", ["capacity_exceeded", "rate_limited", "service_failure"])
def test_a_created_job_with_graphql_errors_is_returned_not_sent_again(
    sim: Sim, hub: VeritoneHub, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    job_id = "19041508_f2qIbo9qAh"
    created = {
        "id": job_id,
        "status": "pending",
        "createdDateTime": "2024-04-15T08:00:00.000Z",
        "tasks": {
            "records": [
                {
                    "id": f"{job_id}krfPu",
                    "jobId": job_id,
                    "status": "pending",
                    "engineId": DEFAULT_ENGINE,
                    "payload": {"url": "https://x/in.mp4"},
                }
            ],
            "count": 1,
        },
    }
    error = {
        "name": name,
        "message": "engine lookup failed",
        "time_thrown": "2024-04-15T08:00:00.000Z",
    }
    sim.inject(status=200, body={"data": {"createJob": created}, "errors": [error]})
    with caplog.at_level("WARNING", logger="taskhub.veritone"):
        job = hub.submit(
            tasks=[{"engineId": DEFAULT_ENGINE, "payload": {"url": "https://x/in.mp4"}}],
            target=TARGET,
        )
    assert job.id == job_id and [t.id for t in job.subtasks] == [f"{job_id}krfPu"]
    assert len(sim.requests) == 1  # not sent again
    assert sim.simulator.jobs == {}
    assert job.raw["errors"] == [error]  # the error is reported with the job
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(f"{name}: engine lookup failed" in w and "submit" in w for w in warned)


def test_a_retry_that_timed_out_is_not_sent_again(sim: Sim) -> None:
    with sim.connect(timeout=0.3) as hub:
        job = job_of(hub, DEFAULT_ENGINE, payload={"simulate": "fail"})
        sim.clock.advance(10)
        assert hub.get(job.id).state is State.FAILED
        sim.inject("delay", seconds=1.0)
        with pytest.raises(OutcomeUnknown) as info:
            hub.retry(job.id)
        sent = [r for r in sim.requests if "RetryJob" in r.body.decode()]
        assert len(sent) == 1
        assert "look at its state before retrying again" in str(info.value)
        assert info.value.lookup == {"operation": "retry", "task_id": job.id}
        assert hub.get(job.id).state is State.QUEUED  # the server did act


def test_wire_details(sim: Sim) -> None:
    url = sim.url + "/v3/graphql"
    key = {"Authorization": f"Bearer {sim.simulator.token}"}
    # variables as a JSON string
    answer = requests.post(
        url,
        headers=key,
        timeout=5,
        json={
            "query": "query J($id: ID!) { job(id: $id) { id } }",
            "variables": json.dumps({"id": "x"}),
        },
    )
    assert answer.json()["errors"][0]["name"] == "not_found"
    assert answer.json()["errors"][0]["data"] == {"objectId": "x", "objectType": "Job"}
    # a quoted enum is invalid GraphQL: HTTP 400
    quoted = 'mutation { updateTask(input: {id: "t", status: "running"}) { id } }'
    assert requests.post(url, headers=key, json={"query": quoted}, timeout=5).status_code == 400
    assert requests.post(url, headers=key, data="query", timeout=5).status_code == 400
    assert (
        requests.post(sim.url + "/v2/graphql", headers=key, json={}, timeout=5).status_code == 404
    )
    # no token: authentication_error with the field null; userLogin needs none
    anon = requests.post(url, json={"query": "{ job(id: 1) { id } }"}, timeout=5).json()
    assert anon["data"] == {"job": None} and anon["errors"][0]["name"] == "authentication_error"
    login = requests.post(
        url,
        timeout=5,
        json={
            "query": "mutation L($u: String!, $p: String!) "
            "{ userLogin(input: {userName: $u, password: $p}) { token } }",
            "variables": {"u": sim.simulator.username, "p": sim.simulator.password},
        },
    ).json()
    assert len(login["data"]["userLogin"]["token"]) == 36
    # introspection, integer ID literals, single values for list arguments
    schema = requests.post(
        url, headers=key, json={"query": "{ __schema { queryType { name } } }"}, timeout=5
    ).json()
    assert schema["data"]["__schema"]["queryType"]["name"] == "Query"
    tdo = sim.simulator.add_tdo()
    single = requests.post(
        url,
        headers=key,
        timeout=5,
        json={
            "query": f"{{ temporalDataObject(id: {tdo['id']}) "
            '{ assets(type: "media") { count } } }'
        },
    )
    assert single.json()["data"]["temporalDataObject"]["assets"]["count"] == 0


def test_assets_upload_by_file_and_uri_then_download(
    sim: Sim, hub: VeritoneHub, tmp_path: Path
) -> None:
    adapter: Any = hub.adapter
    tdo = sim.simulator.add_tdo()
    source = tmp_path / "in.ttml"
    source.write_bytes(b"<tt>hello</tt>")
    uploaded = adapter.create_asset(
        tdo["id"],
        type="transcript",
        content_type="application/ttml+xml",
        file=source,
        source_data={"name": "eng", "taskId": "t"},
    )
    assert (uploaded.kind, uploaded.size, uploaded.name) == ("transcript", 14, "in.ttml")
    linked = adapter.create_asset(
        tdo["id"], type="media", content_type="video/mp4", uri="https://cdn.example.com/a.mp4"
    )
    assert linked.uri == "https://cdn.example.com/a.mp4"
    assert [a.id for a in adapter.assets(tdo["id"], types=["transcript"])] == [uploaded.id]
    assert len(adapter.assets(tdo["id"])) == 2
    out = tmp_path / "out"
    out.mkdir()
    path = adapter.download(uploaded, out)
    assert path.read_bytes() == b"<tt>hello</tt>"
    with pytest.raises(InvalidRequest, match="exactly one of uri and file"):
        adapter.create_asset(tdo["id"], type="text", content_type="text/plain")
    with pytest.raises(InvalidRequest, match="One of uri or file"):
        adapter._graphql(
            doc.CREATE_ASSET, {"input": {"containerId": tdo["id"], "type": "text"}}, "create_asset"
        )


def test_size_limits_answer_413() -> None:
    with simulate("veritone", json_limit=2_000, file_limit=1_000) as sim, sim.connect() as hub:
        with pytest.raises(InvalidRequest) as big_json:
            hub.submit(
                tasks=[{"engineId": DEFAULT_ENGINE, "payload": {"x": "y" * 3_000}}], target=TARGET
            )
        assert big_json.value.http_status == 413
        tdo = sim.simulator.add_tdo()
        with pytest.raises(InvalidRequest, match="larger than the limit") as big_file:
            hub.adapter.create_asset(
                tdo["id"],
                type="media",
                content_type="video/mp4",
                file=b"z" * 2_000,
                filename="big.mp4",
            )
        assert big_file.value.http_status == 413


def test_429_with_retry_after_is_retried(sim: Sim, hub: VeritoneHub) -> None:
    job = job_of(hub, DEFAULT_ENGINE)
    sim.inject(status=429, headers={"Retry-After": "0"}, times=2)
    assert hub.get(job.id).id == job.id


# -- the engine runner ----------------------------------------------------------------------


def engine_job(sim: Sim, hub: VeritoneHub, *assets: tuple[str, str, bytes, int]) -> dict[str, Any]:
    s: Any = sim.simulator
    job = hub.submit(
        tasks=[{"engineId": EXTERNAL_ENGINE, "payload": {"language": "en-us"}}], target=TARGET
    )
    tdo = job.params["targetId"]
    for kind, content_type, data, age in assets:
        s.add_asset(
            tdo,
            kind,
            content_type,
            data=data,
            name=f"{kind}-{age}.bin",
            created=s.now_ms() - age * 1000,
        )
    payload: dict[str, Any] = s.engine_payload(job.subtasks[0].id)
    return payload


def run_cli(
    payload: dict[str, Any], function: str, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "payload.json"
    path.write_text(json.dumps(payload))
    env = {**os.environ, "PAYLOAD_FILE": str(path), "PYTHONPATH": str(Path(__file__).parent.parent)}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "taskhub",
            "engine",
            "veritone",
            function,
            "--types",
            "video/mp4,audio/",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def task_of(hub: VeritoneHub, payload: dict[str, Any]) -> taskhub.Task:
    job = hub.get(payload["jobId"])
    return next(t for t in job.subtasks if t.id == payload["taskId"])


def test_the_engine_processes_the_oldest_supported_asset(
    sim: Sim, hub: VeritoneHub, tmp_path: Path
) -> None:
    payload = engine_job(
        sim,
        hub,
        ("media", "video/mp4", b"n" * 10, 5),
        ("media", "video/mp4", b"o" * 2048, 50),
        ("transcript", "application/ttml+xml", b"t", 99),
    )
    oldest = next(a for a in sim.simulator.assets.values() if a["data"] == b"o" * 2048)
    done = run_cli(payload, "tests.sample_engine:detect", tmp_path)
    assert done.returncode == 0, done.stderr
    task = task_of(hub, payload)
    assert task.state is State.SUCCEEDED
    assert task.output["series"][0]["end"] == 2048
    assert task.output["asset"] == oldest["id"]
    assert task.output["language"] == "en-us"
    assert payload["token"] not in done.stderr + done.stdout
    updates = [
        json.loads(r.body)["variables"]["input"]["status"]
        for r in sim.requests
        if b"UpdateTask" in r.body
    ]
    assert updates == ["running", "complete"]


def test_the_engine_uploads_files_as_assets(sim: Sim, hub: VeritoneHub, tmp_path: Path) -> None:
    payload = engine_job(sim, hub, ("media", "audio/mp3", b"a" * 100, 5))
    assert (
        run(
            __import__("tests.sample_engine", fromlist=["x"]).transcribe,
            ["audio/"],
            payload=payload,
        )
        == 0
    )
    transcripts = hub.adapter.assets(payload["recordingId"], types=["transcript"])
    assert [a.content_type for a in transcripts] == ["application/ttml+xml"]
    assert task_of(hub, payload).state is State.SUCCEEDED


@pytest.mark.parametrize(
    ("function", "assets", "reason"),
    [
        ("tests.sample_engine:detect", [("thumbnail", "image/jpeg", b"j", 5)], "invalid_data"),
        ("tests.sample_engine:broken", [("media", "video/mp4", b"m", 5)], "internal_error"),
        ("tests.sample_engine:picky", [("media", "video/mp4", b"m", 5)], "invalid_data"),
        ("tests.sample_engine:detect", [("media", "video/mp4", None, 5)], "url_not_found"),
    ],
)
def test_the_engine_fails_the_task_cleanly(
    sim: Sim,
    hub: VeritoneHub,
    tmp_path: Path,
    function: str,
    assets: list[tuple[str, str, bytes | None, int]],
    reason: str,
) -> None:
    payload = engine_job(sim, hub, *[(k, c, d or b"x", a) for k, c, d, a in assets])
    if assets[0][2] is None:  # the asset's bytes are gone: its signed URI answers 404
        for asset in sim.simulator.assets.values():
            asset["missing"] = True
    done = run_cli(payload, function, tmp_path)
    assert done.returncode == 1
    task = task_of(hub, payload)
    assert (task.state, task.status.reason) == (State.FAILED, reason)
    assert task.output["error"]
    assert payload["token"] not in done.stderr
    creates = [r for r in sim.requests if b"CreateAsset" in r.body]
    assert creates == []  # no further processing after the failure


def test_a_bad_payload_names_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest, match="missing token, recordingId"):
        load_payload(
            environ={
                "PAYLOAD_JSON": json.dumps(
                    {"veritoneApiBaseUrl": "http://x", "jobId": "j", "taskId": "t"}
                )
            }
        )
    with pytest.raises(InvalidRequest, match="pass --payload FILE or set PAYLOAD_FILE"):
        load_payload(environ={})
    (tmp_path / "p.json").write_text("{nope")
    with pytest.raises(InvalidRequest, match="not JSON"):
        load_payload(tmp_path / "p.json")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "taskhub",
            "engine",
            "veritone",
            "tests.sample_engine:detect",
            "--payload",
            str(tmp_path / "p.json"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
    )
    assert out.returncode == 2 and "not JSON" in out.stderr


def test_every_request_goes_to_v3_graphql_exactly(sim: Sim) -> None:
    """Every vendor document posts to ``/v3/graphql``; a strict server has no ``/v3/graphql/``
    (the simulator answers 404 there), so the adapter must never add a slash — not even when
    the configured base URL ends with one."""
    with sim.connect(base_url=sim.url + "/", max_retry_time=5) as hub:
        job = job_of(hub, DEFAULT_ENGINE)
        hub.get(job.id)
        list(hub.list(limit=1))
        tdo = sim.simulator.add_tdo()
        hub.adapter.create_asset(
            tdo["id"], type="text", content_type="text/plain", file=b"x", filename="x.txt"
        )
        hub.adapter.assets(tdo["id"])
    assert len(sim.requests) == 5
    assert {(r.method, r.path, r.raw_path, r.query) for r in sim.requests} == {
        ("POST", "/v3/graphql", "/v3/graphql", "")
    }
    key = {"Authorization": f"Bearer {sim.simulator.token}"}
    slash = requests.post(
        sim.url + "/v3/graphql/", headers=key, json={"query": "{ job(id: 1) { id } }"}, timeout=5
    )
    assert slash.status_code == 404
    assert slash.json()["errors"][0]["name"] == "not_found"


def test_engine_fields_and_tdo_tasks_follow_the_published_types(sim: Sim, hub: VeritoneHub) -> None:
    """``Engine.categoryId`` is a String, ``Engine.state`` an EngineState, ``Task.buildId`` an
    ID, and ``TemporalDataObject.tasks`` takes ``dateTimeFilter`` (published SDL, 2019-09)."""
    job = job_of(hub, DEFAULT_ENGINE)
    tdo_id = job.raw["targetId"]
    sim.clock.advance(60)
    later = sim.clock.now()
    query = """
    query T($tdo: ID!, $f: [TaskDateTimeFilter]) {
      temporalDataObject(id: $tdo) {
        tasks(dateTimeFilter: $f) { records { id buildId engine { categoryId state } } count }
      }
    }"""

    def tasks(f: Any) -> dict[str, Any]:
        data = hub.adapter._graphql(query, {"tdo": tdo_id, "f": f}, "get")
        return data["temporalDataObject"]["tasks"]  # type: ignore[no-any-return]

    every = tasks(None)
    assert every["count"] == 1
    (record,) = every["records"]
    assert record["id"] == job.subtasks[0].id
    assert record["engine"] == {"categoryId": "67cd1a3e", "state": "active"}
    after = [{"field": "createdDateTime", "fromDateTime": _iso(later)}]
    assert tasks(after)["count"] == 0
    before = [{"field": "createdDateTime", "toDateTime": _iso(later)}]
    assert tasks(before)["count"] == 1
    with pytest.raises(InvalidRequest):
        tasks([{"fromDateTime": "2019-01-01T00:00:00Z"}])  # field is required: a 400
    assert sim.requests[-1].status == 400
    assert sim.simulator.crashes == []


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_a_stateless_worker_cannot_fail_a_finished_task(sim: Sim, hub: VeritoneHub) -> None:
    job = job_of(hub, EXTERNAL_ENGINE)
    task = job.subtasks[0]
    hub.report(task.id, State.SUCCEEDED, job_id=job.id, output={"series": [1]})
    with sim.connect() as fresh:  # a new process, as `taskhub report` is: its Tracker is empty
        sent = len(sim.requests)
        with pytest.raises(InvalidTransition, match="already succeeded"):
            fresh.report(f"veritone:{task.id}", State.FAILED, failure_reason="invalid_data")
        bodies = [json.loads(r.body) for r in sim.requests[sent:]]
    assert [b["query"] for b in bodies] == [doc.GET_TASK]  # one read, no update sent
    assert hub.get(job.id).subtasks[0].state is State.SUCCEEDED
