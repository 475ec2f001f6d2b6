"""A Veritone aiWARE Edge simulator: ``/edge/v1`` jobs, tasks, outputs and engines.

Jobs run their tasks in order on the clock: ``pending`` -> ``queued`` -> ``running`` for
``task_s`` -> ``complete``; the job's outputs (``vtn-standard-<uuid>.json``) appear when it
completes. A task payload ``{"simulate": "fail"}`` ends it ``failed`` (failureReason
``bad_data``); ``"reject"`` ends it ``rejected``. ``POST /proc/tasks/update_status`` sets any
``TaskStatusEnum`` word. Auth: ``Authorization: Bearer`` or the spec's ``api_key`` header; a
known read-only token gets 403. Every answer carries ``X-Aiware-Version`` and
``X-Correlation-Id`` (the request's, or a new one). ``GET /proc/jobs`` and ``GET /admin/engines``
page by ``offset`` / ``limit`` (counts: a negative one is a 400, never a slice), sort by
``orderBy`` / ``direction`` and take every documented filter, each read as the spec types it
(:data:`_JOB_FILTERS`, :data:`_ENGINE_FILTERS`); a job's modification time is its last status
change.

Request bodies are checked against the OpenAPI 3.15.2 request schemas (:data:`REQUEST_SCHEMAS`,
transcribed from the spec: types, formats, enums, required fields) and refused with a 400
``Error``; the one published requirement not enforced is ``CreateJobDetail``'s
``internalOrganizationID``, which every documented create example leaves out. Answers follow
the response schemas: a field the spec types as a string (or date-time, or enum) is left out
when it has no value, never sent as ``null``.
"""

from __future__ import annotations

import base64
import json
import random
import re
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

import attrs
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from taskhub.testing import Answer, Simulator

VERSION = "3.15.2.2224"
OUTPUT_WRITER = "8eccf9cc-6b6d-4d7d-8cb3-7ebf4950c5f3"
ENGINE = "1a2b3c4d-0000-4000-8000-00000000e001"
STATUSES = (
    "scheduled",
    "pending",
    "queued",
    "running",
    "complete",
    "aborted",
    "failed",
    "rejected",
    "reprocessing",
)
_TERMINAL = ("complete", "aborted", "failed", "rejected")
_CORRELATION = "X-Correlation-Id"

_REF = "#/components/schemas/"
_STRING: dict[str, Any] = {"type": "string"}
_INTEGER: dict[str, Any] = {"type": "integer"}
_BOOLEAN: dict[str, Any] = {"type": "boolean"}
_UUID: dict[str, Any] = {"format": "uuid", "type": "string"}
_TIME: dict[str, Any] = {"format": "date-time", "type": "string"}
_INT64: dict[str, Any] = {"format": "int64", "type": "integer"}
_JSON_TEXT: dict[str, Any] = {"format": "json", "type": "string"}


def _list_of(item: dict[str, Any]) -> dict[str, Any]:
    return {"items": item, "type": "array"}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": _REF + name}


