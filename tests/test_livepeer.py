"""Livepeer: adapter and simulator over loopback, webhooks, and the official SDK."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

import taskhub
from taskhub import (
    Conflict,
    InvalidRequest,
    OutcomeUnknown,
    RateLimited,
    State,
    TaskHub,
    TaskNotFound,
    WebhookRejected,
)
from taskhub.adapters.livepeer import SeenEvents, parse_webhook, sign
from taskhub.adapters.livepeer.simulator import DELETED, FATAL, RETRIABLE
from taskhub.testing import Simulation, simulate
from taskhub.testing.contract import AdapterContract

URL = "https://media.example.com/in.mp4"


class TestLivepeerContract(AdapterContract):
    vendor = "livepeer"

    def submit_spec(self, sim: Simulation) -> dict[str, Any]:
        return {"kind": "upload", "url": URL, "name": "in.mp4"}


@pytest.fixture
def sim() -> Iterator[Simulation]:
    with simulate("livepeer") as running:
        yield running


@pytest.fixture
def hub(sim: Simulation) -> Iterator[TaskHub]:
    with sim.connect(max_retry_time=5) as connected:
        yield connected


def upload(hub: TaskHub, url: str = URL) -> taskhub.Task:
    return hub.submit(kind="upload", url=url, name="in.mp4")


def test_every_phase_goes_through_simulator_and_adapter(sim: Simulation, hub: TaskHub) -> None:
    seen: dict[str, State] = {}
    pending = sim.simulator
    # pending: a direct upload waits for its bytes
    import requests

    answer = requests.post(
        sim.url + "/asset/request-upload",
        json={"name": "d"},
        headers={"Authorization": f"Bearer {pending.api_key}"},
        timeout=5,
    )
    direct = hub.get(answer.json()["task"]["id"])
    seen[direct.status.raw or ""] = direct.state
    task = upload(hub)
    seen[hub.get(task.id).status.raw or ""] = hub.get(task.id).state  # waiting
    sim.clock.advance(2)
    running = hub.get(task.id)
    seen[running.status.raw or ""] = running.state
    sim.clock.advance(10)
    done = hub.get(task.id)
    seen[done.status.raw or ""] = done.state
    failing = upload(hub, "https://media.example.com/fail-fatal.mp4")
    sim.clock.advance(10)
    failed = hub.get(failing.id)
    seen[failed.status.raw or ""] = failed.state
    legacy = upload(hub, "https://media.example.com/other.mp4")
    sim.simulator.force_phase(legacy.id, "cancelled")
    cancelled = hub.get(legacy.id)
    seen[cancelled.status.raw or ""] = cancelled.state
    assert seen == {
        "pending": State.PENDING,
        "waiting": State.QUEUED,
        "running": State.RUNNING,
        "completed": State.SUCCEEDED,
        "failed": State.FAILED,
        "cancelled": State.CANCELLED,
    }


def test_progress_is_capped_and_the_completed_status_is_bare(sim: Simulation, hub: TaskHub) -> None:
    task = upload(hub)
    sim.clock.advance(1 + 3.995)
    running = hub.get(task.id)
    assert running.status.progress is not None
    assert running.status.progress == 0.99  # 0.99875 capped
    assert running.status.retries == 0
    sim.clock.advance(5)
    done = hub.get(task.id)
    assert set(done.raw["status"]) == {"phase", "updatedAt"}
    assert done.status.progress is None
    assert done.finished_at == done.updated_at
    assert done.outputs[0].id == done.raw["outputAssetId"]
    assert done.inputs[0].uri == URL
    assert done.created_at is not None and done.created_at.tzinfo is not None


def test_a_retriable_failure_goes_back_to_waiting_then_succeeds(
    sim: Simulation, hub: TaskHub
) -> None:
    task = upload(hub, "https://media.example.com/fail-retry.mp4")
    sim.clock.advance(2)
    assert hub.get(task.id).state is State.RUNNING
    sim.clock.advance(3.5)
    retrying = hub.get(task.id)
    assert (retrying.state, retrying.status.reason) == (State.QUEUED, "retrying")
    assert (retrying.status.retries, retrying.status.message) == (1, RETRIABLE)
    sim.clock.advance(60)
    assert hub.get(task.id).state is State.SUCCEEDED
    kinds = [t.change.value for t in hub.tracker.history(task.ref)]
    assert kinds == ["first", "advance", "retry", "advance"]


def test_retries_stop_after_two(sim: Simulation, hub: TaskHub) -> None:
    task = upload(hub, "https://media.example.com/fail-always.mp4")
    sim.clock.advance(3600)
    failed = hub.get(task.id)
    assert (failed.state, failed.status.retries, failed.status.message) == (
        State.FAILED,
        2,
        RETRIABLE,
    )


def test_manual_retry_of_a_failed_task(sim: Simulation, hub: TaskHub) -> None:
    task = upload(hub, "https://media.example.com/fail-fatal.mp4")
    with pytest.raises(Conflict, match="not in a retryable state"):
        hub.retry(task.id)
    sim.clock.advance(10)
    assert hub.get(task.id).status.message == FATAL
    again = hub.retry(task.id)
    assert again.state is State.QUEUED
    assert again.status.retries == 0
    sim.clock.advance(10)
    assert hub.get(task.id).state is State.SUCCEEDED


def test_cancel_is_unsupported_but_deleting_the_asset_fails_the_task(
    sim: Simulation, hub: TaskHub
) -> None:
    task = upload(hub)
    with pytest.raises(taskhub.UnsupportedOperation, match="deleting the output asset"):
        hub.cancel(task.id)
    sim.clock.advance(2)
    hub.adapter.delete_asset(task.outputs[0].id)  # type: ignore[attr-defined, arg-type]
    failed = hub.get(task.id)
    assert (failed.state, failed.status.message) == (State.FAILED, DELETED)


def test_submit_kinds(sim: Simulation, hub: TaskHub) -> None:
    transcode = hub.submit(
        kind="transcode-file",
        input={"url": "s3+https://AKIA:s3cret@storage.example/in/a.mp4"},
        storage={"type": "s3", "url": "s3+https://AKIA:s3cret@storage.example/out"},
        outputs={"hls": {"path": "/hls"}, "mp4": {"path": "/mp4"}},
    )
    assert (transcode.kind, transcode.state) == ("transcode-file", State.PENDING)
    assert "s3cret" not in json.dumps(transcode.params)  # the server masks credentials
    clip = hub.submit(kind="clip", playbackId="abcd1234", startTime=1000, endTime=5000)
    assert clip.kind == "clip"
    assert clip.outputs and clip.outputs[0].id
    sim.clock.advance(10)
    done = hub.get(transcode.id)
    assert [a.kind for a in done.outputs] == ["hls", "mp4"]


def test_a_duplicate_url_import_returns_the_existing_task(hub: TaskHub, sim: Simulation) -> None:
    first = upload(hub)
    assert upload(hub).id == first.id
    assert [r.status for r in sim.simulator.log.find("POST", "upload/url")] == [201, 200]


TRANSCODE = {
    "kind": "transcode-file",
    "input": {"url": "https://storage.example/in/a.mp4"},
    "storage": {"type": "s3", "url": "s3+https://storage.example/out"},
    "outputs": {"hls": {"path": "/hls"}},
}


def test_a_lost_submit_is_not_taken_for_an_earlier_identical_one(sim: Simulation) -> None:
    with sim.connect(timeout=0.3) as hub:
        first = hub.submit(**TRANSCODE)
        # The connection drops before the server acts: nothing was created.
        sim.inject("drop", path="/transcode$")
        with pytest.raises(OutcomeUnknown) as lost:
            hub.submit(**TRANSCODE)
        assert len(sim.simulator.tasks) == 1  # type: ignore[attr-defined]
        assert hub.adapter.find_submitted(lost.value.lookup) is None
        assert first.id in lost.value.lookup["known"]
        # The server acts, the answer is lost: the lookup finds the new task, not the first.
        sim.inject("delay", seconds=1.0, path="/transcode$")
        with pytest.raises(OutcomeUnknown) as late:
            hub.submit(**TRANSCODE)
        created = set(sim.simulator.tasks) - {first.id}  # type: ignore[attr-defined]
        found = hub.adapter.find_submitted(late.value.lookup)
        assert found is not None and {found.id} == created
        again = hub.adapter.find_submitted(late.value.lookup)  # asking twice: the same answer
        assert again is not None and again.id == found.id
        # A later identical submit that succeeded is not mistaken for the lost one either.
        later = hub.submit(**TRANSCODE)
        assert hub.adapter.find_submitted(lost.value.lookup) is None
        assert later.id != found.id


def test_identical_submits_it_cannot_tell_apart_are_reported_not_guessed(
    sim: Simulation,
) -> None:
    with sim.connect() as other, sim.connect(timeout=0.3) as hub:
        theirs = other.submit(**TRANSCODE)  # another client, the same input
        sim.inject("delay", seconds=1.0, path="/transcode$")
        with pytest.raises(OutcomeUnknown) as info:
            hub.submit(**TRANSCODE)
        ours = set(sim.simulator.tasks) - {theirs.id}  # type: ignore[attr-defined]
        with pytest.raises(OutcomeUnknown) as ambiguous:
            hub.adapter.find_submitted(info.value.lookup)
        candidates = ambiguous.value.lookup["candidates"]
        assert set(candidates) == ours | {theirs.id}
        assert all(c in str(ambiguous.value) for c in candidates)
        assert "cannot tell" in str(ambiguous.value)


def test_a_retry_that_timed_out_is_not_sent_again(sim: Simulation) -> None:
    with sim.connect(timeout=0.3) as hub:
        task = upload(hub, "https://media.example.com/fail-fatal.mp4")
        sim.clock.advance(10)
        assert hub.get(task.id).state is State.FAILED
        sim.inject("delay", seconds=1.0, path="/retry$")
        with pytest.raises(OutcomeUnknown) as info:
            hub.retry(task.id)
        assert len(sim.simulator.log.find("POST", "/retry")) == 1
        assert "look at its state before retrying again" in str(info.value)
        assert info.value.lookup == {"operation": "retry", "task_id": task.id}
        assert hub.adapter.find_submitted(info.value.lookup) is None
        assert hub.get(task.id).state is State.QUEUED  # the server did act


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"kind": "upload", "name": "x"}, "url"),
        ({"kind": "upload", "url": "ftp://x/y", "name": "x"}, "url"),
        ({"kind": "clip", "playbackId": "p"}, "startTime"),
        ({"kind": "export"}, "kind"),
    ],
)
def test_bad_submissions_are_refused_before_sending(
    hub: TaskHub, sim: Simulation, spec: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidRequest) as info:
        hub.submit(**spec)
    assert info.value.field == field
    assert sim.requests == []


def test_the_server_validates_too(hub: TaskHub) -> None:
    with pytest.raises(InvalidRequest) as info:
        hub.adapter.transport.request("POST", "/asset/upload/url", operation="submit", json={})
    assert info.value.http_status == 422


def test_list_follows_links_and_stops_at_the_undefined_cursor(sim: Simulation) -> None:
    with sim.connect(page_size=3) as hub:
        ids = [upload(hub, f"https://m.example/{n}.mp4").id for n in range(7)]
        listed = [t.id for t in hub.list()]
    assert listed == ids[::-1]  # newest first
    pages = sim.simulator.log.find("GET", "/api/task$")
    assert [r.status for r in pages] == [
        200,
        200,
        200,
    ]  # 3 + 3 + 1, no request for cursor=undefined
    assert "cursor=skip3" in pages[1].query


def test_list_limit_type_and_state(sim: Simulation, hub: TaskHub) -> None:
    for n in range(4):
        upload(hub, f"https://m.example/{n}.mp4")
    hub.submit(kind="clip", playbackId="abcd", startTime=0)
    assert len(list(hub.list(limit=2))) == 2
    assert [t.kind for t in hub.list(type="clip")] == ["clip"]
    sim.clock.advance(10)
    assert len(list(hub.list(state=State.SUCCEEDED))) == 5
    assert list(hub.list(state=State.RUNNING)) == []
    with pytest.raises(InvalidRequest, match="unknown list filter 'phase'"):
        hub.list(phase="running")


def test_link_paging_quirks_on_the_wire(sim: Simulation) -> None:
    import requests

    key = {"Authorization": f"Bearer {sim.simulator.api_key}"}
    with sim.connect() as hub:
        for n in range(3):
            upload(hub, f"https://m.example/{n}.mp4")
    short = requests.get(sim.url + "/task?limit=2&cursor=skip2", headers=key, timeout=5)
    assert 'cursor=undefined>; rel="next"' in short.headers["Link"]
    assert short.headers["Link"].startswith("<http://127.0.0.1")
    end = requests.get(sim.url + "/task?cursor=undefined", headers=key, timeout=5)
    assert end.json() == [] and "Link" not in end.headers
    bad = requests.get(
        sim.url + '/task?filters=[{"id":"phase","value":"running"}]', headers=key, timeout=5
    )
    assert bad.status_code == 400
    assert bad.json() == {"errors": ['error parsing filters: Error: unknown field: "phase"']}
    counted = requests.get(sim.url + "/task?count=1", headers=key, timeout=5)
    assert counted.headers["X-Total-Count"] == "3"


def test_auth_failures_and_foreign_tasks(sim: Simulation, hub: TaskHub) -> None:
    import requests

    assert requests.get(sim.url + "/task", timeout=5).json() == {
        "errors": ["request is not authenticated"]
    }
    task = upload(hub)
    with sim.connect(api_key=sim.simulator.other_api_key) as other:
        with pytest.raises(taskhub.AuthError, match="their own tasks") as info:
            other.get(task.id)
        assert info.value.http_status == 403
        assert list(other.list()) == []
    with pytest.raises(TaskNotFound) as missing:
        hub.get("3f0c2a8e-5d1b-4c7a-9e2f-0b6d8a4c1e77")
    assert missing.value.task_id == "3f0c2a8e-5d1b-4c7a-9e2f-0b6d8a4c1e77"


def test_the_pending_task_quota_is_a_rate_limit() -> None:
    with simulate("livepeer", max_active=1) as sim, sim.connect(max_retries=1) as hub:
        upload(hub)
        with pytest.raises(RateLimited, match="maximum number of pending tasks"):
            upload(hub, "https://m.example/second.mp4")
        assert len(sim.simulator.log.find("POST", "upload/url")) == 3  # 429 is retried for creates


def test_parse_handles_the_documented_examples() -> None:
    hub_adapter = taskhub.registry.load("livepeer")
    example = {
        "id": "3f0c2a8e-5d1b-4c7a-9e2f-0b6d8a4c1e77",
        "type": "upload",
        "createdAt": 1700000000000,
        "scheduledAt": 1700000000040,
        "outputAssetId": "9c8b7a65-4321-4fed-8cba-0123456789ab",
        "params": {"upload": {"url": "https://example.com/in.mp4"}},
        "status": {"phase": "running", "updatedAt": 1700000012000, "retries": 0, "progress": 0.25},
    }
    from taskhub.adapters.livepeer import parse_task

    task = parse_task(example, "lp")
    assert (task.state, task.status.progress, task.kind, task.ref) == (
        State.RUNNING,
        0.25,
        "upload",
        "lp:3f0c2a8e-5d1b-4c7a-9e2f-0b6d8a4c1e77",
    )
    assert hub_adapter.vendor == "livepeer"
    failed = {
        **example,
        "status": {
            "phase": "failed",
            "updatedAt": 1700000250000,
            "retries": 2,
            "errorMessage": "internal error processing file",
        },
    }
    assert parse_task(failed, "lp").status.message == "internal error processing file"
    for bad in (None, [], {"id": "x"}, {"id": 5, "status": {}}, {"id": "x", "status": "running"}):
        with pytest.raises(taskhub.MalformedResponse):
            parse_task(bad, "lp")


# -- webhooks -------------------------------------------------------------------------------

VECTOR_BODY = (
    b'{"id":"5b0e8d1c-3f7a-4c55-9d1e-2a6b7c8d9e01","webhookId":"a1b2c3d4-0000-4000-8000-000000000001",'
    b'"createdAt":1700000100000,"timestamp":1700000100250,"event":"task.updated","payload":{"task":'
    b'{"id":"0f1e2d3c-4b5a-4697-8877-665544332211","type":"upload","snapshot":{"id":'
    b'"0f1e2d3c-4b5a-4697-8877-665544332211","type":"upload","createdAt":1700000000000,'
    b'"outputAssetId":"9c8b7a65-4321-4fed-8cba-0123456789ab","status":{"phase":"running",'
    b'"updatedAt":1700000100000,"retries":0,"progress":0.5}}}}}'
)
VECTOR_HEADER = (
    "t=1700000100250,v1=90c44495a0e80f24bd8e8dc14fc6368a86d55fff6f961c8e48df79fdc41886f3"
)
VECTOR_SECRET = "whsec-demo-secret"


def test_the_documented_test_vector_verifies() -> None:
    assert len(VECTOR_BODY) == 488
    assert sign(VECTOR_BODY, VECTOR_SECRET, 1700000100250) == VECTOR_HEADER
    event = parse_webhook(
        VECTOR_BODY, {"Livepeer-Signature": VECTOR_HEADER}, VECTOR_SECRET, now=1700000100.3
    )
    assert (event.id, event.event) == ("5b0e8d1c-3f7a-4c55-9d1e-2a6b7c8d9e01", "task.updated")
    assert (event.task.state, event.task.status.progress) == (State.RUNNING, 0.5)


@pytest.mark.parametrize(
    ("body", "headers", "secret", "now", "reason"),
    [
        (
            VECTOR_BODY,
            {"Livepeer-Signature": VECTOR_HEADER[:-1] + "0"},
            VECTOR_SECRET,
            1700000100.3,
            "bad_signature",
        ),
        (
            VECTOR_BODY,
            {"Livepeer-Signature": VECTOR_HEADER},
            "another-secret",
            1700000100.3,
            "bad_signature",
        ),
        (
            VECTOR_BODY,
            {"livepeer-signature": VECTOR_HEADER},
            VECTOR_SECRET,
            1700000100.3 + 3600,
            "stale",
        ),
        (VECTOR_BODY, {}, VECTOR_SECRET, 1700000100.3, "missing_signature"),
        (
            VECTOR_BODY,
            {"Livepeer-Signature": "t=1"},
            VECTOR_SECRET,
            1700000100.3,
            "missing_signature",
        ),
        (
            VECTOR_BODY[:-10],
            {"Livepeer-Signature": VECTOR_HEADER},
            VECTOR_SECRET,
            1700000100.3,
            "bad_signature",
        ),
    ],
)
def test_forged_stale_and_truncated_deliveries_are_refused(
    body: bytes, headers: dict[str, str], secret: str, now: float, reason: str
) -> None:
    with pytest.raises(WebhookRejected) as info:
        parse_webhook(body, headers, secret, now=now)
    assert info.value.reason == reason


def test_a_truncated_body_signed_as_sent_is_malformed() -> None:
    body = VECTOR_BODY[:-10]
    with pytest.raises(WebhookRejected) as info:
        parse_webhook(
            body,
            {"Livepeer-Signature": sign(body, "s3cret-key", 1)},
            "s3cret-key",
            now=1700000100.3,
        )
    assert info.value.reason == "malformed"


def test_simulated_deliveries_verify_and_duplicates_are_refused(
    sim: Simulation, hub: TaskHub
) -> None:
    task = upload(hub)
    sim.clock.advance(10)
    seen = SeenEvents()
    secret = "whsec-simulated-0001"
    events = []
    for event in sim.simulator.events():
        body, headers = sim.simulator.delivery(event, secret)
        events.append(parse_webhook(body, headers, secret, now=sim.clock.now(), seen=seen))
    names = [e.event for e in events]
    assert names[0] == "task.spawned" and names[-2:] == ["task.updated", "task.completed"]
    assert events[-1].task.id == task.id and events[-1].task.state is State.SUCCEEDED
    body, headers = sim.simulator.delivery(sim.simulator.events()[-1], secret)  # redelivery
    with pytest.raises(WebhookRejected) as info:
        parse_webhook(body, headers, secret, now=sim.clock.now(), seen=seen)
    assert info.value.reason == "duplicate"


# -- the official SDK ---------------------------------------------------------------------------


def test_the_official_sdk_works_against_the_simulator(sim: Simulation, hub: TaskHub) -> None:
    from livepeer import Livepeer

    task = upload(hub)
    sim.clock.advance(2)
    client = Livepeer(api_key=sim.simulator.api_key, server_url=sim.url)
    got = client.task.get(task_id=task.id)
    assert got.task is not None
    assert got.task.id == task.id
    assert got.task.status.phase.value == "running"
    sim.clock.advance(10)
    done = client.task.get(task_id=task.id)
    assert done.task is not None and done.task.status.phase.value == "completed"
    listed = client.task.get_all()
    assert [t.id for t in listed.data] == [task.id]
    hub.submit(kind="clip", playbackId="abcd", startTime=0)
    hub.submit(
        kind="transcode-file",
        input={"url": "https://x/in.mp4"},
        storage={"type": "s3", "url": "s3+https://k:s@h/b"},
        outputs={"hls": {"path": "/h"}},
    )
    sim.clock.advance(10)
    assert len(client.task.get_all().data) == 3


def test_deliveries_reach_a_receiver_over_http(sim: Simulation, hub: TaskHub) -> None:
    from taskhub.testing import SimServer

    received: list[tuple[bytes, dict[str, str]]] = []

    def receiver(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        headers = {
            k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        received.append((environ["wsgi.input"].read(length), headers))
        start_response("204 No Content", [])
        return []

    upload(hub)
    sim.clock.advance(10)
    with SimServer(receiver) as server:
        statuses = sim.simulator.deliver(server.url + "/hook", "whsec-http-0001")  # type: ignore[attr-defined]
    assert statuses and set(statuses) == {204}
    events = [
        parse_webhook(body, headers, "whsec-http-0001", now=sim.clock.now())
        for body, headers in received
    ]
    assert events[-1].event == "task.completed"
    assert received[0][1]["User-Agent"] == "livepeer.studio"


def test_webhook_refusals_with_their_reasons() -> None:
    secret = "whsec-figures-0001"
    body = VECTOR_BODY
    good = {"Livepeer-Signature": sign(body, secret, 1700000100250)}
    now = 1700000100.3
    seen = SeenEvents()
    cases = {
        "forged signature": (body, {"Livepeer-Signature": "t=1,v1=" + "0" * 64}, secret, now),
        "wrong secret": (body, good, "another-secret", now),
        "stale timestamp (replay)": (body, good, secret, now + 3600),
        "truncated body": (body[:-40], good, secret, now),
        "no signature": (body, {}, secret, now),
    }
    reasons = {}
    for name, (raw, headers, key, at) in cases.items():
        with pytest.raises(WebhookRejected) as info:
            parse_webhook(raw, headers, key, now=at, seen=seen)
        reasons[name] = info.value.reason
    parse_webhook(body, good, secret, now=now, seen=seen)
    with pytest.raises(WebhookRejected) as duplicate:
        parse_webhook(body, good, secret, now=now, seen=seen)
    reasons["duplicate event id"] = duplicate.value.reason
    assert reasons == {
        "forged signature": "bad_signature",
        "wrong secret": "bad_signature",
        "stale timestamp (replay)": "stale",
        "truncated body": "bad_signature",
        "no signature": "missing_signature",
        "duplicate event id": "duplicate",
    }
    print(f"\nwebhooks: {len(reasons)} kinds of bad delivery refused: {reasons}")
