"""Veritone Edge conformance: every body the adapter and simulator exchange, against the spec.

Evidence: ``veritone-edge-openapi-3.15.2.yaml`` in ``../shared/reference`` (aiWARE Edge API,
OpenAPI 3.0.1, version 3.15.2.2224; veritone/docs ``src/docs/apis/edge/openapi.yaml`` at commit
63e0f0db). The reference folder is not part of the project: without it these tests are skipped.

The spec's schemas are turned into JSON Schema (draft 4, which OpenAPI 3.0 follows) with
OpenAPI 3.0's rules: ``$ref`` replaces its siblings, and ``null`` is valid only where
``nullable: true`` says so (nowhere in the operations used here). Two checks are stricter than
the spec, to keep both sides honest: an object may carry only the properties its schema names
(unless the schema says ``additionalProperties``), and the ``json`` format means JSON text.
"""

from __future__ import annotations

import base64
import copy
import importlib
import json
import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import attrs
import pytest
import requests
from werkzeug.wrappers import Request, Response

from taskhub import State, TaskNotFound
from taskhub.adapters.veritone_edge.simulator import ENGINE, OUTPUT_WRITER, REQUEST_SCHEMAS
from taskhub.testing import Simulation, simulate

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
SPEC = REFERENCE / "veritone-edge-openapi-3.15.2.yaml"
BASE = "/edge/v1"
ORGANIZATION = "5b1e3c1e-8b53-4a52-9f7e-6a7d1c0e1f22"
#: The spec's ``required`` lists name two properties by a spelling the schema does not have
#: (../shared/vendors/veritone-edge.md section 10, "Required-name mismatch"); they are read as
#: the property they evidently mean.
REQUIRED_SPELLINGS = {
    ("JobDetail", "internalOrganizationId"): "internalOrganizationID",
    ("TaskDetail", "engineId"): "engineID",
}
#: What a create request without ``internalOrganizationID`` breaks, and nothing else may: the
#: spec requires it, every documented create example omits it (docs/vendors/veritone-edge.md).
NO_ORGANIZATION = "request jobs/0: 'internalOrganizationID' is a required property"


def _module(name: str) -> Any:
    """PyYAML and jsonschema (test extra) ship no type information."""
    return importlib.import_module(name)


jsonschema = _module("jsonschema")


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    if not SPEC.is_file():
        pytest.skip(f"no Edge OpenAPI document at {SPEC} (the reference folder is absent)")
    document: dict[str, Any] = _module("yaml").safe_load(SPEC.read_text(encoding="utf-8"))
    return document


# -- OpenAPI 3.0 schema -> JSON Schema ----------------------------------------------------------

_DROPPED = {
    "description",
    "example",
    "default",
    "readOnly",
    "writeOnly",
    "xml",
    "externalDocs",
    "deprecated",
    "discriminator",
    "nullable",
    "title",
}