#: The spec's request schemas (``components.schemas``, descriptions, examples and defaults left
#: out), which every request body is checked against. ``CreateJobDetail`` omits the published
#: ``required: [internalOrganizationID]``: the documented examples never send it.
REQUEST_SCHEMAS: dict[str, dict[str, Any]] = {
    "CreateJobRequest": {
        "properties": {"jobs": _list_of(_ref("CreateJobDetail"))},
        "type": "object",
    },
    "CreateJobDetail": {
        "properties": {
            "coreID": _UUID,
            "coreJobID": _STRING,
            "coreRecordingID": _INT64,
            "coreSourceID": _INT64,
            "currentRetries": _INTEGER,
            "dueDateTime": _TIME,
            "internalOrganizationID": _UUID,
            "jobConfigJSON": {"format": "JSON", "type": "string"},
            "jobStatus": _ref("JobStatusEnum"),
            "sendOutputToUris": _list_of(_STRING),
            "taskRoutes": _list_of(_ref("TaskRouteDetail")),
            "tasks": _list_of(_ref("CreateTaskDetail")),
        },
        "type": "object",
    },
    "CreateTaskDetail": {
        "properties": {
            "coreTaskId": _STRING,
            "correlationTaskId": _STRING,
            "dueDateTime": _TIME,
            "engineId": _UUID,
            "ioFolders": _list_of(_ref("CreateTaskIOInfo")),
            "maxEngines": _INTEGER,
            "maxProcessingSecondsPerWorkItem": _INT64,
            "maxRetries": _INTEGER,
            "maxWaitSecondsForChunk": _INT64,
            "numChunksPerWorkItem": _INT64,
            "parallelProcessing": _BOOLEAN,
            "parentMustBeCompleteBeforeStarting": _BOOLEAN,
            "payloadJSON": _JSON_TEXT,
            "priority": {"format": "int32", "type": "integer"},
            "sendOutputToUris": _list_of(_STRING),
            "taskPayloadJSON": _JSON_TEXT,
            "taskStatus": _ref("JobStatusEnum"),
        },
        "required": ["engineId"],
        "type": "object",
    },
    "CreateTaskIOInfo": {
        "properties": {
            "correlationID": _STRING,
            "mode": _ref("TaskIOModeEnum"),
            "optionsJSON": _JSON_TEXT,
            "type": _ref("TaskIOTypeEnum"),
        },
        "type": "object",
    },
    "TaskRouteDetail": {
        "properties": {
            "chunkCallbackEnabled": _BOOLEAN,
            "endpoint": _UUID,
            "firstWriteDateTime": _TIME,
            "lastWriteDateTime": _TIME,
            "syncEnabled": _BOOLEAN,
            "syncTimeoutInSeconds": _INTEGER,
            "taskChildId": _STRING,
            "taskChildInputCount": _INTEGER,
            "taskChildInputId": _STRING,
            "taskChildInputRemainingCount": _INTEGER,
            "taskChildNumEngines": _INTEGER,
            "taskParentId": _STRING,
            "taskParentOutputCount": _INTEGER,
            "taskParentOutputId": _STRING,
        },
        "type": "object",
    },
    "TasksStatusUpdateRequest": {
        "properties": {"taskIDs": _list_of(_UUID), "taskStatus": _ref("TaskStatusEnum")},
        "type": "object",
    },
    "DeleteJobRequest": {
        "properties": {"jobID": {"format": "string", "type": "string"}},
        "type": "object",
    },
    "JobStatusEnum": {"enum": list(STATUSES), "type": "string"},
    "TaskStatusEnum": {
        "enum": [
            "pending",
            "queued",
            "aborted",
            "failed",
            "complete",
            "running",
            "scheduled",
            "rejected",
            "reprocessing",
        ],
        "type": "string",
    },
    "TaskIOModeEnum": {"enum": ["stream", "chunk"], "type": "string"},
    "TaskIOTypeEnum": {"enum": ["input", "output"], "type": "string"},
}
_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "boolean": bool,
}
_UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)")
_RANGES = {"int32": 2**31, "int64": 2**63}


def _format_problem(fmt: str, value: Any) -> str | None:
    """Why ``value`` is not of the spec's ``format`` (None when it is, or is not checked)."""
    if fmt == "uuid" and not _UUID_TEXT.fullmatch(value):
        return "is not a UUID"
    if fmt == "date-time":
        if not _RFC3339.fullmatch(value):
            return "is not an RFC 3339 date-time"
        try:
            datetime.fromisoformat(value.upper().replace("Z", "+00:00").replace(" ", "T"))
        except ValueError:
            return "is not an RFC 3339 date-time"
    if fmt in _RANGES and not -_RANGES[fmt] <= value < _RANGES[fmt]:
        return f"is out of the {fmt} range"
    if fmt.lower() == "json" and value != "":  # "" is Go's zero value: no JSON at all
        try:
            json.loads(value)
        except ValueError:
            return "is not JSON text"
    return None


def schema_problem(schema: dict[str, Any], value: Any, where: str) -> str | None:
    """The first way ``value`` breaks ``schema`` (one of :data:`REQUEST_SCHEMAS` or a part of
    one), as ``where`` plus what is wrong; None when it conforms. Like the spec, it allows
    properties it does not name, and (OpenAPI 3.0, nothing here is ``nullable``) no null."""
    if "$ref" in schema:
        return schema_problem(REQUEST_SCHEMAS[schema["$ref"].removeprefix(_REF)], value, where)
    kind = schema.get("type")
    label = where or "the request body"
    if value is None:
        return f"{label} must not be null"
    if kind in _TYPES and (
        not isinstance(value, _TYPES[kind]) or (kind == "integer" and isinstance(value, bool))
    ):
        return f"{label} must be {'an' if kind[0] in 'aeio' else 'a'} {kind}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{label} must be one of {', '.join(schema['enum'])}"
    if "format" in schema:
        problem = _format_problem(schema["format"], value)
        if problem:
            return f"{label} {problem}"
    if kind == "array":
        for n, item in enumerate(value):
            problem = schema_problem(schema.get("items", {}), item, f"{where}[{n}]")
            if problem:
                return problem
    if kind == "object":
        for name in schema.get("required", ()):
            if name not in value:
                return f"{where}.{name} is required".lstrip(".")
        for name, part in schema.get("properties", {}).items():
            if name in value:
                problem = schema_problem(part, value[name], f"{where}.{name}".lstrip("."))
                if problem:
                    return problem
    return None


