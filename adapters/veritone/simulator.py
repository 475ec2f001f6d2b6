"""A Veritone aiWARE simulator: ``POST /v3/graphql`` executed by graphql-core.

Jobs run their tasks in order on the simulator's clock: each task is ``queued``, then
``running`` for ``task_s``, then ``complete``. A task's ``payload`` can steer it:
``{"simulate": "fail"}`` ends it ``failed`` (failureReason ``internal_error``),
``{"simulate": "abort"}`` ends it ``aborted``; either makes its job ``failed``. A task whose
engine is in ``external_engines`` (``EXTERNAL_ENGINE`` by default) waits for an engine to drive
it through ``updateTask`` — :meth:`VeritoneSimulator.engine_payload` writes the PAYLOAD_FILE
such an engine receives. TDO assets have signed URIs served by the simulator under ``/media``.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import random
import string
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

import attrs
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    execute,
    parse,
    validate,
)
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from taskhub.testing import Simulator

from .schema import schema as build_schema

#: The one endpoint: every vendor document posts to exactly this path (no trailing slash).
GRAPHQL_PATH = "/v3/graphql"
EXTERNAL_ENGINE = "c0e55ab3-8a0c-4b8f-9c4b-0d1d2e3f4a5b"
DEFAULT_ENGINE = "54525249-da68-4dbf-b6fe-aea9a1aefd4d"
#: The one application (and organization) everything in the simulator belongs to.
APPLICATION = "sim-app"
ORGANIZATION = "7682"
JSON_LIMIT = 10_000_000
FILE_LIMIT = 104_857_600
_TERMINAL = ("complete", "failed", "aborted", "cancelled")
_ALNUM = string.ascii_letters + string.digits


def _ms(value: Any) -> int | None:
    """A DateTime argument (ISO-8601 text, or epoch milliseconds) in epoch milliseconds."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    try:
        stamp = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise GqlError("invalid_input", f"not a DateTime: {value!r}") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return int(stamp.timestamp() * 1000)


def _page(
    rows: list[Any],
    show: Callable[[Any], Any],
    offset: int | None,
    limit: int | None,
    default_limit: int = 30,
) -> dict[str, Any]:
    """One page of ``rows`` as a ``Page``. An explicit null is the argument's default; a
    negative offset or limit is ``invalid_input`` (the error codes page: "an integer parameter
    ... outside the allowed range"), never a Python slice from the end."""
    offset = 0 if offset is None else offset
    limit = default_limit if limit is None else limit
    for name, value in (("offset", offset), ("limit", limit)):
        if value < 0:
            raise GqlError("invalid_input", f"{name} must be 0 or more, not {value}")
    page = rows[offset : offset + limit]
    return {
        "records": [show(r) for r in page],
        "offset": offset,
        "limit": limit,
        "count": len(page),
    }


def _in_range(stamp: int, rules: Iterable[dict[str, Any] | None] | None, field: str) -> bool:
    """Whether ``stamp`` (epoch ms of ``field``) passes every ``dateTimeFilter`` rule on it."""
    for rule in rules or ():
        if rule is None or (rule.get("field") or "createdDateTime") != field:
            continue
        low, high = _ms(rule.get("fromDateTime")), _ms(rule.get("toDateTime"))
        if (low is not None and stamp < low) or (high is not None and stamp > high):
            return False
    return True


