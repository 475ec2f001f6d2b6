"""Livepeer simulator and adapter off the happy path: repeated imports and odd JSON bodies.

Issue 21, findings L1 and L2. Evidence: livepeer/studio at 670a0a66 --
``packages/api/src/store/asset-table.ts`` (``findDuplicateUrlUpload``,
``DUPLICATE_ASSETS_THRESHOLD``), ``controllers/asset.ts`` (``/upload/url``, ``/request-upload``),
``controllers/transcode.ts``, ``middleware/validators.ts``, ``app-router.ts`` (body-parser's
JSON parser, strict) and ``Dockerfile`` (Node 18, whose JSON.parse words the parser's errors).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from taskhub import OutcomeUnknown, State
from taskhub.adapters.livepeer.hub import LivepeerHub
from taskhub.adapters.livepeer.simulator import LivepeerSimulator
from taskhub.testing import Simulation, simulate

Sim = Simulation[LivepeerSimulator, LivepeerHub]
URL = "https://media.example.com/in.mp4"
STUCK = "https://media.example.com/stuck.mp4"
MINUTE = 60.0


@pytest.fixture
def sim() -> Iterator[Sim]:
    with simulate("livepeer") as running:
        yield running


def call(sim: Sim, method: str, path: str, key: str | None = None, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {key or sim.simulator.api_key}"}
    headers.update(kwargs.pop("headers", {}))
    return requests.request(method, sim.url + path, headers=headers, timeout=5, **kwargs)


def imported(sim: Sim, url: str = URL, key: str | None = None) -> tuple[int, str, str]:
    """POST /asset/upload/url: (status, asset id, task id)."""
    answer = call(sim, "POST", "/asset/upload/url", key, json={"url": url, "name": "in.mp4"})
    assert answer.status_code in (200, 201), answer.text
    body = answer.json()
    return answer.status_code, body["asset"]["id"], body["task"]["id"]


# -- L1: a repeated import is answered with the earlier one only under Studio's rule ------------


def test_a_repeat_while_the_import_waits_or_processes_gets_the_same_asset(sim: Sim) -> None:
    status, asset, task = imported(sim)
    assert status == 201
    assert imported(sim) == (200, asset, task)  # waiting
    sim.clock.advance(2)
    phase = call(sim, "GET", f"/asset/{asset}").json()["status"]["phase"]
    assert phase == "processing"
    assert imported(sim) == (200, asset, task)


def test_a_repeat_after_the_import_finished_is_a_new_import(sim: Sim) -> None:
    _, first, first_task = imported(sim)
    sim.clock.advance(10)
    assert call(sim, "GET", f"/asset/{first}").json()["status"]["phase"] == "ready"
    status, second, second_task = imported(sim)
    assert status == 201
    assert (second, second_task) != (first, first_task)


def test_a_repeat_after_the_import_failed_retries_it_as_a_new_import(sim: Sim) -> None:
    failing = "https://media.example.com/fail-fatal.mp4"
    _, first, _ = imported(sim, failing)
    sim.clock.advance(10)
    assert call(sim, "GET", f"/asset/{first}").json()["status"]["phase"] == "failed"
    status, second, _ = imported(sim, failing)
    assert status == 201 and second != first


def test_a_repeat_after_the_asset_was_deleted_is_a_new_import(sim: Sim) -> None:
    _, first, _ = imported(sim)
    assert call(sim, "DELETE", f"/asset/{first}").status_code == 204
    status, second, _ = imported(sim)
    assert status == 201 and second != first


def test_another_users_import_is_never_a_duplicate(sim: Sim) -> None:
    _, first, _ = imported(sim)
    status, theirs, _ = imported(sim, key=sim.simulator.other_api_key)
    assert status == 201 and theirs != first


def test_a_duplicate_is_one_created_within_the_last_15_minutes(sim: Sim) -> None:
    """``createdAt > Date.now() - DUPLICATE_ASSETS_THRESHOLD``: strictly newer than 15 min."""
    _, first, _ = imported(sim, STUCK)  # waits forever
    sim.clock.advance(15 * MINUTE - 0.001)
    assert imported(sim, STUCK)[:2] == (200, first)
    sim.clock.advance(0.001)
    status, second, _ = imported(sim, STUCK)
    assert status == 201 and second != first


def test_an_active_import_past_the_window_gives_way_to_a_new_one(sim: Sim) -> None:
    """Still waiting, but made more than 15 minutes ago: a repeat makes a new import, and
    further repeats get the new one."""
    _, old, _ = imported(sim, STUCK)
    sim.clock.advance(16 * MINUTE)
    _, new, _ = imported(sim, STUCK)
    assert new != old
    assert imported(sim, STUCK)[:2] == (200, new)  # the old one is past the window


# -- L1: find_submitted after a lost import follows the same rule ---------------------------------


def lost_import(sim: Sim, hub: LivepeerHub, *, reached: bool, url: str = URL) -> OutcomeUnknown:
    """Submit an import whose answer never arrives (``reached``: the server acted first)."""
    sim.inject("delay" if reached else "drop", seconds=1.0, path="/upload/url$", times=1)
    with pytest.raises(OutcomeUnknown) as info:
        hub.submit(kind="upload", url=url, name="in.mp4")
    return info.value


@pytest.mark.parametrize("ending", ["ready", "failed", "deleted"])
def test_a_lost_import_is_not_taken_for_an_earlier_one_that_ended(sim: Sim, ending: str) -> None:
    url = "https://media.example.com/fail-fatal.mp4" if ending == "failed" else URL
    with sim.connect(timeout=0.3) as hub:
        earlier = hub.submit(kind="upload", url=url, name="in.mp4")
        sim.clock.advance(10)
        if ending == "deleted":
            hub.ex_delete_asset(earlier.outputs[0])
        assert hub.get(earlier.id).state is (
            State.FAILED if ending == "failed" else State.SUCCEEDED
        )
        # The request never reached the server: nothing was done for it.
        lost = lost_import(sim, hub, reached=False, url=url)
        assert len(sim.simulator.tasks) == 1
        assert hub.adapter.find_submitted(lost.lookup) is None
        # It reached the server, which made a new import: that is the submit's task.
        late = lost_import(sim, hub, reached=True, url=url)
        made = set(sim.simulator.tasks) - {earlier.id}
        found = hub.adapter.find_submitted(late.lookup)
        assert found is not None and {found.id} == made


def test_a_lost_import_of_a_url_still_importing_is_that_import(sim: Sim) -> None:
    """The server answers a repeat with the active import: whether or not the lost request
    arrived, that import is the submit's work, even though it was handed out before."""
    with sim.connect(timeout=0.3) as hub:
        earlier = hub.submit(kind="upload", url=URL, name="in.mp4")
        for reached in (False, True):
            lost = lost_import(sim, hub, reached=reached)
            found = hub.adapter.find_submitted(lost.lookup)
            assert found is not None and found.id == earlier.id
        assert len(sim.simulator.tasks) == 1