_INT64_BOUND = 2**63
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
#: ``direction``: "the sort order.  ASC or DESC." (spec ``Direction_Query_Optional``).
_DIRECTIONS = ("ASC", "DESC", "asc", "desc")


class _Invalid(ValueError):
    """A query argument the server refuses (answered 400 ``Invalid argument: ...``)."""


def _refuse(message: str) -> _Invalid:
    return _Invalid(message)


def _int64(name: str, value: str) -> int:
    if not _INTEGER_TEXT.fullmatch(value) or not -_INT64_BOUND <= int(value) < _INT64_BOUND:
        raise _refuse(f"{name} must be an int64 integer")
    return int(value)


def _count(name: str, value: str) -> int:
    number = _int64(name, value)
    if number < 0:
        raise _refuse(f"{name} must not be negative")
    return number


def _uuid_arg(name: str, value: str) -> str:
    if not _UUID_TEXT.fullmatch(value):
        raise _refuse(f"{name} must be a UUID")
    return value.lower()


def _boolean(name: str, value: str) -> bool:
    if value not in ("true", "false"):
        raise _refuse(f"{name} must be true or false")
    return value == "true"


def _one_of(*words: str) -> Callable[[str, str], str]:
    def check(name: str, value: str) -> str:
        if value not in words:
            raise _refuse(f"{name} must be one of {', '.join(words)}")
        return value

    return check


def _text(name: str, value: str) -> str:
    return value


def _seconds(ms: int) -> int:
    return ms // 1000


def _epoch(text: str) -> float:
    """Unix seconds of one of the simulator's own RFC 3339 times."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


#: ``/proc/jobs`` filters (veritone-edge.md section 8) beside ``status``: how each value is read
#: and what it keeps.
#: The spec types the time bounds as int64 timestamps without a unit; the simulator reads Unix
#: seconds, as the spec's other timestamps are: ``startTime`` / ``endTime`` bound the creation
#: time inclusively, the ``modified*`` / ``Created*`` bounds compare strictly ("after",
#: "before"). ``recordingID`` is typed a UUID while a job's recording id is an int64
#: (``coreRecordingId``), so no job ever matches one.
_JOB_FILTERS: dict[str, tuple[Callable[[str, str], Any], Callable[[_Job, Any], bool]]] = {
    "startTime": (_int64, lambda job, s: _seconds(job.created) >= s),
    "endTime": (_int64, lambda job, s: _seconds(job.created) <= s),
    "modifiedAfter": (_int64, lambda job, s: (job.modified or job.created) > s * 1000),
    "modifiedBefore": (_int64, lambda job, s: (job.modified or job.created) < s * 1000),
    "CreatedAfter": (_int64, lambda job, s: job.created > s * 1000),
    "CreatedBefore": (_int64, lambda job, s: job.created < s * 1000),
    "jobID": (_uuid_arg, lambda job, value: job.id == value),
    "organizationID": (_uuid_arg, lambda job, value: job.organization == value),
    "coreID": (_uuid_arg, lambda job, value: job.core_id == value),
    "recordingID": (_uuid_arg, lambda job, value: str(job.core_recording) == value),
    "coreJobID": (_text, lambda job, value: job.core_job_id == value),
}
#: ``orderBy`` on ``/proc/jobs`` names a field to sort by (default ``createdDateTime``, a
#: JobDetail property): every scalar JobDetail property sorts; anything else is refused.
JOB_ORDER = (
    "abortedDateTime",
    "completedDateTime",
    "coreID",
    "coreJobID",
    "coreRecordingId",
    "coreScheduledJobId",
    "coreSourceId",
    "createdDateTime",
    "currentRetries",
    "dueDateTime",
    "internalJobID",
    "internalOrganizationID",
    "internalScheduledJobId",
    "isTemplate",
    "jobConfigJSON",
    "jobStatus",
    "jobTemplateId",
    "maxRetries",
    "modifiedDateTime",
    "priority",
    "scheduledDateTime",
    "startDateTime",
    "startedDateTime",
    "stopDateTime",
)
#: ``/admin/engines`` filters: ``engineName`` matches a part of the name, any case ("Field to
#: string match against the engine names"); ``engineIDs`` is a comma-separated list; the time
#: bounds are the engine's creation time in Unix seconds, inclusive.
_ENGINE_FILTERS: dict[
    str, tuple[Callable[[str, str], Any], Callable[[dict[str, Any], Any], bool]]
] = {
    "internalOrganizationID": (_uuid_arg, lambda e, v: e["internalOrganizationID"] == v),
    "engineName": (_text, lambda e, v: v.lower() in e["engineName"].lower()),
    "engineState": (_one_of("active", "paused", "replace"), lambda e, v: e["engineState"] == v),
    "engineType": (_one_of("chunk", "stream", "batch", "any"), lambda e, v: e["engineType"] == v),
    "engineOutputType": (
        _one_of("chunk", "stream", "batch", "any"),
        lambda e, v: e["engineOutputType"] == v,
    ),
    "engineCategoryID": (_text, lambda e, v: e["engineCategoryID"] == v),
    "engineIDs": (_text, lambda e, v: e["engineID"] in v.split(",")),
    "preload": (_boolean, lambda e, v: e["preload"] is v),
    "startTime": (_int64, lambda e, s: _epoch(e["createdDateTime"]) >= s),
    "endTime": (_int64, lambda e, s: _epoch(e["createdDateTime"]) <= s),
}
#: ``orderBy`` on ``/admin/engines``: "The value should be in [name, state, type,
#: organizationID, createdTime]", each the EngineDetail field it sorts by.
ENGINE_ORDER = {
    "name": "engineName",
    "state": "engineState",
    "type": "engineType",
    "organizationID": "internalOrganizationID",
    "createdTime": "createdDateTime",
}


def _sorted(rows: list[dict[str, Any]], field: str, direction: str) -> list[dict[str, Any]]:
    """``rows`` (oldest first) sorted by ``field``; ties keep their age, newest first when
    descending; a missing value sorts as PostgreSQL's NULL (last ascending, first descending)."""

    def key(n: int) -> tuple[bool, Any, int]:
        value = rows[n].get(field)
        if isinstance(value, str) and field.endswith("DateTime"):
            value = _epoch(value)  # fractions of a second make text compare wrongly
        return value is None, 0 if value is None else value, n

    order = sorted(range(len(rows)), key=key, reverse=direction.upper() == "DESC")
    return [rows[n] for n in order]


