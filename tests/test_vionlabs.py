"""Vionlabs: adapter and simulator over loopback, the triple id, failures, the catalog."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import taskhub
from taskhub import AuthError, InvalidRequest, State, TaskHub, TaskNotFound
from taskhub.adapters.vionlabs import make_id, split_id
from taskhub.adapters.vionlabs.simulator import NOT_FOUND, PROBE, TOO_SHORT
from taskhub.testing import Simulation, simulate
from taskhub.testing.contract import AdapterContract


def ingest(sim: Simulation, item_id: str = "m-1", url: str = "s3://bucket/m-1.mp4") -> None:
    sim.simulator.add_item(  # type: ignore[attr-defined]
        {"id": item_id, "type": "standalone", "title": "A film", "asset_url": url}
    )


class TestVionlabsContract(AdapterContract):
    vendor = "vionlabs"
    unknown_id = "never-ingested/markers/1.0.1"

    def submit_spec(self, sim: Simulation) -> dict[str, Any]:
        ingest(sim)
        return {"inventory_id": "m-1", "product": "markers", "version": "1.0.1"}


@pytest.fixture
def sim() -> Iterator[Simulation]:
    with simulate("vionlabs") as running:
        yield running


@pytest.fixture
def hub(sim: Simulation) -> Iterator[TaskHub]:
    with sim.connect(max_retry_time=5) as connected:
        yield connected


_PART = st.text(min_size=1).filter(
    lambda p: "/" not in p and p not in (".", "..") and all(ord(c) >= 32 for c in p)
)


@given(_PART, _PART, _PART)
def test_the_task_id_round_trips_any_addressable_triple(
    inventory_id: str, product: str, version: str
) -> None:
    task_id = make_id(inventory_id, product, version)
    assert split_id(task_id) == (inventory_id, product, version)
    assert task_id.count("/") == 2


@pytest.mark.parametrize("inventory_id", ["series/7", ".", "..", "a\nb"])
def test_an_inventory_id_the_api_cannot_address_is_refused(inventory_id: str) -> None:
    # The API decodes the path before routing, so '/' (even as %2F) never reaches one item.
    with pytest.raises(InvalidRequest) as info:
        make_id(inventory_id, "markers", "1")
    assert info.value.field == "inventory_id"


@pytest.mark.parametrize(
    "task_id", ["a%2Fb/markers/1", "../markers/1", "a/markers/%2e%2e", "a%41/markers/1", "a?b/x/y"]
)
def test_an_id_that_would_change_the_path_is_refused_before_any_request(
    sim: Simulation, hub: TaskHub, task_id: str
) -> None:
    with pytest.raises(InvalidRequest):
        hub.get(task_id)
    assert sim.requests == []


@pytest.mark.parametrize("bad", ["", "a/b", "a/b/c/d", "a//c", "/b/c"])
def test_a_malformed_task_id_is_refused(bad: str) -> None:
    with pytest.raises(InvalidRequest, match="not a Vionlabs task id"):
        split_id(bad)


def test_every_status_word_goes_through_simulator_and_adapter(
    sim: Simulation, hub: TaskHub
) -> None:
    ingest(sim)
    task = hub.submit(inventory_id="m-1", product="markers", version="1.0.1")
    seen = {task.status.raw: task.state}
    sim.clock.advance(3)
    running = hub.get(task.id)
    seen[running.status.raw] = running.state
    sim.clock.advance(10)
    done = hub.get(task.id)
    seen[done.status.raw] = done.state
    cancelled = hub.cancel(hub.submit(inventory_id="m-1", product="emotions", version="2").id)
    seen[cancelled.status.raw] = cancelled.state
    for word in ("cancelled", "canceled"):
        sim.simulator.deactivated_status = word  # type: ignore[attr-defined]
        seen[word] = hub.get(cancelled.id).state
    assert seen == {
        "pending": State.QUEUED,
        "processing": State.RUNNING,
        "done": State.SUCCEEDED,
        "deactivated": State.CANCELLED,
        "cancelled": State.CANCELLED,
        "canceled": State.CANCELLED,
    }
    assert (done.kind, done.params["inventory_id"], done.inputs[0].id) == ("markers", "m-1", "m-1")


@pytest.mark.parametrize(
    ("url", "message", "reason"),
    [
        (None, NOT_FOUND, "asset_not_found"),
        ("s3://bucket/corrupt.mp4", PROBE, "probe_failed"),
        ("s3://bucket/short.mp4", TOO_SHORT, "asset_too_short"),
    ],
)
def test_documented_failures_arrive_through_error(
    sim: Simulation, hub: TaskHub, url: str | None, message: str, reason: str
) -> None:
    if url is not None:
        ingest(sim, "m-2", url)
    task = hub.submit(inventory_id="m-2", product="markers", version="1.0.1")
    sim.clock.advance(3)
    failed = hub.get(task.id)
    assert (failed.state, failed.status.reason, failed.status.retryable) == (
        State.FAILED,
        reason,
        False,
    )
    assert failed.status.message == message
    assert failed.status.raw == "processing"  # the word stays; the error decides


def test_ids_with_any_character_survive_the_wire(sim: Simulation, hub: TaskHub) -> None:
    odd = "series 7 ep#1?x=ä%2F&y"
    ingest(sim, odd)
    task = hub.submit(inventory_id=odd, product="scene_tags", version="1.0 beta")
    assert split_id(task.id) == (odd, "scene_tags", "1.0 beta")
    assert hub.get(task.id).params["inventory_id"] == odd


def test_submit_validation_before_sending(sim: Simulation, hub: TaskHub) -> None:
    for spec, field in (
        ({"inventory_id": "m", "product": "mood", "version": "1"}, "product"),
        (
            {"inventory_id": "m", "product": "markers", "version": "1", "priority": "urgent"},
            "priority",
        ),
        ({"inventory_id": "", "product": "markers", "version": "1"}, "inventory_id"),
        ({"inventory_id": "m", "product": "markers", "version": ""}, "version"),
    ):
        with pytest.raises(InvalidRequest) as info:
            hub.submit(**spec)
        assert info.value.field == field
    assert sim.requests == []


def test_the_server_answers_422_with_the_offending_field(sim: Simulation, hub: TaskHub) -> None:
    with pytest.raises(InvalidRequest) as info:
        hub.adapter.transport.request(
            "POST", "/tasks/catalog-item/m/product/mood/version/1", operation="submit", json={}
        )
    assert (info.value.http_status, info.value.field) == (422, "product")
    assert "product: Input should be 'adbreaks'" in info.value.message
    sim.simulator.priorities = ("low",)  # type: ignore[attr-defined]
    with pytest.raises(InvalidRequest) as prio:
        hub.submit(inventory_id="m", product="markers", version="1", priority="high")
    assert prio.value.field == "priority"


def test_auth_by_query_key_or_deprecated_header(sim: Simulation) -> None:
    ingest(sim)
    with sim.connect(auth="header") as hub:
        assert hub.submit(inventory_id="m-1", product="markers", version="1").state is State.QUEUED
    header = sim.requests[-1]
    assert "X-Api-Key" in header.headers and "key=" not in header.query
    with sim.connect() as hub:
        hub.get("m-1/markers/1")
    assert sim.requests[-1].query.startswith("key=")
    with sim.connect(api_key="wrong-key-0000") as bad, pytest.raises(AuthError) as info:
        bad.get("m-1/markers/1")
    assert "wrong-key-0000" not in str(info.value)


def test_reposting_is_a_no_op_and_resubmitting_after_deactivation_restarts(
    sim: Simulation, hub: TaskHub
) -> None:
    ingest(sim)
    first = hub.submit(inventory_id="m-1", product="markers", version="1")
    sim.clock.advance(3)
    assert hub.submit(inventory_id="m-1", product="markers", version="1").state is State.RUNNING
    hub.cancel(first.id)
    hub.tracker.forget(first.ref)
    assert hub.submit(inventory_id="m-1", product="markers", version="1").state is State.QUEUED


def test_unknown_task_and_unsupported_operations(sim: Simulation, hub: TaskHub) -> None:
    with pytest.raises(TaskNotFound) as info:
        hub.get("nope/markers/1")
    assert info.value.task_id == "nope/markers/1"
    with pytest.raises(taskhub.UnsupportedOperation, match="no listing"):
        hub.list()
    with pytest.raises(taskhub.UnsupportedOperation, match="submit the same"):
        hub.retry("m-1/markers/1")


def test_catalog_upsert_list_and_get(sim: Simulation, hub: TaskHub) -> None:
    adapter: Any = hub.adapter
    for n in range(5):
        asset = adapter.upsert_item(
            f"ep-{n}", "episode", f"Episode {n}", asset_url=f"gs://b/{n}.mp4"
        )
        assert asset.kind == "episode"
    assert [a.id for a in adapter.items(page_size=2)] == [f"ep-{n}" for n in range(5)]
    assert len(sim.simulator.log.find("GET", "/catalog/v1/item$")) == 3
    one = adapter.item("episode", "ep-3")
    assert (one.name, one.uri) == ("Episode 3", "gs://b/3.mp4")
    with pytest.raises(InvalidRequest, match="type must be one of"):
        adapter.upsert_item("x", "movie", "X")
    with pytest.raises(TaskNotFound):
        adapter.item("standalone", "ep-3")


def test_automatic_tasks_on_ingestion() -> None:
    with simulate("vionlabs", auto_products=(("markers", "1.0.1"),)) as sim, sim.connect() as hub:
        hub.adapter.upsert_item("m-9", "standalone", "Film")
        sim.clock.advance(10)
        assert hub.get("m-9/markers/1.0.1").state is State.SUCCEEDED


def test_parse_from_links_or_explicit_id(hub: TaskHub) -> None:
    body = {
        "status": "processing",
        "error": None,
        "_links": {
            "self": {
                "href": "/tasks/catalog-item/m-1/product/markers/version/1.0.1",
                "method": "GET",
            }
        },
    }
    assert hub.parse(body).id == "m-1/markers/1.0.1"
    with pytest.raises(taskhub.MalformedResponse, match="names no task"):
        hub.parse({"status": "done"})
    with pytest.raises(taskhub.MalformedResponse):
        hub.parse(["done"])


# -- wire fidelity: routing on the decoded path, request bodies as FastAPI/Pydantic check them --


def _raw(sim: Simulation, method: str, path: str, **kwargs: Any) -> Any:
    import requests

    key = sim.simulator.api_key  # type: ignore[attr-defined]
    return requests.request(method, f"{sim.url}{path}?key={key}", timeout=5, **kwargs)


def test_an_encoded_slash_is_decoded_before_routing_so_the_task_is_unreachable() -> None:
    # The API's framework routes on the decoded path: series%2F7 is series/7 by then, which
    # matches no route. Even a task that exists for the item "series/7" cannot be reached.
    with simulate("vionlabs", auto_products=(("markers", "1"),)) as sim:
        ingest(sim, "series/7")
        assert ("series/7", "markers", "1") in sim.simulator.tasks
        for method in ("GET", "POST", "DELETE"):
            answer = _raw(sim, method, "/tasks/catalog-item/series%2F7/product/markers/version/1")
            assert (answer.status_code, answer.json()) == (404, {"detail": "Not Found"})
        # A literal "%2F" in an id (sent as %252F) is one segment and is reached.
        ingest(sim, "a%2Fb")
        reached = _raw(sim, "POST", "/tasks/catalog-item/a%252Fb/product/markers/version/1")
        assert reached.status_code == 200
        assert reached.json()["_links"]["self"]["href"].startswith("/tasks/catalog-item/a%252Fb/")
        wrong_method = _raw(sim, "PUT", "/tasks/catalog-item/a/product/markers/version/1")
        assert (wrong_method.status_code, wrong_method.json()) == (
            405,
            {"detail": "Method Not Allowed"},
        )


TASK_PATH = "/tasks/catalog-item/m-1/product/markers/version/1"


@pytest.mark.parametrize(
    ("kwargs", "detail"),
    [
        (
            {"json": []},
            [
                {
                    "type": "model_attributes_type",
                    "loc": ["body"],
                    "msg": "Input should be a valid dictionary or object to extract fields from",
                    "input": [],
                }
            ],
        ),
        (
            {"data": b'{"priority": ', "headers": {"Content-Type": "application/json"}},
            [
                {
                    "type": "json_invalid",
                    "loc": ["body", 13],
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": "Expecting value"},
                }
            ],
        ),
        (
            {"data": b"priority=low", "headers": {"Content-Type": "text/plain"}},
            [
                {
                    "type": "model_attributes_type",
                    "loc": ["body"],
                    "msg": "Input should be a valid dictionary or object to extract fields from",
                    "input": "priority=low",
                }
            ],
        ),
        (
            {"json": {"priority": "urgent"}},
            [
                {
                    "type": "enum",
                    "loc": ["body", "priority"],
                    "msg": "Input should be 'low', 'medium' or 'high'",
                    "input": "urgent",
                    "ctx": {"expected": "'low', 'medium' or 'high'"},
                }
            ],
        ),
        ({"json": {"priority": None}}, "enum"),
        ({"json": {"priority": 1}}, "enum"),
    ],
)
def test_the_create_body_is_validated_as_fastapi_does(
    sim: Simulation, kwargs: dict[str, Any], detail: Any
) -> None:
    ingest(sim)
    answer = _raw(sim, "POST", TASK_PATH, **kwargs)
    assert answer.status_code == 422
    if isinstance(detail, str):
        assert [p["type"] for p in answer.json()["detail"]] == [detail]
    else:
        assert answer.json() == {"detail": detail}
    assert sim.simulator.tasks == {}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},  # no body: the default priority
        {"data": b"null", "headers": {"Content-Type": "application/json"}},  # JSON null
        {"json": {}},
        {"json": {"priority": "high", "note": "unknown fields are ignored"}},
        {"data": b'{"priority":"medium"}', "headers": {"Content-Type": "application/vnd.x+json"}},
    ],
)
def test_valid_create_bodies_are_accepted(sim: Simulation, kwargs: dict[str, Any]) -> None:
    ingest(sim)
    answer = _raw(sim, "POST", TASK_PATH, **kwargs)
    assert (answer.status_code, answer.json()["status"]) == (200, "pending")


def test_path_and_body_problems_come_in_one_answer_path_first(sim: Simulation) -> None:
    answer = _raw(
        sim, "POST", "/tasks/catalog-item/m/product/mood/version/1", json={"priority": "x"}
    )
    assert answer.status_code == 422
    assert [(p["type"], p["loc"]) for p in answer.json()["detail"]] == [
        ("enum", ["path", "product"]),
        ("enum", ["body", "priority"]),
    ]
    assert answer.json()["detail"][0]["msg"].endswith("'vertical_conversion' or 'scene_tags'")


def test_a_malformed_body_is_refused_before_the_key_is_checked(sim: Simulation) -> None:
    import requests

    answer = requests.post(sim.url + TASK_PATH, data=b"{", timeout=5)  # no key at all
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["type"] == "json_invalid"
    assert requests.post(sim.url + TASK_PATH, json={}, timeout=5).status_code == 401


def test_the_catalog_item_body_reports_every_problem(sim: Simulation) -> None:
    answer = _raw(sim, "PUT", "/catalog/v1/item", json={"id": "", "type": "movie", "title": 7})
    assert answer.status_code == 422
    assert [(p["type"], p["loc"]) for p in answer.json()["detail"]] == [
        ("string_too_short", ["body", "id"]),
        ("enum", ["body", "type"]),
        ("string_type", ["body", "title"]),
    ]
    missing = _raw(sim, "PUT", "/catalog/v1/item", json={"type": "episode"})
    assert [(p["type"], p["loc"]) for p in missing.json()["detail"]] == [
        ("missing", ["body", "id"]),
        ("missing", ["body", "title"]),
    ]
    assert missing.json()["detail"][0]["input"] == {"type": "episode"}
    empty = _raw(sim, "PUT", "/catalog/v1/item")
    assert empty.json() == {
        "detail": [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]
    }
    assert sim.simulator.items == {}  # type: ignore[attr-defined]