def test_a_lost_import_is_not_another_users_import(sim: Sim) -> None:
    with sim.connect(api_key=sim.simulator.other_api_key) as other:
        other.submit(kind="upload", url=URL, name="in.mp4")
    with sim.connect(timeout=0.3) as hub:
        lost = lost_import(sim, hub, reached=False)
        assert hub.adapter.find_submitted(lost.lookup) is None


def test_a_lost_import_past_the_15_minutes_is_a_new_import(sim: Sim) -> None:
    with sim.connect(timeout=0.3) as hub:
        earlier = hub.submit(kind="upload", url=STUCK, name="in.mp4")
        lost = lost_import(sim, hub, reached=False, url=STUCK)
        assert hub.adapter.find_submitted(lost.lookup) == hub.get(earlier.id)
        # The same lost submit, made 15 minutes later by both clocks: the server would not
        # have answered it with the earlier import, still waiting but too old.
        sim.clock.advance(15 * MINUTE)
        later = {**lost.lookup, "created_after": lost.lookup["created_after"] + 15 * 60_000}
        assert hub.get(earlier.id).state is State.QUEUED
        assert hub.adapter.find_submitted(later) is None


# -- L2: bodies that are not JSON objects, as the server's parser and validator take them ------


@pytest.mark.parametrize(
    ("body", "word"),
    [("null", "n"), ("123", "1"), ('"name"', '"'), ("true", "t"), ("  false", "f")],
)
@pytest.mark.parametrize(
    "path", ["/asset/upload/url", "/asset/request-upload", "/transcode", "/clip"]
)
def test_json_that_is_no_object_or_array_is_refused_by_the_parser(
    sim: Sim, path: str, body: str, word: str
) -> None:
    answer = call(sim, "POST", path, data=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    position = len(body) - len(body.lstrip())
    assert answer.json() == {"errors": [f"Unexpected token {word} in JSON at position {position}"]}


def test_an_array_passes_a_payload_schema_without_a_type_and_meets_the_handler(
    sim: Sim,
) -> None:
    """new-asset-from-url-payload, new-asset-payload and transcode-payload declare no type,
    so the validator passes an array; each handler then does what it does with one."""
    url = call(sim, "POST", "/asset/upload/url", json=[])
    assert url.status_code == 422
    assert url.json() == {"errors": ['Must provide a "url" field for the asset contents']}
    upload = call(sim, "POST", "/asset/request-upload", json=[])
    assert upload.status_code == 200
    assert "name" not in upload.json()["asset"]  # an asset made from nothing has no name
    transcode = call(sim, "POST", "/transcode", json=[])
    assert transcode.status_code == 500
    assert transcode.json() == {"errors": ["Internal server error: TypeError"]}
    assert sim.simulator.crashes == []


@pytest.mark.parametrize("path", ["/clip", "/stream"])
def test_an_array_fails_a_payload_schema_typed_object(sim: Sim, path: str) -> None:
    answer = call(sim, "POST", path, json=[])
    assert answer.status_code == 422
    (error,) = answer.json()["errors"]
    assert '"schemaPath":"#/type"' in error and '"message":"must be object"' in error


# -- the answers around the routes, as Express and its middleware give them --------------------


def test_a_method_no_route_takes_is_not_found_and_options_is_a_preflight(sim: Sim) -> None:
    for method, path in (("TRACE", "/task"), ("PUT", "/asset"), ("DELETE", "/stream/x")):
        answer = call(sim, method, path)
        assert (answer.status_code, answer.json()) == (404, {"errors": ["not found"]})
    preflight = requests.options(sim.url + "/task", timeout=5)  # no credentials either
    assert preflight.status_code == 204
    assert preflight.content == b"" and "Allow" not in preflight.headers


def test_a_write_only_asset_field_is_kept_but_never_shown(sim: Sim) -> None:
    body = {"url": URL, "name": "in.mp4", "staticMp4": True}
    made = call(sim, "POST", "/asset/upload/url", json=body).json()
    assert "staticMp4" not in made["asset"]
    assert "staticMp4" not in call(sim, "GET", f"/asset/{made['asset']['id']}").json()