def _convert(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return {"$ref": node["$ref"]}  # OpenAPI 3.0: a reference replaces its siblings
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED or key.startswith("x-"):
            continue
        if key == "properties":
            out[key] = {name: _convert(part) for name, part in value.items()}
        elif key in ("items", "not") or (key == "additionalProperties" and isinstance(value, dict)):
            out[key] = _convert(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [_convert(part) for part in value]
        else:
            out[key] = value
    if node.get("nullable") is True:
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    if out.get("type") == "object" and "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False  # stricter than the spec: no unnamed property
    return out


def _corrected(spec: dict[str, Any]) -> dict[str, Any]:
    schemas: dict[str, Any] = copy.deepcopy(spec["components"]["schemas"])
    for (name, wrong), right in REQUIRED_SPELLINGS.items():
        schema = schemas[name]
        assert wrong in schema["required"] and wrong not in schema["properties"], name
        assert right in schema["properties"], name
        schema["required"] = [right if r == wrong else r for r in schema["required"]]
    return schemas


def _formats() -> Any:
    checker = jsonschema.FormatChecker(formats=())

    def text(check: Any) -> Any:
        return lambda value: not isinstance(value, str) or check(value)

    def number(bound: int) -> Any:
        return lambda value: not isinstance(value, int) or -bound <= value < bound

    def rfc3339(value: str) -> bool:
        pattern = r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)"
        if not re.fullmatch(pattern, value):
            return False
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        return True

    def json_text(value: str) -> bool:
        json.loads(value)
        return True

    def is_uuid(value: str) -> bool:
        return (
            re.fullmatch(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", value) is not None
        )

    def byte(value: str) -> bool:
        base64.b64decode(value, validate=True)
        return True

    raises = (ValueError, TypeError)
    checker.checks("uuid")(text(is_uuid))
    checker.checks("date-time", raises=raises)(text(rfc3339))
    checker.checks("json", raises=raises)(text(json_text))
    checker.checks("JSON", raises=raises)(text(json_text))
    checker.checks("byte", raises=raises)(text(byte))
    checker.checks("int32")(number(2**31))
    checker.checks("int64")(number(2**63))
    return checker


class Conformance:
    """Validates exchanges against the operations of the spec."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.root = {
            "components": {
                "schemas": {n: _convert(s) for n, s in _corrected(spec).items()},
            }
        }
        self.checker = _formats()
        self.operations: list[tuple[re.Pattern[str], str, dict[str, Any]]] = []
        for template, item in spec["paths"].items():
            pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(BASE + template))
            self.operations.append((re.compile(pattern), template, item))

    def problems(self, schema: Any, value: Any, where: str) -> list[str]:
        validator = jsonschema.Draft4Validator(
            {**self.root, **_convert(schema)}, format_checker=self.checker
        )
        return [
            f"{where} {'/'.join(map(str, e.absolute_path))}: {e.message}".replace(" : ", ": ")
            for e in validator.iter_errors(value)
        ]

    def _parameter(self, node: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in node:
            name = node["$ref"].removeprefix("#/components/parameters/")
            found: dict[str, Any] = self.spec["components"]["parameters"][name]
            return found
        return node

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any], dict[str, str]]:
        for pattern, template, item in self.operations:
            match = pattern.fullmatch(path)
            if match and method.lower() in item:
                parameters = [
                    self._parameter(p)
                    for p in item.get("parameters", []) + item[method.lower()].get("parameters", [])
                ]
                operation = {**item[method.lower()], "parameters": parameters}
                return template, operation, {k: unquote(v) for k, v in match.groupdict().items()}
        raise AssertionError(f"{method} {path} is not an operation of the spec")

    def check(self, exchange: Exchange) -> list[str]:
        """Everything about one exchange that the spec does not allow."""
        template, operation, path_values = self.operation(exchange.method, exchange.path)
        where = f"{exchange.method} {template}"
        found: list[str] = []
        declared = {(p["in"], p["name"]): p for p in operation["parameters"]}
        for name, value in path_values.items():
            found += self.problems(declared[("path", name)]["schema"], value, f"{where} {name}")
        for name, text in parse_qsl(exchange.query, keep_blank_values=True):
            parameter = declared.get(("query", name))
            if parameter is None:
                found.append(f"{where}: query parameter {name} is not in the spec")
                continue
            query: Any = text
            if parameter["schema"].get("type") == "integer":
                query = int(text) if re.fullmatch(r"-?\d+", text) else text
            found += self.problems(parameter["schema"], query, f"{where} {name}")
        body = operation.get("requestBody")
        if exchange.request:
            if body is None:
                found.append(f"{where}: sent a body, the spec declares none")
            else:
                schema = body["content"]["application/json"]["schema"]
                found += self.problems(schema, json.loads(exchange.request), f"{where} request")
        elif body is not None and body.get("required"):
            found.append(f"{where}: the spec requires a request body")
        responses = {str(code): answer for code, answer in operation["responses"].items()}
        answer = responses.get(str(exchange.status))
        if answer is None:
            return [*found, f"{where}: HTTP {exchange.status} is not a declared answer"]
        if exchange.status == 204:
            # The spec declares a body on 204 (AdminOperationResponse); HTTP 204 has none.
            if exchange.response:
                found.append(f"{where}: a body on HTTP 204")
            return found
        schema = answer["content"]["application/json"]["schema"]
        found += self.problems(schema, json.loads(exchange.response), f"{where} {exchange.status}")
        return found


@attrs.frozen
class Exchange:
    method: str
    path: str
    query: str
    request: bytes
    status: int
    response: bytes


@pytest.fixture
def sim() -> Iterator[Simulation]:
    with simulate("veritone-edge") as running:
        yield running


@pytest.fixture
def exchanges(sim: Simulation) -> list[Exchange]:
    """Every request the simulator handles, with its answer (fault-free ones only)."""
    seen: list[Exchange] = []
    handle = sim.simulator.handle

    def recording(request: Request) -> Response:
        response = handle(request)
        seen.append(
            Exchange(
                request.method,
                request.path,
                request.query_string.decode("latin-1"),
                request.get_data(cache=True),
                response.status_code,
                response.get_data(),
            )
        )
        return response

    sim.simulator.handle = recording  # type: ignore[method-assign]
    return seen


def _lifecycle(sim: Simulation, organization: str | None) -> set[str]:
    """Every operation taskhub uses, and the rest the simulator serves, once or more."""
    s: Any = sim.simulator
    options: dict[str, Any] = {"max_retry_time": 5}
    if organization:
        options["organization_id"] = organization
    with sim.connect(**options) as hub:
        adapter: Any = hub.adapter
        job = hub.submit(
            tasks=[
                {
                    "engineId": ENGINE,
                    "correlationTaskId": "t1",
                    "payload": {"url": "https://media.example.com/in.txt"},
                    "ioFolders": [{"correlationID": "t1-out", "mode": "chunk", "type": "output"}],
                    "priority": -10,
                    "maxRetries": 10,
                    "dueDateTime": "2020-02-18T20:49:18.331Z",
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
            jobConfigJSON='{"note": "conformance"}',
        )
        failing = hub.submit(tasks=[{"engineId": ENGINE, "payload": {"simulate": "fail"}}])
        assert [j.id for j in hub.list()] == [failing.id, job.id]
        sim.clock.advance(1)
        list(hub.list(state=State.RUNNING))
        worked = hub.submit(tasks=[{"engineId": ENGINE, "taskPayload": {"language": "en"}}])
        hub.report(worked.subtasks[0].id, State.RUNNING)
        hub.report(worked.subtasks[0].id, State.FAILED)
        sim.clock.advance(30)
        done = hub.get(job.id)  # detail, then outputs: the job is complete
        assert done.state is State.SUCCEEDED
        assert hub.get(failing.id).subtasks[0].status.reason == "bad_data"
        (output,) = done.outputs
        assert output.name is not None
        assert json.loads(adapter.output(job.id, output.name))["schemaId"] == "vtn-standard"
        adapter.engines()
        task_id = done.subtasks[0].id
        for path in (
            f"/proc/job/{job.id}/status",
            f"/proc/job/{job.id}/download/{output.name}",
            f"/proc/task/{task_id}/detail",
            f"/proc/task/{task_id}/outputs",
        ):
            adapter._json("GET", path, "conformance")
        ids = [job.id, failing.id, worked.id]
        list(adapter.refresh(ids))  # a full read, then what changed since (modifiedAfter)
        sim.clock.advance(1)
        list(adapter.refresh(ids))
        adapter._call("POST", f"/proc/task/{failing.subtasks[0].id}/delete", "conformance")
        adapter.delete_job(job.id)
        with pytest.raises(TaskNotFound):
            hub.get(job.id)  # 404, an Error body
    # Refusals, in the Error shape: an unknown engine (400), no credentials (401).
    token = {"Authorization": f"Bearer {s.token}"}
    detail: dict[str, Any] = {"tasks": [{"engineId": str(uuid.UUID(int=7, version=4))}]}
    if organization:
        detail["internalOrganizationID"] = organization
    unknown = {"jobs": [detail]}
    bad = requests.post(sim.url + "/proc/job/create", json=unknown, headers=token, timeout=5)
    assert bad.status_code == 400
    assert requests.get(sim.url + "/proc/jobs", timeout=5).status_code == 401
    return {"create", "list", "detail", "status", "outputs", "output", "download"}


@pytest.mark.parametrize("organization", [ORGANIZATION, None], ids=["with-org", "without-org"])
def test_every_exchange_of_a_full_lifecycle_follows_the_spec(
    spec: dict[str, Any], sim: Simulation, exchanges: list[Exchange], organization: str | None
) -> None:
    """Create (several shapes), list (filtered too), job and task detail, status update, job
    status, outputs, output, download, engines, task and job delete, and the 400/401/404
    answers: every request and response body, path and query parameter matches the spec's
    schemas. Without ``organization_id`` the one difference is the documented omission of
    ``internalOrganizationID``; with it, there is none."""
    _lifecycle(sim, organization)
    conformance = Conformance(spec)
    problems = [p for e in exchanges for p in conformance.check(e)]
    templates = {
        f"{e.method} {conformance.operation(e.method, e.path)[0]} {e.status}" for e in exchanges
    }
    assert templates >= {
        "POST /proc/job/create 200",
        "POST /proc/job/create 400",
        "GET /proc/jobs 200",
        "GET /proc/jobs 401",
        "GET /proc/job/{JobID}/detail 200",
        "GET /proc/job/{JobID}/detail 404",
        "GET /proc/job/{JobID}/status 200",
        "GET /proc/job/{JobID}/outputs 200",
        "GET /proc/job/{JobID}/output/{JobOutputName} 200",
        "GET /proc/job/{JobID}/download/{JobOutputName} 200",
        "POST /proc/job/{JobID}/delete 204",
        "GET /proc/task/{TaskID}/detail 200",
        "GET /proc/task/{TaskID}/outputs 200",
        "POST /proc/task/{TaskID}/delete 204",
        "POST /proc/tasks/update_status 200",
        "GET /admin/engines 200",
    }
    listed = [e.query for e in exchanges if e.path.endswith("/proc/jobs")]
    assert any("modifiedAfter=" in q and "CreatedAfter=" in q for q in listed)
    if organization is None:
        omitted = [p for p in problems if p == f"POST /proc/job/create {NO_ORGANIZATION}"]
        assert len(omitted) == 4  # three submits and the refused one
        problems = [p for p in problems if p not in omitted]
    assert problems == []


def test_the_simulator_checks_requests_with_the_spec_request_schemas(
    spec: dict[str, Any],
) -> None:
    """The simulator's transcribed request schemas are the spec's (descriptions, examples and
    defaults aside), but for CreateJobDetail's ``required: [internalOrganizationID]``."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: strip(v)
                for k, v in node.items()
                if k not in ("description", "example", "default")
            }
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    published = {name: strip(spec["components"]["schemas"][name]) for name in REQUEST_SCHEMAS}
    assert published["CreateJobDetail"].pop("required") == ["internalOrganizationID"]
    assert published == REQUEST_SCHEMAS
    for path, name in (
        ("/proc/job/create", "CreateJobRequest"),
        ("/proc/tasks/update_status", "TasksStatusUpdateRequest"),
        ("/proc/job/{JobID}/delete", "DeleteJobRequest"),
    ):
        body = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        assert body["schema"] == {"$ref": f"#/components/schemas/{name}"}


_TASK = {"engineId": ENGINE, "correlationTaskId": "t"}
_ORG = "internalOrganizationID"
INVALID: list[tuple[str, str, Any]] = [
    ("/proc/job/create", "jobs", {"jobs": {"tasks": []}}),
    ("/proc/job/create", "engineId", {"jobs": [{"tasks": [{"engineId": "engine-1"}]}]}),
    ("/proc/job/create", "engineId", {"jobs": [{"tasks": [{"payloadJSON": "{}"}]}]}),
    ("/proc/job/create", "priority", {"jobs": [{"tasks": [{**_TASK, "priority": "high"}]}]}),
    ("/proc/job/create", "priority", {"jobs": [{"tasks": [{**_TASK, "priority": 2**31}]}]}),
    ("/proc/job/create", "taskStatus", {"jobs": [{"tasks": [{**_TASK, "taskStatus": "new"}]}]}),
    ("/proc/job/create", "payloadJSON", {"jobs": [{"tasks": [{**_TASK, "payloadJSON": {}}]}]}),
    ("/proc/job/create", "taskPayloadJSON",
     {"jobs": [{"tasks": [{**_TASK, "taskPayloadJSON": "{"}]}]}),
    ("/proc/job/create", "maxRetries", {"jobs": [{"tasks": [{**_TASK, "maxRetries": None}]}]}),
    ("/proc/job/create", "dueDateTime", {"jobs": [{"tasks": [_TASK], "dueDateTime": "soon"}]}),
    ("/proc/job/create", "mode", {"jobs": [{"tasks": [{**_TASK, "ioFolders": [{"mode": "x"}]}]}]}),
    ("/proc/job/create", "taskRoutes", {"jobs": [{"tasks": [_TASK], "taskRoutes": ["t"]}]}),
    ("/proc/job/create", _ORG, {"jobs": [{"tasks": [_TASK], _ORG: "org"}]}),
    ("/proc/job/create", "jobStatus", {"jobs": [{"tasks": [_TASK], "jobStatus": "cancelled"}]}),
    ("/proc/job/create", "the request body", None),
    ("/proc/tasks/update_status", "taskIDs", {"taskIDs": ["t1"], "taskStatus": "running"}),
    ("/proc/tasks/update_status", "taskStatus", {"taskIDs": [], "taskStatus": "cancelled"}),
    ("/proc/tasks/update_status", "the request body", None),
    ("/proc/job/{job}/delete", "jobID", {"jobID": 5}),
]  # fmt: skip


@pytest.mark.parametrize(("path", "field", "body"), INVALID, ids=[f"{i[1]}" for i in INVALID])
def test_a_body_the_spec_refuses_is_a_400_error(
    spec: dict[str, Any], sim: Simulation, path: str, field: str, body: Any
) -> None:
    """Bodies that break the spec's request schema (checked here with the spec itself) get a
    400 with Edge's ``{id, description, detail}`` naming the field, before anything is done."""
    s: Any = sim.simulator
    key = {"Authorization": f"Bearer {s.token}"}
    if "{job}" in path:
        created = requests.post(
            sim.url + "/proc/job/create",
            json={"jobs": [{"tasks": [_TASK]}]},
            headers=key,
            timeout=5,
        )
        path = path.replace("{job}", created.json()["internalJobIds"][0])
    template, operation, _ = Conformance(spec).operation("POST", BASE + path)
    if body is not None:
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        assert Conformance(spec).problems(schema, body, template) != []  # the spec refuses it
    before = (len(s.jobs), [t.status for t in s.tasks.values()])
    answer = requests.post(
        sim.url + path, data=b"" if body is None else json.dumps(body), headers=key, timeout=5
    )
    assert answer.status_code == 400, answer.text
    error = answer.json()
    assert set(error) == {"id", "description", "detail"}
    assert field in error["description"] and error["description"].startswith("Invalid argument")
    assert (len(s.jobs), [t.status for t in s.tasks.values()]) == before


#: The create bodies of the documentation (veritone/docs: the jobs quickstart's Edge example,
#: and the Edge install guide's translation example), engine ids as published.
TRANSLATION = "95c910f6-4a26-4b66-96cb-488befa86466"
DOCUMENTED = {
    "jobs-quickstart": {
        "jobs": [
            {
                "dueDateTime": "2020-02-18T20:49:18.331Z",
                "tasks": [
                    {
                        "correlationTaskId": "c0b6b5a4-44d5-4a4e-9a59-0d8d3d3c9c11",
                        "dueDateTime": "2020-02-18T20:49:18.331Z",
                        "engineId": TRANSLATION,
                        "ioFolders": [
                            {
                                "correlationID": "7f0e9f39-1d5c-4c43-b1ea-3c1bd0cfe7a2",
                                "mode": "chunk",
                                "optionsJSON": "{}",
                                "type": "output",
                            }
                        ],
                        "maxEngines": 1,
                        "maxRetries": 10,
                        "payloadJSON": '{"url":"https://example.org/spanish.txt"}',
                        "taskPayloadJSON": '{"url":"https://example.org/spanish.txt"}',
                        "taskStatus": "pending",
                        "priority": -10,
                    },
                    {
                        "correlationTaskId": "2d8a3c11-5a7e-4f0e-8a8c-6f1f3a0b9d21",
                        "dueDateTime": "2020-02-14T20:49:18.331Z",
                        "engineId": OUTPUT_WRITER,
                        "ioFolders": [
                            {
                                "correlationID": "e3a1f0d2-8c4b-4b7e-9d6a-1c2b3d4e5f60",
                                "mode": "chunk",
                                "optionsJSON": "{}",
                                "type": "input",
                            }
                        ],
                        "maxEngines": 1,
                        "maxRetries": 10,
                        "payloadJSON": "{}",
                        "taskPayloadJSON": "{}",
                        "taskStatus": "pending",
                    },
                ],
                "taskRoutes": [
                    {"taskChildId": "c0b6b5a4-44d5-4a4e-9a59-0d8d3d3c9c11"},
                    {
                        "taskParentId": "c0b6b5a4-44d5-4a4e-9a59-0d8d3d3c9c11",
                        "taskParentOutputId": "7f0e9f39-1d5c-4c43-b1ea-3c1bd0cfe7a2",
                        "taskChildId": "2d8a3c11-5a7e-4f0e-8a8c-6f1f3a0b9d21",
                        "taskChildInputId": "e3a1f0d2-8c4b-4b7e-9d6a-1c2b3d4e5f60",
                    },
                ],
            }
        ]
    },
    "edge-install-guide": {
        "jobs": [
            {
                "jobStatus": "queued",
                "tasks": [
                    {
                        "correlationTaskId": "translation",
                        "engineId": TRANSLATION,
                        "taskPayloadJSON": '{"url":"https://example.org/spanish.txt"}',
                        "taskStatus": "pending",
                        "ioFolders": [
                            {
                                "correlationID": "translationOutput",
                                "mode": "chunk",
                                "type": "output",
                            }
                        ],
                        "maxEngines": 1,
                        "maxRetries": 10,
                    },
                    {
                        "correlationTaskId": "ow",
                        "engineId": OUTPUT_WRITER,
                        "taskStatus": "pending",
                        "ioFolders": [
                            {"correlationID": "owInput", "mode": "chunk", "type": "input"}
                        ],
                        "parentMustBeCompleteBeforeStarting": True,
                        "maxEngines": 1,
                        "maxRetries": 10,
                    },
                ],
                "taskRoutes": [
                    {"taskChildId": "translation"},
                    {
                        "taskParentId": "translation",
                        "taskParentOutputId": "translationOutput",
                        "taskChildId": "ow",
                        "taskChildInputId": "owInput",
                    },
                ],
            }
        ]
    },
}


@pytest.mark.parametrize("example", sorted(DOCUMENTED))
def test_the_documented_create_examples_are_accepted_and_keep_their_input(
    spec: dict[str, Any], sim: Simulation, exchanges: list[Exchange], example: str
) -> None:
    """The docs' create bodies (no internalOrganizationID, the input in taskPayloadJSON) are
    accepted; the task detail returns taskPayloadJSON, and the adapter reads it."""
    s: Any = sim.simulator
    s.engines.append(s._engine(TRANSLATION, "Translation", "chunk"))
    answer = requests.post(
        sim.url + "/proc/job/create",
        json=DOCUMENTED[example],
        headers={"Authorization": f"Bearer {s.token}"},
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    (job_id,) = answer.json()["internalJobIds"]
    with sim.connect() as hub:
        job = hub.get(job_id)
    first = job.subtasks[0]
    assert first.raw["taskPayloadJSON"] == '{"url":"https://example.org/spanish.txt"}'
    assert first.params["task_payload"] == {"url": "https://example.org/spanish.txt"}
    assert job.params["internalOrganizationID"] == s.organization  # the instance's own
    conformance = Conformance(spec)
    problems = [p for e in exchanges for p in conformance.check(e)]
    assert problems == [f"POST /proc/job/create {NO_ORGANIZATION}"]