def _filtered(
    rows: list[Any], args: Any, filters: dict[str, tuple[Callable[[str, str], Any], Any]]
) -> list[Any]:
    """The rows every filter present in ``args`` keeps (each value read first: a 400)."""
    for name, (read, keep) in filters.items():
        if name in args:
            value = read(name, args[name])
            rows = [row for row in rows if keep(row, value)]
    return rows


def _paging(args: Any) -> tuple[int, int, str]:
    """``offset``, ``limit`` (default 10) and ``direction`` (default DESC), each checked."""
    offset = _count("offset", args.get("offset", "0"))
    limit = _count("limit", args.get("limit", "10"))
    direction = _one_of(*_DIRECTIONS)("direction", args.get("direction", "DESC"))
    return offset, limit, direction


def _plan(*payloads: str | None) -> str:
    """What a task's payload asks the simulator to do: ``{"simulate": "fail"}`` ..."""
    for text in payloads:
        value = json.loads(text) if text else None
        if isinstance(value, dict) and isinstance(value.get("simulate"), str):
            return str(value["simulate"])
    return "ok"


def _present(fields: dict[str, Any]) -> dict[str, Any]:
    """Only the fields that have a value: the spec types none of them as nullable."""
    return {k: v for k, v in fields.items() if v is not None}


@attrs.define
class _Task:
    id: str
    job_id: str
    engine_id: str
    correlation: str
    payload: str | None
    created: int
    plan: str = "ok"
    task_payload: str | None = None
    status: str = "pending"
    forced: bool = False
    started: int | None = None
    completed: int | None = None
    modified: int = 0
    output: str | None = None
    failure_reason: str | None = None
    failure_detail: str | None = None
    io_folders: list[dict[str, Any]] = attrs.field(factory=list)
    ready: int | None = None


@attrs.define
class _Job:
    id: str
    organization: str | None
    created: int
    tasks: list[_Task]
    routes: list[dict[str, Any]]
    config: str | None = None
    modified: int = 0
    outputs: list[dict[str, Any]] = attrs.field(factory=list)
    core_id: str | None = None
    core_job_id: str | None = None
    core_recording: int = 0
    core_source: int = 0


