"""Veritone Edge simulator off the happy path: paging, filters and bodies as the spec has them.

Issue 21, findings E1-E5. Evidence: the aiWARE Edge OpenAPI document 3.15.2
(../shared/vendors/veritone-edge.md sections 5, 6 and 8); where it is silent the simulator refuses
with the vendor's usual 400 ``Error`` body, and docs/vendors/veritone-edge.md says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from taskhub.adapters.veritone_edge.hub import EdgeHub
from taskhub.adapters.veritone_edge.simulator import ENGINE, OUTPUT_WRITER, EdgeSimulator
from taskhub.testing import Simulation, simulate

Sim = Simulation[EdgeSimulator, EdgeHub]
DETECTION = "1a2b3c4d-0000-4000-8000-00000000e002"
INT64_OVER = str(2**63)


@pytest.fixture
def sim() -> Iterator[Sim]:
    with simulate("veritone-edge") as running:
        yield running


def call(sim: Sim, method: str, path: str, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {sim.simulator.token}"}
    return requests.request(method, sim.url + path, headers=headers, timeout=5, **kwargs)


def create(sim: Sim, **job: Any) -> str:
    body = {"jobs": [{"tasks": [{"engineId": ENGINE}], **job}]}
    answer = call(sim, "POST", "/proc/job/create", json=body)
    assert answer.status_code == 200, answer.text
    job_id: str = answer.json()["internalJobIds"][0]
    return job_id


def jobs(sim: Sim, **params: Any) -> list[str]:
    answer = call(sim, "GET", "/proc/jobs", params=params)
    assert answer.status_code == 200, answer.text
    return [j["internalJobID"] for j in answer.json()["result"]]


def engines(sim: Sim, **params: Any) -> list[str]:
    answer = call(sim, "GET", "/admin/engines", params=params)
    assert answer.status_code == 200, answer.text
    return [e["engineID"] for e in answer.json()["result"]]


def refused(sim: Sim, path: str, params: dict[str, Any], word: str) -> None:
    answer = call(sim, "GET", path, params=params)
    assert answer.status_code == 400, (params, answer.text)
    body = answer.json()
    assert set(body) == {"id", "description", "detail"}
    assert word in body["description"], body


# -- E1: paging is refused, never sliced ------------------------------------------------------


@pytest.mark.parametrize("path", ["/proc/jobs", "/admin/engines"])
@pytest.mark.parametrize(
    "params",
    [
        {"offset": "-1"},
        {"limit": "-1"},
        {"offset": INT64_OVER},
        {"limit": INT64_OVER},
        {"offset": "1.5"},
        {"limit": "ten"},
    ],
)
def test_invalid_paging_is_a_400_not_a_python_slice(
    sim: Sim, path: str, params: dict[str, str]
) -> None:
    create(sim)
    create(sim)
    refused(sim, path, params, next(iter(params)))


def test_paging_walks_every_row_once(sim: Sim) -> None:
    made = [create(sim) for _ in range(5)]
    seen = jobs(sim, offset=0, limit=2) + jobs(sim, offset=2, limit=2) + jobs(sim, offset=4)
    assert seen == made[::-1]
    assert jobs(sim, offset=9) == []
    assert jobs(sim, limit=0) == []
    assert engines(sim, offset=1, limit=1) == [OUTPUT_WRITER]


# -- E2: every documented /proc/jobs filter is implemented and type-checked ---------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("startTime", "abc"),
        ("startTime", INT64_OVER),
        ("endTime", "1.0"),
        ("modifiedAfter", INT64_OVER),
        ("CreatedBefore", "soon"),
        ("coreID", "nope"),
        ("recordingID", "42"),
        ("status", "done"),
        ("orderBy", "nonsense"),
        ("direction", "sideways"),
    ],
)
def test_job_filters_are_type_checked(sim: Sim, name: str, value: str) -> None:
    refused(sim, "/proc/jobs", {name: value}, name)


def test_job_filters_keep_only_what_they_name(sim: Sim) -> None:
    core = "6f1c2a4e-1111-4222-8333-944455556666"
    plain = create(sim)
    sim.clock.advance(10)
    tagged = create(sim, coreID=core, coreJobID="core-7", coreRecordingID=42)
    created = int(sim.clock.now())
    assert jobs(sim, coreJobID="nope") == []
    assert jobs(sim, coreJobID="core-7") == [tagged]
    assert jobs(sim, coreID=core) == [tagged]
    assert jobs(sim, coreID="00000000-0000-4000-8000-000000000000") == []
    # The filter is a UUID, a job's recording id an int64: no job ever matches one.
    assert jobs(sim, recordingID="00000000-0000-4000-8000-000000000042") == []
    assert jobs(sim, endTime=1) == []
    assert jobs(sim, startTime=created) == [tagged]
    assert jobs(sim, endTime=created - 1) == [plain]
    assert jobs(sim, startTime=created - 10, endTime=created) == [tagged, plain]


def test_jobs_sort_by_the_named_field_in_either_direction(sim: Sim) -> None:
    first = create(sim)
    sim.clock.advance(5)
    second = create(sim)
    sim.clock.advance(5)
    # Moving the first job's task makes it the latest modified.
    task = call(sim, "GET", f"/proc/job/{first}/detail").json()["job"]["tasks"][0]
    update = {"taskIDs": [task["internalTaskID"]], "taskStatus": "running"}
    assert call(sim, "POST", "/proc/tasks/update_status", json=update).status_code == 200
    assert jobs(sim) == [second, first]
    assert jobs(sim, direction="ASC") == [first, second]
    assert jobs(sim, orderBy="modifiedDateTime") == [first, second]
    assert jobs(sim, orderBy="modifiedDateTime", direction="asc") == [second, first]


# -- E3: every documented /admin/engines filter is implemented ---------------------------------


def test_engine_filters_keep_only_what_they_name(sim: Sim) -> None:
    everything = engines(sim)
    assert len(everything) == 3
    assert engines(sim, engineType="stream") == [DETECTION]
    assert engines(sim, engineOutputType="chunk") == [ENGINE, OUTPUT_WRITER]
    assert engines(sim, engineName="output") == [OUTPUT_WRITER]
    assert engines(sim, engineName="no such engine") == []
    assert engines(sim, engineState="paused") == []
    assert engines(sim, engineIDs=f"{DETECTION},{ENGINE}") == [ENGINE, DETECTION]
    assert engines(sim, preload="true") == []
    assert engines(sim, preload="false") == everything
    organization = sim.simulator.organization
    assert engines(sim, internalOrganizationID=organization) == everything
    assert engines(sim, internalOrganizationID="00000000-0000-4000-8000-000000000000") == []
    category = call(sim, "GET", "/admin/engines").json()["result"][0]["engineCategoryID"]
    assert engines(sim, engineCategoryID=category) == [ENGINE]
    assert engines(sim, endTime=1) == []
    assert engines(sim, orderBy="name") == [ENGINE, DETECTION, OUTPUT_WRITER]
    assert engines(sim, orderBy="name", direction="ASC") == [OUTPUT_WRITER, DETECTION, ENGINE]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("engineType", "video"),
        ("engineState", "on"),
        ("preload", "yes"),
        ("internalOrganizationID", "org"),
        ("startTime", "x"),
        ("orderBy", "engineName"),
    ],
)
def test_engine_filters_are_type_checked(sim: Sim, name: str, value: str) -> None:
    refused(sim, "/admin/engines", {name: value}, name)


# -- E4: a 204 says it is JSON, as the spec declares ---------------------------------------------


def test_deletes_answer_204_with_the_declared_content_type(sim: Sim) -> None:
    job = create(sim)
    body = {"jobs": [{"tasks": [{"engineId": ENGINE}, {"engineId": OUTPUT_WRITER}]}]}
    other = call(sim, "POST", "/proc/job/create", json=body).json()["internalJobIds"][0]
    task = call(sim, "GET", f"/proc/job/{other}/detail").json()["job"]["tasks"][0]
    for path in (f"/proc/job/{job}/delete", f"/proc/task/{task['internalTaskID']}/delete"):
        answer = call(sim, "POST", path)
        assert answer.status_code == 204
        assert answer.content == b""
        assert answer.headers["Content-Type"] == "application/json"


# -- E5: what the spec allows is accepted ------------------------------------------------------


def test_an_empty_job_config_is_no_config(sim: Sim) -> None:
    job = create(sim, jobConfigJSON="")
    detail = call(sim, "GET", f"/proc/job/{job}/detail").json()["job"]
    assert "jobConfigJSON" not in detail
    body = {"jobs": [{"tasks": [{"engineId": ENGINE, "payloadJSON": "", "taskPayloadJSON": ""}]}]}
    assert call(sim, "POST", "/proc/job/create", json=body).status_code == 200


def test_a_status_update_without_ids_or_status_changes_nothing(sim: Sim) -> None:
    """Neither field is required by the spec: what is missing is not changed."""
    job = create(sim)
    task = call(sim, "GET", f"/proc/job/{job}/detail").json()["job"]["tasks"][0]
    bodies: list[dict[str, Any]] = [
        {},
        {"taskIDs": []},
        {"taskStatus": "complete"},
        {"taskIDs": [task["internalTaskID"]]},
    ]
    for body in bodies:
        answer = call(sim, "POST", "/proc/tasks/update_status", json=body)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"success": True}
    assert call(sim, "GET", f"/proc/job/{job}/status").json()["job"]["jobStatus"] == "pending"
    unknown = {"taskIDs": ["00000000-0000-4000-8000-000000000000"]}
    assert call(sim, "POST", "/proc/tasks/update_status", json=unknown).status_code == 404


def test_an_undeclared_method_is_405_with_allow(sim: Sim) -> None:
    """RFC 9110: a 405 names the methods the resource takes."""
    answer = call(sim, "DELETE", "/proc/jobs")
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "GET, HEAD"
    assert set(answer.json()) == {"id", "description", "detail"}
