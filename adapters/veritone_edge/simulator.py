"""A Veritone aiWARE Edge simulator: ``/edge/v1`` jobs, tasks, outputs and engines.

Jobs run their tasks in order on the clock: ``pending`` -> ``queued`` -> ``running`` for
``task_s`` -> ``complete``; the job's outputs (``vtn-standard-<uuid>.json``) appear when it
completes. A task payload ``{"simulate": "fail"}`` ends it ``failed`` (failureReason
``bad_data``); ``"reject"`` ends it ``rejected``. ``POST /proc/tasks/update_status`` sets any
``TaskStatusEnum`` word. Auth: ``Authorization: Bearer`` or the spec's ``api_key`` header; a
known read-only token gets 403. Every answer carries ``X-Aiware-Version`` and
``X-Correlation-Id`` (the request's, or a new one).
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from collections.abc import Iterable
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


@attrs.define
class _Task:
    id: str
    job_id: str
    engine_id: str
    correlation: str
    payload: str | None
    created: int
    plan: str = "ok"
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
            "internalOrganizationID": None,
            "maxRunning": 4,
            "minRunning": 0,
            "parallelProcessing": False,
            "preload": False,
            "createdDateTime": "2024-01-01T00:00:00Z",
            "modifiedDateTime": "2024-01-01T00:00:00Z",
        }

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
        return {
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
            "taskOutputSON": task.output,
            "ioFolders": [
                {
                    "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{task.id}/{n}")),
                    "correlationId": f.get("correlationID"),
                    "mode": f.get("mode"),
                    "type": f.get("type"),
                    "optionsJSON": f.get("optionsJSON"),
                }
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

    def job_detail(self, job: _Job) -> dict[str, Any]:
        return {
            "internalJobID": job.id,
            "internalOrganizationID": job.organization,
            "jobStatus": self.job_status(job),
            "currentRetries": 0,
            "maxRetries": 0,
            "priority": 0,
            "createdDateTime": self._time(job.created),
            "modifiedDateTime": self._time(job.modified or job.created),
            "jobConfigJSON": job.config,
            "tasks": [self.task_detail(t) for t in job.tasks],
            "taskRoutes": job.routes,
            "coreRecordingId": 0,
            "coreSourceId": 0,
        }

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

    def on_create(self, request: Request) -> Response:
        self._auth(request, write=True)
        body = self.body(request)
        jobs = body.get("jobs") if isinstance(body, dict) else None
        if not isinstance(jobs, list) or not jobs:
            return self.error(400, "Invalid argument: jobs must be a non-empty list")
        known = {e["engineID"] for e in self.engines}
        created: list[_Job] = []
        now = self.now_ms()
        for n, spec in enumerate(jobs):
            tasks = spec.get("tasks") if isinstance(spec, dict) else None
            if not isinstance(tasks, list) or not tasks:
                return self.error(400, f"Invalid argument: jobs[{n}].tasks is empty")
            job = _Job(
                str(self._uuid()),
                spec.get("internalOrganizationID") or self.organization,
                now,
                [],
                [],
                spec.get("jobConfigJSON"),
                now,
            )
            names: dict[str, str] = {}
            for m, item in enumerate(tasks):
                engine = item.get("engineId")
                if not engine:
                    return self.error(
                        400, f"Invalid argument: jobs[{n}].tasks[{m}].engineId is required"
                    )
                if engine not in known:
                    return self.error(
                        400, f"Invalid argument: engine {engine} is not available on edge"
                    )
                payload = item.get("payloadJSON")
                if payload is not None and not isinstance(payload, str):
                    return self.error(
                        400,
                        f"Invalid argument: jobs[{n}].tasks[{m}].payloadJSON must be a JSON string",
                    )
                try:
                    plan = (json.loads(payload) or {}).get("simulate", "ok") if payload else "ok"
                except (ValueError, AttributeError):
                    return self.error(
                        400, f"Invalid argument: jobs[{n}].tasks[{m}].payloadJSON is not JSON"
                    )
                task = _Task(
                    str(self._uuid()),
                    job.id,
                    engine,
                    item.get("correlationTaskId") or f"task-{m}",
                    payload,
                    now,
                    plan=plan if isinstance(plan, str) else "ok",
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
        job = self._job(job_id)
        del self.jobs[job.id]
        self.order.remove(job.id)
        for task in job.tasks:
            self.tasks.pop(task.id, None)
        return Response(status=204)

    def on_list_jobs(self, request: Request) -> Response:
        self._auth(request)
        args = request.args
        try:
            offset = int(args.get("offset", "0"))
            limit = int(args.get("limit", "10"))
        except ValueError:
            return self.error(400, "Invalid argument: offset and limit must be integers")
        rows = [self.jobs[i] for i in self.order]
        for job in rows:
            self.advance(job)
        status = args.get("status")
        if status:
            if status not in STATUSES:
                return self.error(400, f"Invalid argument: unknown status {status!r}")
            rows = [j for j in rows if self.job_status(j) == status]
        if args.get("direction", "DESC").upper() == "DESC":
            rows = rows[::-1]
        page = rows[offset : offset + limit]
        return self.json(
            {
                "count": len(rows),
                "offset": offset,
                "limit": limit,
                "result": [self.job_detail(j) for j in page],
                "success": True,
                "error": None,
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
        return Response(status=204)

    def on_update_status(self, request: Request) -> Response:
        self._auth(request, write=True)
        body = self.body(request)
        if not isinstance(body, dict) or not isinstance(body.get("taskIDs"), list):
            return self.error(400, "Invalid argument: taskIDs is required")
        status = body.get("taskStatus")
        if status not in STATUSES:
            return self.error(400, f"Invalid argument: unknown taskStatus {status!r}")
        tasks = [self._task(str(t)) for t in body["taskIDs"]]
        now = self.now_ms()
        for task in tasks:
            task.forced, task.status, task.modified = True, status, now
            if status == "running" and task.started is None:
                task.started = now
            if status in _TERMINAL:
                task.completed = now
            self.advance(self.jobs[task.job_id])
        return self.json({"success": True, "error": None})

    def on_engines(self, request: Request) -> Response:
        self._auth(request)
        try:
            offset = int(request.args.get("offset", "0"))
            limit = int(request.args.get("limit", "10"))
        except ValueError:
            return self.error(400, "Invalid argument: offset and limit must be integers")
        page = self.engines[offset : offset + limit]
        return self.json(
            {
                "count": len(self.engines),
                "offset": offset,
                "limit": limit,
                "result": page,
                "success": True,
                "error": None,
            }
        )