class GqlError(Exception):
    """A resolver failure, answered in Veritone's ``errors[]`` shape."""

    def __init__(self, name: str, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.name = name
        self.data = data


class _Middleware:
    """graphql-core takes plain functions or objects with ``resolve``, not bound methods."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def resolve(self, next_: Callable[..., Any], root: Any, info: Any, **args: Any) -> Any:
        return self.fn(next_, root, info, **args)


@attrs.define
class _Task:
    id: str
    job_id: str
    engine_id: str
    order: int
    payload: Any
    created: int
    plan: str = "ok"  # ok | fail | abort
    external: bool = False
    status: str = "pending"
    queued: int | None = None
    started: int | None = None
    completed: int | None = None
    modified: int = 0
    output: Any = None
    output_string: str | None = None
    failure_reason: str | None = None
    failure_message: str | None = None
    io_folders: list[dict[str, Any]] = attrs.field(factory=list)
    ready: int | None = None  # when its turn came (start of the current run)


@attrs.define
class _Job:
    id: str
    created: int
    target_id: str | None
    cluster_id: str | None
    tasks: list[_Task]
    routes: list[dict[str, Any]]
    modified: int = 0
    cancelled: bool = False


class VeritoneSimulator(Simulator):
    """aiWARE's GraphQL API, enough for every document taskhub sends and the docs' examples."""

    vendor = "veritone"

    def __init__(
        self,
        *,
        token: str | None = None,
        username: str = "sim@example.com",
        password: str | None = None,
        queue_s: float = 1.0,
        task_s: float = 3.0,
        external_engines: Iterable[str] = (EXTERNAL_ENGINE,),
        json_limit: int = JSON_LIMIT,
        file_limit: int = FILE_LIMIT,
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.rng = random.Random(kw.get("seed", 0))
        self.token = token or f"{self._alnum(6)}:{self.rng.getrandbits(256):064x}"
        self.username = username
        self.password = password or f"pw-{self.rng.getrandbits(64):016x}"
        self.tokens: set[str] = {self.token}
        self.engine_tokens: list[str] = []
        self.queue_ms = int(queue_s * 1000)
        self.task_ms = int(task_s * 1000)
        self.external_engines = set(external_engines)
        self.json_limit = json_limit
        self.file_limit = file_limit
        self.signing_key = self.rng.getrandbits(128).to_bytes(16, "big")
        self.schema: GraphQLSchema = build_schema()
        self._documents: dict[str, DocumentNode | list[GraphQLError]] = {}
        self._bind()
        self.jobs: dict[str, _Job] = {}
        self.job_order: list[str] = []
        self.tasks: dict[str, _Task] = {}
        self.tdos: dict[str, dict[str, Any]] = {}
        self.assets: dict[str, dict[str, Any]] = {}
        self.tdo_ids = itertools.count(38828568)
        self.engines = {
            DEFAULT_ENGINE: {
                "id": DEFAULT_ENGINE,
                "name": "Simulated Transcription",
                "categoryId": "67cd1a3e",
                "category": {"id": "67cd1a3e", "name": "Transcription"},
                "state": "active",
            },
            EXTERNAL_ENGINE: {
                "id": EXTERNAL_ENGINE,
                "name": "External Engine",
                "categoryId": "088a31be",
                "category": {"id": "088a31be", "name": "Object Detection"},
                "state": "active",
            },
        }

    # -- framework hooks ---------------------------------------------------------------------

    def routes(self) -> Iterable[Rule]:
        return [
            Rule(GRAPHQL_PATH, endpoint="graphql", methods=["POST"]),
            Rule("/media/<asset_id>/<name>", endpoint="media", methods=["GET"]),
        ]

    def error(self, status: int, message: str, headers: Any = None) -> Response:
        name = {
            400: "invalid_input",
            401: "authentication_error",
            403: "not_allowed",
            404: "not_found",
            413: "invalid_input",
            429: "rate_limited",
        }.get(status, "service_unavailable" if status in (502, 503, 504) else "internal_error")
        return self.json({"errors": [self._error_entry(name, message)]}, status, headers)

    def graphql_error(self, name: str, message: str) -> Response:
        return self.json({"data": None, "errors": [self._error_entry(name, message)]})

    def client_options(self, url: str) -> dict[str, Any]:
        return {"base_url": url, "token": self.token}

    def secrets(self) -> list[str]:
        signatures = [self._signature(a) for a, v in self.assets.items() if v.get("data")]
        return [self.token, self.password, *self.engine_tokens, *signatures]

    # -- helpers -----------------------------------------------------------------------------

    def _alnum(self, n: int) -> str:
        return "".join(self.rng.choice(_ALNUM) for _ in range(n))

    def _time(self, ms: int | None) -> str | None:
        if ms is None:
            return None
        stamp = datetime.fromtimestamp(ms / 1000, timezone.utc)
        return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"

    def _error_entry(self, name: str, message: str, data: Any = None) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "message": message,
            "name": name,
            "time_thrown": self._time(self.now_ms()),
        }
        if data is not None:
            entry["data"] = data
        return entry

    def _document(self, query: str) -> DocumentNode | list[GraphQLError]:
        cached = self._documents.get(query)
        if cached is None:
            try:
                document = parse(query)
            except GraphQLError as exc:
                cached = [exc]
            else:
                problems = validate(self.schema, document)
                cached = problems if problems else document
            if len(self._documents) < 512:
                self._documents[query] = cached
        return cached

    # -- the HTTP endpoint --------------------------------------------------------------------

    def on_graphql(self, request: Request) -> Response:
        if request.path != GRAPHQL_PATH:
            # The base router forgives a trailing slash; the real endpoint is this one path.
            return self.error(404, f"Cannot POST {request.path}")
        kind = (request.mimetype or "").lower()
        upload: dict[str, Any] | None = None
        if kind == "application/json":
            if (request.content_length or 0) > self.json_limit:
                return self._too_large_json(request.content_length or 0)
            try:
                body = json.loads(request.get_data() or b"null")
            except ValueError:
                return self.error(400, "The request body is not valid JSON")
            if not isinstance(body, dict):
                return self.error(400, "The request body must be a JSON object")
            query, variables = body.get("query"), body.get("variables")
        elif kind == "multipart/form-data":
            part = request.files.get("file")
            if part is not None:
                data = part.read(self.file_limit + 1)
                if len(data) > self.file_limit:
                    return self._too_large_file(request.content_length or len(data))
                upload = {
                    "filename": request.form.get("filename") or part.filename,
                    "data": data,
                    "content_type": part.mimetype,
                }
            query, variables = request.form.get("query"), request.form.get("variables")
        else:
            return self.error(400, "Content-Type must be application/json or multipart/form-data")
        if isinstance(variables, str):
            try:
                variables = json.loads(variables) if variables.strip() else None
            except ValueError:
                return self.error(400, "variables is not valid JSON")
        if not isinstance(query, str) or not query.strip():
            return self.error(400, "The request must have a query")
        if variables is not None and not isinstance(variables, dict):
            return self.error(400, "variables must be an object")
        document = self._document(query)
        if isinstance(document, list):
            return self.json(
                {"errors": [self._error_entry("invalid_input", e.message) for e in document]}, 400
            )
        context = {
            "authorized": self._authorized(request),
            "upload": upload,
            "token": self._bearer(request),
        }
        outcome = execute(
            self.schema,
            document,
            variable_values=variables,
            context_value=context,
            middleware=[_Middleware(self._auth_middleware)],
        )
        assert isinstance(outcome, ExecutionResult)  # no resolver is async
        result = outcome
        if (
            result.data is None
            and result.errors
            and all(
                e.original_error is None or isinstance(e.original_error, GraphQLError)
                for e in result.errors
            )
        ):
            # Variable coercion failed (graphql-core keeps the inner GraphQLError of an input
            # object's coercion as original_error): nothing was executed.
            return self.json(
                {"errors": [self._error_entry("invalid_input", e.message) for e in result.errors]},
                400,
            )
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [self._format(e) for e in result.errors]
        return self.json(answer)

    def _too_large_json(self, size: int) -> Response:
        entry = self._error_entry(
            "invalid_input",
            f"The JSON request was larger than the limit allowed by this "
            f"server. The maximum JSON request size is {self.json_limit} bytes (10 mb).",
            {
                "limitInBytes": self.json_limit,
                "requestSize": str(size),
                "errorId": str(uuid.uuid4()),
            },
        )
        return self.json({"errors": [entry]}, 413)

    def _too_large_file(self, size: int) -> Response:
        return self.json(
            {
                "errors": [
                    {
                        "code": "LIMIT_FILE_SIZE",
                        "field": "file",
                        "storageErrors": [],
                        "data": {
                            "limitInBytes": self.file_limit,
                            "requestSize": str(size),
                            "errorId": str(uuid.uuid4()),
                        },
                        "name": "invalid_input",
                        "message": "The file upload was larger than the limit allowed by this "
                        "server. "
                        f"The maximum file upload size is {self.file_limit} bytes (100 mb).",
                    }
                ]
            },
            413,
        )

    def _format(self, error: GraphQLError) -> dict[str, Any]:
        original = error.original_error
        if isinstance(original, GqlError):
            entry = self._error_entry(original.name, str(original), original.data)
        else:
            entry = self._error_entry("internal_error", error.message)
            if original is not None:
                self.crashes.append(
                    original if isinstance(original, Exception) else Exception(original)
                )
        if error.path:
            entry["path"] = list(error.path)
        return entry

    def _bearer(self, request: Request) -> str | None:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        return value.strip() if scheme.lower() == "bearer" else None

    def _authorized(self, request: Request) -> bool:
        return self._bearer(request) in self.tokens

    def _auth_middleware(self, next_: Callable[..., Any], root: Any, info: Any, **args: Any) -> Any:
        parent = info.parent_type.name
        if (
            parent in ("Query", "Mutation")
            and not info.field_name.startswith("__")
            and info.field_name != "userLogin"
            and not info.context["authorized"]
        ):
            raise GqlError(
                "authentication_error", "The token is invalid or expired, or no token was sent"
            )
        return next_(root, info, **args)

    def on_media(self, request: Request, asset_id: str, name: str) -> Response:
        asset = self.assets.get(asset_id)
        expected = self._signature(asset_id)
        if asset is None or asset.get("data") is None or asset.get("missing"):
            return Response(
                b"<Error><Code>NoSuchKey</Code></Error>", 404, content_type="application/xml"
            )
        if not hmac.compare_digest(request.args.get("X-Amz-Signature", ""), expected):
            return Response(
                b"<Error><Code>SignatureDoesNotMatch</Code></Error>",
                403,
                content_type="application/xml",
            )
        return Response(
            asset["data"], 200, content_type=asset.get("contentType") or "application/octet-stream"
        )

    def _signature(self, asset_id: str) -> str:
        return hmac.new(self.signing_key, asset_id.encode(), hashlib.sha256).hexdigest()

    # -- resolvers ---------------------------------------------------------------------------

    def _bind(self) -> None:
        query, mutation = self.schema.query_type, self.schema.mutation_type
        assert query is not None and mutation is not None
        for name in ("job", "jobs", "task", "temporalDataObject", "asset", "engineResults"):
            query.fields[name].resolve = self._root(getattr(self, f"q_{name}"))
        for name in (
            "updateTask",
            "createJob",
            "cancelJob",
            "retryJob",
            "createAsset",
            "uploadEngineResult",
            "userLogin",
            "createTDO",
            "deleteTDO",
        ):
            mutation.fields[name].resolve = self._root(getattr(self, f"m_{name}"))

    def _root(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def resolve(_root: Any, info: Any, **args: Any) -> Any:
            with self.lock:
                return fn(info, **args)

        return resolve

    def q_job(self, info: Any, id: str) -> Any:
        return self._job_view(self._job(str(id)))

    def q_jobs(self, info: Any, offset: int | None = 0, limit: int | None = 30, **args: Any) -> Any:
        rows = [self.jobs[i] for i in reversed(self.job_order)]  # newest first
        for job in rows:
            self.advance(job)
        rows = [j for j in rows if self._job_matches(j, args)]
        for rule in reversed(args.get("orderBy") or [{"field": "createdDateTime"}]):
            field = "modified" if rule.get("field") == "modifiedDateTime" else "created"
            descending = (rule.get("direction") or "desc") == "desc"
            rows.sort(key=lambda j: getattr(j, field), reverse=descending)
        return _page(rows, self._job_view, offset, limit)

    def _job_matches(self, job: _Job, args: dict[str, Any]) -> bool:
        """Whether ``job`` passes every ``jobs`` filter given (the published arguments; the
        simulator's jobs all belong to its one application, active, and none is scheduled)."""
        engines = {t.engine_id for t in job.tasks}
        categories = {self.engines.get(e, {}).get("categoryId") for e in engines}

        def given(name: str) -> bool:
            return args.get(name) is not None

        return not (
            (given("id") and job.id != str(args["id"]))
            or (args.get("status") and self.job_status(job) not in args["status"])
            or (given("applicationStatus") and args["applicationStatus"] != "active")
            or (given("applicationId") and str(args["applicationId"]) != APPLICATION)
            or (given("applicationIds") and APPLICATION not in map(str, args["applicationIds"]))
            or (given("targetId") and job.target_id != str(args["targetId"]))
            or (given("clusterId") and job.cluster_id != str(args["clusterId"]))
            or (given("hasTargetTDO") and args["hasTargetTDO"] != (job.target_id is not None))
            or given("scheduledJobIds")
            or args.get("hasScheduledJobId") is True
            or (given("engineIds") and not engines & set(map(str, args["engineIds"])))
            or (given("engineCategoryIds") and not categories & set(args["engineCategoryIds"]))
            or not _in_range(job.created, args.get("dateTimeFilter"), "createdDateTime")
            or not _in_range(job.modified, args.get("dateTimeFilter"), "modifiedDateTime")
        )

    def q_task(self, info: Any, id: str) -> Any:
        task = self.tasks.get(str(id))
        if task is None:
            raise GqlError(
                "not_found",
                "The requested object was not found",
                {"objectId": str(id), "objectType": "Task"},
            )
        self.advance(self.jobs[task.job_id])
        return self._task_view(task)

    def q_temporalDataObject(self, info: Any, id: str) -> Any:
        return self._tdo_view(self._tdo(str(id)))

    def q_asset(self, info: Any, id: str) -> Any:
        asset = self.assets.get(str(id))
        if asset is None:
            raise GqlError(
                "not_found",
                "The requested object was not found",
                {"objectId": str(id), "objectType": "Asset"},
            )
        return self._asset_view(asset)

    def q_engineResults(
        self,
        info: Any,
        tdoId: str | None = None,
        sourceId: str | None = None,
        engineIds: list[str] | None = None,
        engineCategoryIds: list[str] | None = None,
        jobId: str | None = None,
        **_: Any,
    ) -> Any:
        if (tdoId or sourceId) and not (engineIds or engineCategoryIds) and not jobId:
            raise GqlError("invalid_input", "engineIds or engineCategoryIds is required with tdoId")
        records = []
        for job in self.jobs.values():
            if jobId and job.id != str(jobId):
                continue
            if tdoId and job.target_id != str(tdoId):
                continue
            for task in job.tasks:
                if task.status == "complete" and (not engineIds or task.engine_id in engineIds):
                    records.append(
                        {
                            "tdoId": job.target_id or "",
                            "engineId": task.engine_id,
                            "jsondata": {"taskId": task.id, **(task.output or {})},
                            "userEdited": False,
                        }
                    )
        return {"sourceId": sourceId, "records": records}

    def m_userLogin(self, info: Any, input: dict[str, Any] | None = None) -> Any:
        if (
            not input
            or input.get("userName") != self.username
            or input.get("password") != self.password
        ):
            raise GqlError("authentication_error", "Invalid username or password")
        token = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        self.tokens.add(token)
        return {"token": token, "apiToken": None}

    def m_createTDO(self, info: Any, input: dict[str, Any] | None = None) -> Any:
        input = input or {}
        tdo = self.add_tdo(name=input.get("name"), status=input.get("status") or "downloaded")
        return self._tdo_view(tdo)

    def m_deleteTDO(self, info: Any, id: str) -> Any:
        self._tdo(str(id))
        del self.tdos[str(id)]
        return {"id": str(id), "message": f"TemporalDataObject {id} was deleted."}

    def m_createJob(self, info: Any, input: dict[str, Any] | None = None) -> Any:
        input = input or {}
        tasks = input.get("tasks") or []
        if not tasks:
            raise GqlError("invalid_input", "A job needs at least one task")
        if input.get("targetId") is not None and input.get("target") is not None:
            raise GqlError("invalid_input", "Use targetId or target, not both")
        target_id: str | None = None
        if input.get("targetId") is not None:
            target_id = str(self._tdo(str(input["targetId"]))["id"])
        elif input.get("target") is not None:
            target_id = self.add_tdo(name=input["target"].get("name"))["id"]
        now = self.now_ms()
        stamp = datetime.fromtimestamp(now / 1000, timezone.utc).strftime("%y%m%d%H")
        job = _Job(
            f"{stamp}_{self._alnum(10)}",
            now,
            target_id,
            input.get("clusterId"),
            [],
            list(input.get("routes") or []),
            now,
        )
        for order, spec in enumerate(tasks):
            engine = spec.get("engineId") or (DEFAULT_ENGINE if spec.get("taskType") else None)
            if engine is None:
                raise GqlError("invalid_input", f"tasks[{order}]: engineId or taskType is required")
            payload = spec.get("payload")
            if payload is None and spec.get("payloadString"):
                try:
                    payload = json.loads(spec["payloadString"])
                except ValueError:
                    raise GqlError(
                        "invalid_input", f"tasks[{order}].payloadString is not JSON"
                    ) from None
            plan = (payload or {}).get("simulate", "ok") if isinstance(payload, dict) else "ok"
            task = _Task(
                f"{job.id}{self._alnum(5)}",
                job.id,
                str(engine),
                order,
                payload,
                now,
                plan=plan,
                external=str(engine) in self.external_engines,
                io_folders=list(spec.get("ioFolders") or []),
                modified=now,
            )
            job.tasks.append(task)
            self.tasks[task.id] = task
        self.jobs[job.id] = job
        self.job_order.append(job.id)
        self.advance(job)
        return self._job_view(job)

    def m_cancelJob(self, info: Any, id: str) -> Any:
        job = self._job(str(id))
        now = self.now_ms()
        job.cancelled = True
        job.modified = now
        for task in job.tasks:
            if task.status not in _TERMINAL:
                task.status, task.completed, task.modified = "cancelled", now, now
        return {"id": job.id, "message": f"Job {job.id} was cancelled"}

    def m_retryJob(self, info: Any, id: str) -> Any:
        job = self._job(str(id))
        self.advance(job)
        if self.job_status(job) != "failed":
            raise GqlError("invalid_input", f"Job {job.id} is not in a failure state")
        now = self.now_ms()
        for task in job.tasks:
            if task.status in ("failed", "aborted"):
                task.plan, task.status, task.ready = "ok", "queued", now + self.queue_ms
                task.started = task.completed = None
                task.failure_reason = task.failure_message = None
                task.modified = now
        job.modified = now
        self.advance(job)
        return self._job_view(job)

    def m_updateTask(self, info: Any, input: dict[str, Any] | None = None) -> Any:
        if not input:
            raise GqlError("invalid_input", "input is required")
        task = self.tasks.get(str(input["id"]))
        if task is None:
            raise GqlError(
                "not_found",
                "The requested object was not found",
                {"objectId": str(input["id"]), "objectType": "Task"},
            )
        status = input["status"]
        reason, message = input.get("failureReason"), input.get("failureMessage")
        if reason is not None and status != "failed":
            raise GqlError("invalid_input", "failureReason can only be set when status is failed")
        if message is not None and (status != "failed" or reason is None):
            raise GqlError(
                "invalid_input",
                "failureMessage can only be set with status failed and a failureReason",
            )
        now = self.now_ms()
        self.advance(self.jobs[task.job_id])
        task.external = True
        task.status, task.modified = status, now
        if status == "running" and task.started is None:
            task.started = now
        if status in _TERMINAL:
            task.completed = now
        if input.get("output") is not None:
            task.output = input["output"]
        if input.get("outputString") is not None:
            task.output_string = input["outputString"]
            try:
                task.output = json.loads(input["outputString"])
            except ValueError:
                task.output = {input.get("outputJsonKey") or "data": input["outputString"]}
        task.failure_reason, task.failure_message = reason, message
        self.advance(self.jobs[task.job_id])
        return self._task_view(task)

    def m_createAsset(self, info: Any, input: dict[str, Any]) -> Any:
        tdo = self._tdo(str(input["containerId"]))
        upload = info.context.get("upload")
        kind = input.get("type") or input.get("assetType")
        if not kind:
            raise GqlError("invalid_input", "Either type or assetType must be provided")
        if not input.get("uri") and upload is None:
            raise GqlError(
                "invalid_input", "One of uri or file (upload) must be provided to create an asset."
            )
        asset = self.add_asset(
            tdo["id"],
            kind,
            input.get("contentType") or (upload or {}).get("content_type"),
            data=(upload or {}).get("data"),
            uri=input.get("uri"),
            name=input.get("name") or (upload or {}).get("filename"),
            source=input.get("sourceData"),
        )
        return self._asset_view(asset)

    def m_uploadEngineResult(self, info: Any, input: dict[str, Any]) -> Any:
        task = self.tasks.get(str(input["taskId"]))
        if task is None:
            raise GqlError(
                "not_found",
                "The requested object was not found",
                {"objectId": str(input["taskId"]), "objectType": "Task"},
            )
        if task.status == "complete":
            raise GqlError("invalid_input", f"Task {task.id} is already complete")
        job = self.jobs[task.job_id]
        upload = info.context.get("upload")
        output = input.get("output")
        if input.get("outputString") is not None:
            output = {input.get("outputJsonKey") or "data": input["outputString"]}
        data = (upload or {}).get("data")
        if data is None and output is not None:
            data = json.dumps(output).encode()
        container = job.target_id or self.add_tdo()["id"]
        asset = self.add_asset(
            container,
            input.get("assetType") or "text",
            input.get("contentType") or "application/json",
            data=data,
            uri=input.get("uri"),
            name=input.get("filename"),
            source={"taskId": task.id, "engineId": task.engine_id},
        )
        if input.get("completeTask", True):
            now = self.now_ms()
            task.external, task.status, task.completed, task.modified = True, "complete", now, now
            if input.get("setTaskOutput", True) and output is not None:
                task.output = output
        return self._asset_view(asset)

    # -- state -----------------------------------------------------------------------------

    def _job(self, job_id: str) -> _Job:
        job = self.jobs.get(job_id)
        if job is None:
            raise GqlError(
                "not_found",
                "The requested object was not found",
                {"objectId": job_id, "objectType": "Job"},
            )
        self.advance(job)
        return job

    def _tdo(self, tdo_id: str) -> dict[str, Any]:
        tdo = self.tdos.get(tdo_id)
        if tdo is None:
            raise GqlError(
                "not_found",
                "The requested object was not found",
                {"objectId": tdo_id, "objectType": "TemporalDataObject"},
            )
        return tdo

    def add_tdo(self, *, name: str | None = None, status: str = "downloaded") -> dict[str, Any]:
        """Create a TDO (recording container)."""
        now = self.now_ms()
        tdo: dict[str, Any] = {
            "id": str(next(self.tdo_ids)),
            "name": name,
            "status": status,
            "created": now,
            "start": now // 1000,
            "stop": now // 1000 + 60,
            "assets": [],
        }
        self.tdos[tdo["id"]] = tdo
        return tdo

    def add_asset(
        self,
        container_id: str,
        kind: str,
        content_type: str | None,
        *,
        data: bytes | None = None,
        uri: str | None = None,
        name: str | None = None,
        source: dict[str, Any] | None = None,
        created: int | None = None,
    ) -> dict[str, Any]:
        """Store an asset in a TDO; uploaded bytes get a signed URI served under /media."""
        asset_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        asset = {
            "id": asset_id,
            "containerId": container_id,
            "type": kind,
            "contentType": content_type,
            "name": name,
            "uri": uri,
            "data": data,
            "created": self.now_ms() if created is None else created,
            "sourceData": source,
        }
        self.assets[asset_id] = asset
        self.tdos[container_id]["assets"].append(asset_id)
        return asset

    def signed_uri(self, asset: dict[str, Any]) -> str | None:
        """The asset's download URL: the simulator's own, signed, for stored bytes."""
        if asset.get("data") is None:
            return str(asset["uri"]) if asset.get("uri") else None
        name = asset.get("name") or f"{asset['id']}.bin"
        return (
            f"{self.root_url}/media/{asset['id']}/{name}?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            f"&X-Amz-Expires=604800&X-Amz-Signature={self._signature(asset['id'])}"
        )

    def advance(self, job: _Job) -> None:
        """Move the job's self-running tasks forward to now; tasks run one after another."""
        now = self.now_ms()
        turn: int | None = job.created + self.queue_ms
        for task in job.tasks:
            if task.status == "pending" and task.queued is None and not job.cancelled:
                task.status, task.queued = "queued", job.created
            if task.status in _TERMINAL:
                turn = task.completed if task.status == "complete" else None
                continue
            if task.external or job.cancelled or turn is None:
                turn = None
                continue
            start = max(turn, task.ready or 0)
            end = start + self.task_ms
            if now < start:
                turn = None
                continue
            if now < end:
                if task.status != "running":
                    task.status, task.started, task.modified = "running", start, start
                turn = None
                continue
            task.started = task.started or start
            task.completed, task.modified = end, end
            if task.plan == "fail":
                task.status, task.failure_reason = "failed", "internal_error"
                task.failure_message = "the simulated engine failed"
                task.output = {"error": "the simulated engine failed"}
                turn = None
            elif task.plan == "abort":
                task.status, turn = "aborted", None
            else:
                task.status = "complete"
                task.output = task.output or {"series": [], "engineId": task.engine_id}
                turn = end
        job.modified = max([job.modified, *(t.modified for t in job.tasks)])

    def job_status(self, job: _Job) -> str:
        """The job's status, computed from its tasks."""
        statuses = [t.status for t in job.tasks]
        if job.cancelled:
            return "cancelled"
        if any(s in ("failed", "aborted") for s in statuses):
            return "failed"
        if all(s == "complete" for s in statuses):
            return "complete"
        if any(s == "running" for s in statuses):
            return "running"
        if any(s in ("queued", "accepted", "waiting") for s in statuses):
            return "queued"
        return "pending"

    # -- views (plain dicts; argument-taking fields are callables) ---------------------------
    #
    # Job, Task, TemporalDataObject, Engine and Asset serve every published field: a field the
    # simulator has no data for is left out of the view (null), or empty where it is a list
    # the schema says is never null.

    def _task_list(
        self,
        rows: list[_Task],
        offset: int | None,
        limit: int | None,
        args: dict[str, Any],
    ) -> dict[str, Any]:
        """A ``TaskList`` page of ``rows`` after the published task filters: ``status``,
        ``id``, ``targetId``, ``hasSourceAsset`` (no simulated task has a source asset) and
        ``dateTimeFilter``."""
        status, task_id, targets = args.get("status"), args.get("id"), args.get("targetId")
        rules = args.get("dateTimeFilter")
        kept = [
            t
            for t in rows
            if (not status or t.status in status)
            and (task_id is None or t.id == str(task_id))
            and (targets is None or self.jobs[t.job_id].target_id in {str(x) for x in targets})
            and args.get("hasSourceAsset") is not True
            and _in_range(t.created, rules, "createdDateTime")
            and _in_range(t.modified, rules, "modifiedDateTime")
        ]
        return _page(kept, self._task_view, offset, limit)

    def _job_view(self, job: _Job) -> dict[str, Any]:
        def tasks(info: Any, offset: int | None = 0, limit: int | None = 30, **args: Any) -> Any:
            return self._task_list(job.tasks, offset, limit, args)

        return {
            "id": job.id,
            "status": self.job_status(job),
            "targetId": job.target_id,
            "clusterId": job.cluster_id,
            "applicationId": APPLICATION,
            "createdDateTime": self._time(job.created),
            "modifiedDateTime": self._time(job.modified),
            "tasks": tasks,
            "target": (lambda info, **_: self._tdo_view(self.tdos[job.target_id]))
            if job.target_id in self.tdos
            else None,
            "routes": [
                {
                    "parentIoFolderReferenceId": r.get("parentIoFolderReferenceId"),
                    "childIoFolderReferenceId": r.get("childIoFolderReferenceId"),
                    "options": r.get("options"),
                }
                for r in job.routes
            ],
        }

    def _task_view(self, task: _Task) -> dict[str, Any]:
        job = self.jobs[task.job_id]
        return {
            "id": task.id,
            "jobId": task.job_id,
            "job": lambda info, **_: self._job_view(job),
            "engineId": task.engine_id,
            "engine": lambda info, **_: self._engine_view(task.engine_id),
            "status": task.status,
            "order": task.order,
            "isClone": False,
            "testTask": False,
            "applicationId": APPLICATION,
            "payload": task.payload,
            "taskPayload": task.payload,
            "output": task.output,
            "outputString": task.output_string,
            "taskOutput": task.output,
            "failureReason": task.failure_reason,
            "failureMessage": task.failure_message,
            "targetId": job.target_id,
            "target": (lambda info, **_: self._tdo_view(self.tdos[job.target_id]))
            if job.target_id in self.tdos
            else None,
            "childTaskIds": [],
            "childTasks": [],
            "createdDateTime": self._time(task.created),
            "modifiedDateTime": self._time(task.modified),
            "queuedDateTime": self._time(task.queued),
            "startedDateTime": self._time(task.started),
            "completedDateTime": self._time(task.completed),
            "ioFolders": [
                {"referenceId": f.get("referenceId"), "type": f.get("type"), "mode": f.get("mode")}
                for f in task.io_folders
            ],
        }

    def _engine_view(self, engine_id: str) -> dict[str, Any]:
        engine: dict[str, Any] = self.engines.get(engine_id, {"id": engine_id, "name": None})
        tasks = [t for t in self.tasks.values() if t.engine_id == engine_id]

        def task_list(
            info: Any, offset: int | None = 0, limit: int | None = 30, **args: Any
        ) -> Any:
            return self._task_list(tasks, offset, limit, args)

        def builds(info: Any, offset: int | None = 0, limit: int | None = 30, **_: Any) -> Any:
            return _page([], dict, offset, limit)

        category = engine.get("category")
        return {
            **engine,
            "ownerOrganizationId": ORGANIZATION,
            "isPublic": False,
            "applicationId": APPLICATION,
            "tasks": task_list,
            "builds": builds,
            "category": None if category is None else self._category_view(category),
        }

    @staticmethod
    def _category_view(category: dict[str, Any]) -> dict[str, Any]:
        def engines(info: Any, offset: int | None = 0, limit: int | None = 30, **_: Any) -> Any:
            return {**_page([], dict, offset, limit), "count": 0}

        return {**category, "engines": engines, "exportFormats": []}

    def _tdo_view(self, tdo: dict[str, Any]) -> dict[str, Any]:
        def assets(
            info: Any,
            offset: int | None = 0,
            limit: int | None = 30,
            orderBy: str | None = "createdDateTime",
            orderDirection: str | None = "desc",
            **args: Any,
        ) -> dict[str, Any]:
            wanted = set(args.get("type") or []) | set(args.get("assetType") or [])
            asset_id, source = args.get("id"), args.get("sourceTaskId")
            rows = [
                a
                for a in (self.assets[i] for i in tdo["assets"] if i in self.assets)
                if (not wanted or a["type"] in wanted)
                and (asset_id is None or a["id"] == str(asset_id))
                and (source is None or (a.get("sourceData") or {}).get("taskId") == str(source))
            ]
            key = {"assetType": "type", "contentType": "contentType"}.get(orderBy or "", "created")
            rows.sort(key=lambda a: a.get(key) or "", reverse=(orderDirection or "desc") == "desc")
            return _page(rows, self._asset_view, offset, limit)

        def tasks(info: Any, offset: int | None = 0, limit: int | None = 30, **args: Any) -> Any:
            jobs = [self.jobs[j] for j in self.job_order if self.jobs[j].target_id == tdo["id"]]
            for job in jobs:
                self.advance(job)
            return self._task_list([t for j in jobs for t in j.tasks], offset, limit, args)

        def jobs(info: Any, **_: Any) -> Any:
            found = [self.jobs[j] for j in reversed(self.job_order)]
            return _page([j for j in found if j.target_id == tdo["id"]], self._job_view, 0, None)

        def primary(info: Any, assetType: str) -> Any:
            kept = [self.assets[i] for i in tdo["assets"] if self.assets[i]["type"] == assetType]
            return self._asset_view(kept[-1]) if kept else None

        def runs(info: Any, offset: int | None = 0, limit: int | None = 100) -> Any:
            return _page([], dict, offset, limit, default_limit=100)

        return {
            "id": tdo["id"],
            "name": tdo["name"],
            "status": tdo["status"],
            "startDateTime": tdo["start"],
            "stopDateTime": tdo["stop"],
            "createdDateTime": self._time(tdo["created"]),
            "applicationId": APPLICATION,
            "assets": assets,
            "assetCount": len(tdo["assets"]),
            "primaryAsset": primary,
            "tasks": tasks,
            "jobs": jobs,
            "engineRuns": runs,
            "streams": [],
        }

    def _asset_view(self, asset: dict[str, Any]) -> dict[str, Any]:
        data = asset.get("data")
        source = asset.get("sourceData")

        def jsonstring(info: Any, indent: int | None = 2) -> str | None:
            try:
                return json.dumps(json.loads(data or b""), indent=indent)
            except ValueError:
                return None  # not JSON content

        return {
            "id": asset["id"],
            "containerId": asset["containerId"],
            "container": lambda info, **_: (
                self._tdo_view(self.tdos[asset["containerId"]])
                if asset["containerId"] in self.tdos
                else None
            ),
            "type": asset["type"],
            "assetType": asset["type"],
            "contentType": asset.get("contentType"),
            "name": asset.get("name"),
            "uri": asset.get("uri") or self.signed_uri(asset),
            "signedUri": self.signed_uri(asset),
            "createdDateTime": self._time(asset["created"]),
            "jsonstring": jsonstring,
            "isUserEdited": False,
            "fileData": {"size": len(data), "md5sum": hashlib.md5(data).hexdigest()}
            if data is not None
            else None,
            "sourceData": None if source is None else self._source_view(source),
        }

    def _source_view(self, source: dict[str, Any]) -> dict[str, Any]:
        task = self.tasks.get(str(source.get("taskId")))
        engine = source.get("engineId")
        return {
            **source,
            "task": None if task is None else (lambda info, **_: self._task_view(task)),
            "engine": None if engine is None else (lambda info, **_: self._engine_view(engine)),
        }

    def demo_spec(self) -> dict[str, Any]:
        return {
            "tasks": [
                {
                    "engineId": DEFAULT_ENGINE,
                    "payload": {"url": "https://media.example.com/interview.mp4"},
                }
            ],
            "target": {
                "startDateTime": 1700000000,
                "stopDateTime": 1700000060,
                "name": "interview",
            },
        }

    # -- the engine flow ---------------------------------------------------------------------

    def engine_payload(self, task_id: str, **extra: Any) -> dict[str, Any]:
        """The PAYLOAD_FILE an engine receives for ``task_id``, with a fresh engine token."""
        task = self.tasks[task_id]
        job = self.jobs[task.job_id]
        token = f"eyJ{self.rng.getrandbits(192):048x}.{self.rng.getrandbits(96):024x}"
        self.tokens.add(token)
        self.engine_tokens.append(token)
        return {
            "applicationId": APPLICATION,
            "jobId": job.id,
            "taskId": task.id,
            "recordingId": job.target_id,
            "token": token,
            "veritoneApiBaseUrl": self.root_url,
            "taskPayload": task.payload or {},
            **extra,
        }