class EdgeSimulator(Simulator):
    """An aiWARE Edge controller's REST API."""

    vendor = "veritone-edge"
    base_path = "/edge/v1"

    def __init__(
        self,
        *,
        token: str | None = None,
        readonly_token: str | None = None,
        queue_s: float = 0.5,
        task_s: float = 2.0,
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.rng = random.Random(kw.get("seed", 0))
        self.token = token or str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        self.readonly_token = readonly_token or str(
            uuid.UUID(int=self.rng.getrandbits(128), version=4)
        )
        self.queue_ms = int(queue_s * 1000)
        self.task_ms = int(task_s * 1000)
        self.organization = str(self._uuid())
        self.jobs: dict[str, _Job] = {}
        self.order: list[str] = []
        self.tasks: dict[str, _Task] = {}
        self.engines = [
            self._engine(ENGINE, "Simulated Transcription", "chunk"),
            self._engine(OUTPUT_WRITER, "Output Writer", "chunk"),
            self._engine("1a2b3c4d-0000-4000-8000-00000000e002", "Simulated Detection", "stream"),
        ]

    # -- framework hooks -----------------------------------------------------------------------

    def routes(self) -> Iterable[Rule]:
        job, task = "/proc/job/<job_id>", "/proc/task/<task_id>"
        return [
            Rule("/version", endpoint="version", methods=["GET"]),
            Rule("/proc/job/create", endpoint="create", methods=["POST"]),
            Rule(f"{job}/status", endpoint="job_status", methods=["GET"]),
            Rule(f"{job}/detail", endpoint="job_detail", methods=["GET"]),
            Rule(f"{job}/outputs", endpoint="job_outputs", methods=["GET"]),
            Rule(f"{job}/output/<name>", endpoint="job_output", methods=["GET"]),
            Rule(f"{job}/download/<name>", endpoint="job_download", methods=["GET"]),
            Rule(f"{job}/delete", endpoint="delete_job", methods=["POST"]),
            Rule("/proc/jobs", endpoint="list_jobs", methods=["GET"]),
            Rule(f"{task}/detail", endpoint="task_detail", methods=["GET"]),
            Rule(f"{task}/outputs", endpoint="task_outputs", methods=["GET"]),
            Rule(f"{task}/delete", endpoint="delete_task", methods=["POST"]),
            Rule("/proc/tasks/update_status", endpoint="update_status", methods=["POST"]),
            Rule("/admin/engines", endpoint="engines", methods=["GET"]),
        ]

    def error(self, status: int, message: str, headers: Any = None) -> Response:
        body = {
            "id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "description": message,
            "detail": "",
        }
        return self.json(body, status, headers)

    def json(self, data: Any, status: int = 200, headers: Any = None) -> Response:
        response = super().json(data, status, headers)
        response.headers["X-Aiware-Version"] = VERSION
        if status in (429, 503) and "Retry-After" not in response.headers:
            response.headers["Retry-After"] = "1"
        return response

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        correlation = environ.get("HTTP_X_CORRELATION_ID") or str(uuid.uuid4())

        def with_headers(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            headers = [(k, v) for k, v in headers if k.lower() != _CORRELATION.lower()]
            headers.append((_CORRELATION, correlation))
            if not any(k.lower() == "x-aiware-version" for k, _ in headers):
                headers.append(("X-Aiware-Version", VERSION))
            return start_response(status, headers, *rest)

        return super().__call__(environ, with_headers)

    def client_options(self, url: str) -> dict[str, Any]:
        return {"base_url": url, "token": self.token}

    def secrets(self) -> list[str]:
        return [self.token, self.readonly_token]

    # -- helpers ---------------------------------------------------------------------------

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def _engine(self, engine_id: str, name: str, kind: str) -> dict[str, Any]:
        return {
            "engineID": engine_id,
            "engineName": name,
            "engineCategoryID": str(self._uuid()),
            "engineType": kind,
            "engineOutputType": kind,
            "engineState": "active",
            "internalOrganizationID": self.organization,
            "maxRunning": 4,
            "minRunning": 0,
            "parallelProcessing": False,
            "preload": False,
            "createdDateTime": "2024-01-01T00:00:00Z",
            "modifiedDateTime": "2024-01-01T00:00:00Z",
        }

    def no_content(self) -> Response:
        """HTTP 204: no body, under the content type the spec declares for it."""
        response = self.json(None, 204)
        response.set_data(b"")
        return response

    def _time(self, ms: int | None) -> str | None:
        if ms is None:
            return None
        return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat().replace("+00:00", "Z")

    def _auth(self, request: Request, write: bool = False) -> None:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        token = value.strip() if scheme.lower() == "bearer" else request.headers.get("api_key")
        if token == self.token:
            return
        if token == self.readonly_token:
            if write:
                raise Answer(self.error(403, "Forbidden: the token has no write rights"))
            return
        raise Answer(self.error(401, "Not authorized"))

    def _job(self, job_id: str) -> _Job:
        job = self.jobs.get(job_id)
        if job is None:
            raise Answer(
                self.json(
                    {
                        "id": str(self._uuid()),
                        "description": "job not found",
                        "detail": f"jobID={job_id}",
                    },
                    404,
                )
            )
        self.advance(job)
        return job

    def _task(self, task_id: str) -> _Task:
        task = self.tasks.get(task_id)
        if task is None:
            raise Answer(
                self.json(
                    {
                        "id": str(self._uuid()),
                        "description": "task not found",
                        "detail": f"taskID={task_id}",
                    },
                    404,
                )
            )
        self.advance(self.jobs[task.job_id])
        return task

    # -- lifecycle ---------------------------------------------------------------------------

    def advance(self, job: _Job) -> None:
        """Run the job's tasks in order up to now; outputs appear when it completes."""
        now = self.now_ms()
        turn: int | None = job.created + self.queue_ms
        for task in job.tasks:
            if task.forced or task.status in _TERMINAL:
                turn = task.completed if task.status == "complete" else None
                continue
            if turn is None:
                continue
            start = max(turn, task.ready or 0)
            if now < start:
                if task.status == "pending" and now >= job.created + self.queue_ms // 2:
                    task.status, task.modified = "queued", job.created + self.queue_ms // 2
                turn = None
                continue
            end = start + self.task_ms
            if now < end:
                task.status, task.started, task.modified = "running", start, start
                turn = None
                continue
            task.started, task.completed, task.modified = task.started or start, end, end
            if task.plan == "fail":
                task.status, task.failure_reason = "failed", "bad_data"
                task.failure_detail = f"taskID={task.id}: the input could not be decoded"
                turn = None
            elif task.plan == "reject":
                task.status, turn = "rejected", None
            else:
                task.status, turn = "complete", end
                task.output = json.dumps({"series": [], "sourceEngineId": task.engine_id})
        if self.job_status(job) == "complete" and not job.outputs:
            last = max(t.completed or 0 for t in job.tasks)
            contents = json.dumps(
                {
                    "schemaId": "vtn-standard",
                    "series": [{"taskId": t.id, "engineId": t.engine_id} for t in job.tasks],
                }
            )
            job.outputs.append(
                {
                    "name": f"vtn-standard-{self._uuid()}.json",
                    "size": len(contents),
                    "created": last // 1000,
                    "contents": contents,
                }
            )
        job.modified = max([job.modified, *(t.modified for t in job.tasks)])

    def job_status(self, job: _Job) -> str:
        """The job's JobStatusEnum, from its tasks."""
        statuses = [t.status for t in job.tasks]
        for word in ("failed", "aborted", "rejected"):
            if word in statuses:
                return word
        if all(s == "complete" for s in statuses):
            return "complete"
        for word in ("reprocessing", "running", "queued"):
            if word in statuses:
                return word
        if statuses and all(s == "scheduled" for s in statuses):
            return "scheduled"
        return "pending"

    # -- views -------------------------------------------------------------------------------

    def task_detail(self, task: _Task) -> dict[str, Any]:
        engine = next((e for e in self.engines if e["engineID"] == task.engine_id), {})
        return _present(
            {
                "internalTaskID": task.id,
                "internalJobID": task.job_id,
                "internalOrganizationID": self.jobs[task.job_id].organization,
                "engineID": task.engine_id,
                "engineName": engine.get("engineName"),
                "taskStatus": task.status,
                "failureReason": task.failure_reason,
                "failureDetail": task.failure_detail,
                "currentRetries": 0,
                "maxRetries": 10,
                "createdDateTime": self._time(task.created),
                "modifiedDateTime": self._time(task.modified or task.created),
                "startedDateTime": self._time(task.started),
                "completedDateTime": self._time(task.completed),
                "payloadJSON": task.payload,
                "taskPayloadJSON": task.task_payload,
                "taskOutputSON": task.output,
                "ioFolders": [
                    _present(
                        {
                            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{task.id}/{n}")),
                            "correlationId": f.get("correlationID"),
                            "mode": f.get("mode"),
                            "type": f.get("type"),
                            "optionsJSON": f.get("optionsJSON"),
                        }
                    )
                    for n, f in enumerate(task.io_folders)
                ],
                "chunkCountInfo": {
                    "chunkCompletedCount": 1 if task.status == "complete" else 0,
                    "chunkProducedCount": 1,
                    "chunkRemainingCount": 0,
                    "chunkToProcessCount": 0,
                    "errorCount": 0,
                    "retryCount": 0,
                },
            }
        )

    def job_detail(self, job: _Job) -> dict[str, Any]:
        status = self.job_status(job)
        started = [t.started for t in job.tasks if t.started is not None]
        completed = [t.completed for t in job.tasks if t.completed is not None]
        return _present(
            {
                "internalJobID": job.id,
                "internalOrganizationID": job.organization,
                "jobStatus": status,
                "currentRetries": 0,
                "maxRetries": 0,
                "priority": 0,
                "createdDateTime": self._time(job.created),
                "modifiedDateTime": self._time(job.modified or job.created),
                "startedDateTime": self._time(min(started)) if started else None,
                "completedDateTime": self._time(max(completed))
                if status in _TERMINAL and completed
                else None,
                "jobConfigJSON": job.config,
                "tasks": [self.task_detail(t) for t in job.tasks],
                "taskRoutes": job.routes,
                "coreID": job.core_id,
                "coreJobID": job.core_job_id,
                "coreRecordingId": job.core_recording,
                "coreSourceId": job.core_source,
            }
        )

    def demo_spec(self) -> dict[str, Any]:
        return {
            "tasks": [
                {
                    "engineId": ENGINE,
                    "correlationTaskId": "transcribe",
                    "payload": {"url": "https://media.example.com/podcast.mp3"},
                },
                {"engineId": OUTPUT_WRITER, "correlationTaskId": "writer"},
            ]
        }

    # -- endpoints -------------------------------------------------------------------------

    def on_version(self, request: Request) -> Response:
        self._auth(request)
        return self.json({"version": VERSION})

    def _valid(self, request: Request, schema: str, *, required: bool) -> Any:
        """The request's JSON body, checked against the spec's request schema ``schema``
        (a 400 ``Error`` when it breaks it, or is absent where the spec requires a body)."""
        body = self.body(request)
        if body is None and not required:
            return None
        problem = schema_problem(REQUEST_SCHEMAS[schema], body, "")
        if problem:
            raise Answer(self.error(400, f"Invalid argument: {problem}"))
        return body

    def on_create(self, request: Request) -> Response:
        self._auth(request, write=True)
        body = self._valid(request, "CreateJobRequest", required=True)
        jobs = body.get("jobs")
        if not isinstance(jobs, list) or not jobs:
            return self.error(400, "Invalid argument: jobs must be a non-empty list")
        known = {e["engineID"] for e in self.engines}
        created: list[_Job] = []
        now = self.now_ms()
        for n, spec in enumerate(jobs):
            tasks = spec.get("tasks")
            if not isinstance(tasks, list) or not tasks:
                return self.error(400, f"Invalid argument: jobs[{n}].tasks is empty")
            job = _Job(
                str(self._uuid()),
                (spec.get("internalOrganizationID") or self.organization).lower(),
                now,
                [],
                [],
                spec.get("jobConfigJSON") or None,  # "" is Go's zero value: no config
                now,
                core_id=(spec.get("coreID") or "").lower() or None,
                core_job_id=spec.get("coreJobID") or None,
                core_recording=spec.get("coreRecordingID") or 0,
                core_source=spec.get("coreSourceID") or 0,
            )
            names: dict[str, str] = {}
            for m, item in enumerate(tasks):
                engine = item["engineId"]  # required, a UUID: checked above
                if engine not in known:
                    return self.error(
                        400, f"Invalid argument: engine {engine} is not available on edge"
                    )
                # Both are JSON text (checked above); the documented examples carry the input
                # in taskPayloadJSON, some in payloadJSON too.
                payload = item.get("payloadJSON") or None
                task_payload = item.get("taskPayloadJSON") or None
                task = _Task(
                    str(self._uuid()),
                    job.id,
                    engine,
                    item.get("correlationTaskId") or f"task-{m}",
                    payload,
                    now,
                    plan=_plan(payload, task_payload),
                    task_payload=task_payload,
                    io_folders=list(item.get("ioFolders") or []),
                    modified=now,
                )
                names[task.correlation] = task.id
                job.tasks.append(task)
            for route in spec.get("taskRoutes") or []:
                resolved = dict(route)
                for key in ("taskParentId", "taskChildId"):
                    if key in resolved:
                        if resolved[key] not in names:
                            return self.error(
                                400,
                                f"Invalid argument: route {key} {resolved[key]!r} names no task",
                            )
                        resolved[key] = names[resolved[key]]
                job.routes.append(resolved)
            created.append(job)
        for job in created:
            self.jobs[job.id] = job
            self.order.append(job.id)
            for task in job.tasks:
                self.tasks[task.id] = task
        return self.json({"internalJobIds": [j.id for j in created]})

    def on_job_status(self, request: Request, job_id: str) -> Response:
        self._auth(request)
        job = self._job(job_id)
        return self.json({"job": {"internalJobID": job.id, "jobStatus": self.job_status(job)}})

    def on_job_detail(self, request: Request, job_id: str) -> Response:
        self._auth(request)
        return self.json({"job": self.job_detail(self._job(job_id))})

    def on_job_outputs(self, request: Request, job_id: str) -> Response:
        self._auth(request)
        job = self._job(job_id)
        outputs = [{k: o[k] for k in ("name", "size", "created")} for o in job.outputs]
        return self.json({"outputs": {"internalJobID": job.id, "outputs": outputs}})

    def _output(self, job_id: str, name: str) -> dict[str, Any]:
        job = self._job(job_id)
        output = next((o for o in job.outputs if o["name"] == name), None)
        if output is None:
            raise Answer(
                self.json(
                    {
                        "id": str(self._uuid()),
                        "description": "output not found",
                        "detail": f"jobID={job_id} name={name}",
                    },
                    404,
                )
            )
        return output

    def on_job_output(self, request: Request, job_id: str, name: str) -> Response:
        self._auth(request)
        output = self._output(job_id, name)
        return self.json({"output": {**output, "contentsValid": True}})

    def on_job_download(self, request: Request, job_id: str, name: str) -> Response:
        self._auth(request)
        data = self._output(job_id, name)["contents"].encode()
        return self.json([base64.b64encode(data).decode()])

    def on_delete_job(self, request: Request, job_id: str) -> Response:
        self._auth(request, write=True)
        self._valid(request, "DeleteJobRequest", required=False)
        job = self._job(job_id)
        del self.jobs[job.id]
        self.order.remove(job.id)
        for task in job.tasks:
            self.tasks.pop(task.id, None)
        return self.no_content()

    def on_list_jobs(self, request: Request) -> Response:
        self._auth(request)
        args = request.args
        try:
            offset, limit, direction = _paging(args)
            order = _one_of(*JOB_ORDER)("orderBy", args.get("orderBy", "createdDateTime"))
            rows = [self.jobs[i] for i in self.order]
            for job in rows:
                self.advance(job)
            if "status" in args:
                word = _one_of(*STATUSES)("status", args["status"])
                rows = [j for j in rows if self.job_status(j) == word]
            rows = _filtered(rows, args, _JOB_FILTERS)
        except _Invalid as exc:
            return self.error(400, f"Invalid argument: {exc}")
        details = _sorted([self.job_detail(j) for j in rows], order, direction)
        return self.json(
            {
                "count": len(details),
                "offset": offset,
                "limit": limit,
                "result": details[offset : offset + limit],
                "success": True,
            }
        )

    def on_task_detail(self, request: Request, task_id: str) -> Response:
        self._auth(request)
        return self.json({"task": self.task_detail(self._task(task_id))})

    def on_task_outputs(self, request: Request, task_id: str) -> Response:
        self._auth(request)
        task = self._task(task_id)
        outputs = (
            []
            if task.output is None
            else [
                {
                    "name": f"{task.id}.json",
                    "size": len(task.output),
                    "created": (task.completed or task.modified) // 1000,
                }
            ]
        )
        return self.json({"outputs": {"internalTaskID": task.id, "outputs": outputs}})

    def on_delete_task(self, request: Request, task_id: str) -> Response:
        self._auth(request, write=True)
        task = self._task(task_id)
        job = self.jobs[task.job_id]
        job.tasks.remove(task)
        del self.tasks[task.id]
        return self.no_content()

    def on_update_status(self, request: Request) -> Response:
        self._auth(request, write=True)
        body = self._valid(request, "TasksStatusUpdateRequest", required=True)
        # The spec requires neither field: without task ids or a status there is nothing to
        # change, which succeeds (every named task must still exist).
        ids, status = body.get("taskIDs") or [], body.get("taskStatus")
        tasks = [self._task(str(t).lower()) for t in ids]
        if status is None:
            return self.json({"success": True})
        now = self.now_ms()
        for task in tasks:
            task.forced, task.status, task.modified = True, status, now
            if status == "running" and task.started is None:
                task.started = now
            if status in _TERMINAL:
                task.completed = now
            self.advance(self.jobs[task.job_id])
        return self.json({"success": True})

    def on_engines(self, request: Request) -> Response:
        self._auth(request)
        args = request.args
        try:
            offset, limit, direction = _paging(args)
            rows = _filtered(list(self.engines), args, _ENGINE_FILTERS)
            if "orderBy" in args:
                # The spec names no default order for engines: installation order.
                order = _one_of(*ENGINE_ORDER)("orderBy", args["orderBy"])
                rows = _sorted(rows, ENGINE_ORDER[order], direction)
        except _Invalid as exc:
            return self.error(400, f"Invalid argument: {exc}")
        return self.json(
            {
                "count": len(rows),
                "offset": offset,
                "limit": limit,
                "result": rows[offset : offset + limit],
                "success": True,
            }
        )
