"""A Cognite Data Fusion simulator: sessions, workflows, versions, executions, task updates.

Executions run their version's task DAG on the simulator's clock. ``run`` creates the
execution (``RUNNING``, no ``startTime`` yet) and schedules the tasks without dependencies at
once, so a worker can see them in ``executedTasks`` straight away; the execution starts
``start_s`` later. A task is SCHEDULED once its dependencies finished, IN_PROGRESS
``schedule_s`` later (never before the execution started), and done ``task_s`` after that —
unless it is an async function task (``isAsyncComplete``), which waits for
``POST /workflows/tasks/{id}/update``; that update is taken while the task is SCHEDULED or
IN_PROGRESS (the SDK's own integration test sends it right after ``run``).

Every task type answers its documented output: function ``{callId, functionId, response}``,
transformation ``{jobId}``, cdf ``{response, statusCode}``, simulation
``{runId, logId, statusMessage}``. Dynamic and subworkflow tasks spawn their tasks (children
carry ``parentTaskExternalId``) and complete at once; a task that depends on them waits until
every child finished, as a recorded CDF execution shows. A task whose target (function or
transformation external id, routine external id, cdf resource path) contains ``fail`` fails
every attempt (FAILED after its ``retries``); one containing ``timeout`` ends TIMED_OUT. Two
workflows are there from the start:

* ``taskhub-auto`` / ``1``: one function task that completes by itself;
* ``taskhub-demo`` / ``1``: ``prepare`` (function) then ``external-step`` (async function).

Workflow triggers (``/workflows/triggers``: upsert, list, delete, history, pause, resume) keep
schedule, data-modeling and record-stream rules; a schedule trigger fires on the clock (a
five-field cron expression in its time zone, see :mod:`.cron`): before each request is
answered, every firing that fell due starts an execution of the trigger's version with its
input plus ``version`` and its metadata, and is kept in the trigger's run history (``failed``
with a reason when the version is gone). Data-modeling and record-stream triggers never fire
(there are no instances or records here).

Every body is checked as the published API checks it (a 400 in Cognite's error envelope).
Also: OAuth client credentials at ``/oauth2/token``, ``/api/v1/token/inspect``, gzip request
bodies, single-use nonces, the ``{"error": {"code", "message"}}`` envelope with
``x-request-id`` on every answer, and raw-path routing (``%2F`` inside an external id).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import functools
import hashlib
import itertools
import json
import random
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from taskhub.hub import TaskHub
from taskhub.model import Task
from taskhub.states import State
from taskhub.testing import Answer, Simulator

from . import cron

MAX_OUTPUT = 100 * 1024
#: The run ``input`` limit (user guide: "Input data is limited to 100KB in size").
MAX_INPUT = 100 * 1024
#: Tasks in one execution, dynamically generated ones included (limits page).
MAX_TASKS = 200
DAY_MS = 24 * 3600 * 1000
TASK_TYPES = ("function", "transformation", "cdf", "dynamic", "subworkflow", "simulation")
EXECUTION_STATUSES = ("RUNNING", "COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED")
UPDATE_STATUSES = ("COMPLETED", "FAILED", "FAILED_WITH_TERMINAL_ERROR")
_NESTING = ("dynamic", "subworkflow")
_SUCCESS = ("COMPLETED", "COMPLETED_WITH_ERRORS", "SKIPPED")
_TERMINAL = (*_SUCCESS, "FAILED", "FAILED_WITH_TERMINAL_ERROR", "TIMED_OUT", "CANCELED")
_RERUN = ("CANCELED", "CANCELLED", "FAILED", "FAILED_WITH_TERMINAL_ERROR", "TIMED_OUT")
_TASK_DEFAULTS: dict[str, Any] = {"retries": 3, "timeout": 3600, "onFailure": "abortWorkflow"}
#: Triggers per project (limits page).
MAX_TRIGGERS = 200
TRIGGER_TYPES = ("schedule", "dataModeling", "recordStream")

DEFAULT_WORKFLOWS: dict[str, list[dict[str, Any]]] = {
    "taskhub-auto": [
        {
            "externalId": "process",
            "type": "function",
            "parameters": {"function": {"externalId": "process-fn", "data": "${workflow.input}"}},
        },
    ],
    "taskhub-demo": [
        {
            "externalId": "prepare",
            "type": "function",
            "parameters": {"function": {"externalId": "prep-fn", "data": "${workflow.input}"}},
        },
        {
            "externalId": "external-step",
            "type": "function",
            "parameters": {"function": {"externalId": "kick-fn"}, "isAsyncComplete": True},
            "dependsOn": [{"externalId": "prepare"}],
        },
    ],
}


@attrs.define
class _TaskRun:
    id: str
    key: str  # unique in its execution: the external id, prefixed by its parent's key
    definition: dict[str, Any]
    status: str
    scheduled: int
    parent: str | None = None  # the key of the dynamic or subworkflow task that spawned it
    started: int | None = None
    ends: int | None = None  # planned end of the current attempt (None: waits for an update)
    ended: int | None = None
    attempt: int = 1
    output: dict[str, Any] = attrs.field(factory=dict)
    reason: str | None = None
    input: dict[str, Any] | None = None  # the parameters as resolved when it started
    children: list[dict[str, Any]] | None = None  # task definitions it spawned
    failure: str | None = None  # why the current attempt cannot succeed (bad dynamic tasks)


@attrs.define
class _Execution:
    id: str
    workflow: str
    version: str
    definition: dict[str, Any]
    created: int
    input: Any
    metadata: dict[str, str] | None
    status: str = "RUNNING"
    started: int | None = None
    ended: int | None = None
    reason: str | None = None
    tasks: dict[str, _TaskRun] = attrs.field(factory=dict)
    engine_id: str = ""


@attrs.define
class _Trigger:
    item: dict[str, Any]  # as the API shows it, but ``isPaused``
    created: int
    updated: int
    paused: bool = False
    schedule: cron.Cron | None = None  # a schedule trigger's parsed expression
    zone: dt.tzinfo = dt.timezone.utc
    next_fire: int | None = None  # ms; None: never (paused, not a schedule, or no match)
    runs: list[dict[str, Any]] = attrs.field(factory=list)  # newest last


class _BadBody(Exception):
    """A request body the API refuses with 400."""


class CogniteSimulator(Simulator):
    """The Data Workflows API of one CDF project."""

    vendor = "cognite"
    raw_paths = True

    def __init__(
        self,
        *,
        project: str = "taskhub-sim",
        token: str | None = None,
        client_id: str = "taskhub-client",
        client_secret: str | None = None,
        token_ttl: float = 3600.0,
        start_s: float = 0.1,
        schedule_s: float = 0.5,
        task_s: float = 2.0,
        single_use_nonces: bool = True,
        canceled_spelling: str = "CANCELED",
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.rng = random.Random(kw.get("seed", 0))
        self.project = project
        self.token = token or f"cdf-sim-{self.rng.getrandbits(96):024x}"
        self.client_id = client_id
        self.client_secret = client_secret or f"cdf-secret-{self.rng.getrandbits(96):024x}"
        self.token_ttl = token_ttl
        self.start_ms = int(start_s * 1000)
        self.schedule_ms = int(schedule_s * 1000)
        self.task_ms = int(task_s * 1000)
        self.single_use_nonces = single_use_nonces
        # The API spells it with one L; set "CANCELLED" to emulate the SDK hint's spelling.
        self.canceled_spelling = canceled_spelling
        self.tokens: set[str] = {self.token}
        self.issued_tokens: list[str] = []
        self.nonces: dict[str, bool] = {}  # nonce -> used
        self.sessions = itertools.count(1)
        self.calls = itertools.count(101)
        self.jobs = itertools.count(5001)
        self.runs = itertools.count(7001)
        self.requests_seen = itertools.count(1)
        self.workflows: dict[str, dict[str, Any]] = {}
        self.versions: dict[tuple[str, str], dict[str, Any]] = {}
        self.executions: dict[str, _Execution] = {}
        self.order: list[str] = []
        self.task_index: dict[str, tuple[str, str]] = {}  # task id -> (execution id, task key)
        self.triggers: dict[str, _Trigger] = {}
        for name, tasks in DEFAULT_WORKFLOWS.items():
            self.upsert_workflow(name)
            self.upsert_version(name, "1", tasks)

    # -- framework hooks -----------------------------------------------------------------------

    def routes(self) -> Iterable[Rule]:
        p = "/api/v1/projects/<project>"
        return [
            Rule("/oauth2/token", endpoint="oauth_token", methods=["POST"]),
            Rule("/api/v1/token/inspect", endpoint="inspect", methods=["GET"]),
            Rule(f"{p}/sessions", endpoint="sessions", methods=["POST"]),
            Rule(f"{p}/workflows", endpoint="upsert_workflows", methods=["POST"]),
            Rule(f"{p}/workflows", endpoint="list_workflows", methods=["GET"]),
            Rule(f"{p}/workflows/delete", endpoint="delete_workflows", methods=["POST"]),
            Rule(f"{p}/workflows/versions", endpoint="upsert_versions", methods=["POST"]),
            Rule(f"{p}/workflows/versions/list", endpoint="list_versions", methods=["POST"]),
            Rule(f"{p}/workflows/versions/delete", endpoint="delete_versions", methods=["POST"]),
            Rule(f"{p}/workflows/executions/list", endpoint="list_executions", methods=["POST"]),
            Rule(f"{p}/workflows/executions/<eid>", endpoint="get_execution", methods=["GET"]),
            Rule(f"{p}/workflows/executions/<eid>/cancel", endpoint="cancel", methods=["POST"]),
            Rule(f"{p}/workflows/executions/<eid>/retry", endpoint="retry", methods=["POST"]),
            Rule(f"{p}/workflows/tasks/<tid>/update", endpoint="update_task", methods=["POST"]),
            Rule(f"{p}/workflows/triggers", endpoint="upsert_trigger", methods=["POST"]),
            Rule(f"{p}/workflows/triggers", endpoint="list_triggers", methods=["GET"]),
            Rule(f"{p}/workflows/triggers/delete", endpoint="delete_triggers", methods=["POST"]),
            Rule(f"{p}/workflows/triggers/<xid>/history", endpoint="trigger_runs", methods=["GET"]),
            Rule(f"{p}/workflows/triggers/<xid>/pause", endpoint="pause_trigger", methods=["POST"]),
            Rule(
                f"{p}/workflows/triggers/<xid>/resume", endpoint="resume_trigger", methods=["POST"]
            ),
            Rule(f"{p}/workflows/<xid>", endpoint="get_workflow", methods=["GET"]),
            Rule(
                f"{p}/workflows/<xid>/versions/<version>", endpoint="get_version", methods=["GET"]
            ),
            Rule(f"{p}/workflows/<xid>/versions/<version>/run", endpoint="run", methods=["POST"]),
        ]

    def error(self, status: int, message: str, headers: Any = None) -> Response:
        return self.json({"error": {"code": status, "message": message}}, status, headers)

    def json(self, data: Any, status: int = 200, headers: Any = None) -> Response:
        extra = {"x-request-id": f"sim-{next(self.requests_seen)}", **dict(headers or {})}
        return super().json(data, status, extra)

    def client_options(self, url: str) -> dict[str, Any]:
        return {"base_url": url, "project": self.project, "token": self.token}

    def oauth_options(self, url: str) -> dict[str, Any]:
        """Options for the client-credentials flow against this simulator's token endpoint."""
        return {
            "base_url": url,
            "project": self.project,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "token_url": f"{url}/oauth2/token",
            "scopes": [f"{url}/.default"],
        }

    def secrets(self) -> list[str]:
        return [self.token, self.client_secret, *self.issued_tokens, *self.nonces]

    # -- request checks ------------------------------------------------------------------------

    def _checked(self, check: Callable[[Any], Any], value: Any) -> Any:
        """``check(value)``, its refusal answered as the API answers a bad body (400)."""
        try:
            return check(value)
        except _BadBody as exc:
            raise Answer(self.error(400, str(exc))) from None

    def _ignore_unknown(self, request: Request) -> bool:
        value = request.args.get("ignoreUnknownIds", "false").lower()
        if value not in ("true", "false"):
            raise Answer(self.error(400, "ignoreUnknownIds must be true or false"))
        return value == "true"

    # -- auth --------------------------------------------------------------------------------

    def _auth(self, request: Request, project: str | None = None) -> None:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or value.strip() not in self.tokens:
            raise Answer(self.error(401, "Unauthorized"))
        if project is not None and project != self.project:
            raise Answer(
                self.error(
                    403,
                    f"Resource not found. This may also be due to "
                    f"insufficient access rights. Project {project!r}",
                )
            )

    def on_oauth_token(self, request: Request) -> Response:
        form = request.form
        if form.get("grant_type") != "client_credentials":
            return self.json({"error": "unsupported_grant_type"}, 400)
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return self.json({"error": "invalid_client"}, 401)
        token = f"cdf-oauth-{self.rng.getrandbits(96):024x}"
        self.tokens.add(token)
        self.issued_tokens.append(token)
        return self.json(
            {"access_token": token, "token_type": "Bearer", "expires_in": int(self.token_ttl)}
        )

    def on_inspect(self, request: Request) -> Response:
        self._auth(request)
        return self.json(
            {
                "subject": "taskhub-sim",
                "projects": [{"projectUrlName": self.project, "groups": []}],
                "capabilities": [],
            }
        )

    def on_sessions(self, request: Request, project: str) -> Response:
        self._auth(request, project)
        item = self._checked(_one_item, self.body(request))
        if item.get("tokenExchange") or item.get("oneshotTokenExchange"):
            kind = "TOKEN_EXCHANGE"
        elif (
            item.get("clientId") == self.client_id
            and item.get("clientSecret") == self.client_secret
        ):
            kind = "CLIENT_CREDENTIALS"
        else:
            return self.error(400, "Invalid client credentials")
        nonce = f"nonce-{self.rng.getrandbits(96):024x}"
        self.nonces[nonce] = False
        return self.json(
            {
                "items": [
                    {"id": next(self.sessions), "status": "READY", "nonce": nonce, "type": kind}
                ]
            }
        )

    def _use_nonce(self, nonce: str) -> None:
        if nonce not in self.nonces:
            raise Answer(self.error(400, "Invalid nonce: a session nonce is required"))
        if self.nonces[nonce] and self.single_use_nonces:
            raise Answer(self.error(400, "Failed to bind nonce with session"))
        self.nonces[nonce] = True

    # -- workflows and versions ----------------------------------------------------------------

    def upsert_workflow(self, xid: str, **fields: Any) -> dict[str, Any]:
        now = self.now_ms()
        current = self.workflows.get(xid)
        workflow = {
            "externalId": xid,
            **fields,
            "createdTime": current["createdTime"] if current else now,
            "lastUpdatedTime": now,
        }
        self.workflows[xid] = workflow
        return workflow

    def upsert_version(
        self, xid: str, version: str, tasks: list[dict[str, Any]], description: str | None = None
    ) -> dict[str, Any]:
        now = self.now_ms()
        full = _with_defaults(tasks)
        digest = hashlib.sha256(json.dumps(full, sort_keys=True).encode()).hexdigest()[:16].upper()
        definition: dict[str, Any] = {"hash": digest, "tasks": full}
        if description:
            definition["description"] = description
        current = self.versions.get((xid, version))
        item = {
            "workflowExternalId": xid,
            "version": version,
            "workflowDefinition": definition,
            "createdTime": current["createdTime"] if current else now,
            "lastUpdatedTime": now,
        }
        self.versions[(xid, version)] = item
        return item

    def on_upsert_workflows(self, request: Request, project: str) -> Response:
        self._auth(request, project)
        item = self._checked(_check_workflow, self._checked(_one_item, self.body(request)))
        fields = {k: v for k, v in item.items() if k != "externalId"}
        return self.json({"items": [self.upsert_workflow(item["externalId"], **fields)]})

    def on_list_workflows(self, request: Request, project: str) -> Response:
        self._auth(request, project)
        limit = self._limit(request)
        return self._page(list(self.workflows.values()), limit, request.args.get("cursor"))

    def on_get_workflow(self, request: Request, project: str, xid: str) -> Response:
        self._auth(request, project)
        if xid not in self.workflows:
            return self.error(404, f"Workflow {xid!r} not found")
        return self.json(self.workflows[xid])

    def on_delete_workflows(self, request: Request, project: str) -> Response:
        self._auth(request, project)
        ignore = self._ignore_unknown(request)
        items = self._checked(_check_delete_workflows, self.body(request))
        missing = [{"externalId": x} for x in items if x not in self.workflows]
        if missing and not ignore:
            return self.json(
                {
                    "error": {
                        "code": 400,
                        "message": "Some workflows were not found",
                        "missing": missing,
                    }
                },
                400,
            )
        for xid in items:
            for execution in self.executions.values():
                if execution.workflow == xid:
                    self.advance(execution)
            if any(e.workflow == xid and e.status == "RUNNING" for e in self.executions.values()):
                return self.error(
                    409,
                    f"Workflow {xid!r} has running executions; cancel them before deleting it",
                )
        for xid in items:
            self.workflows.pop(xid, None)
            for key in [k for k in self.versions if k[0] == xid]:
                del self.versions[key]
            # "Deleting a data workflow also deletes the associated triggers" (user guide).
            for name in [
                n for n, t in self.triggers.items() if t.item["workflowExternalId"] == xid
            ]:
                del self.triggers[name]
        return self.json({})

    def on_upsert_versions(self, request: Request, project: str) -> Response:
        self._auth(request, project)
        item = self._checked(_check_version, self._checked(_one_item, self.body(request)))
        xid, version = item["workflowExternalId"], item["version"]
        definition = item["workflowDefinition"]
        if xid not in self.workflows:
            self.upsert_workflow(xid)
        upserted = self.upsert_version(
            xid, version, definition["tasks"], definition.get("description")
        )
        return self.json({"items": [upserted]})

    def on_get_version(self, request: Request, project: str, xid: str, version: str) -> Response:
        self._auth(request, project)
        item = self.versions.get((xid, version))
        if item is None:
            return self.error(404, f"Workflow version {xid!r}/{version!r} not found")
        return self.json(item)

    def on_list_versions(self, request: Request, project: str) -> Response:
        self._auth(request, project)
        body = self._checked(_check_version_list, self.body(request))
        wanted = (body.get("filter") or {}).get("workflowFilters") or []
        rows = [
            v
            for (xid, version), v in self.versions.items()
            if not wanted
            or any(w["externalId"] == xid and w.get("version") in (None, version) for w in wanted)
        ]
        return self._page(rows, body.get("limit", 100), body.get("cursor"))

    def on_delete_versions(self, request: Request, project: str) -> Response:
        self._auth(request, project)
        ignore = self._ignore_unknown(request)
        items = self._checked(_check_delete_versions, self.body(request))
        missing = [
            {"workflowExternalId": x, "version": v} for x, v in items if (x, v) not in self.versions
        ]
        if missing and not ignore:
            return self.json(
                {
                    "error": {
                        "code": 400,
                        "message": "Some workflow versions were not found",
                        "missing": missing,
                    }
                },
                400,
            )
        for key in items:
            self.versions.pop(key, None)
        return self.json({})

    def _page(self, rows: list[Any], limit: int, cursor: Any) -> Response:
        offset = _decode_cursor(cursor)
        if offset is None:
            return self.error(400, "Invalid cursor")
        answer: dict[str, Any] = {"items": rows[offset : offset + limit]}
        if offset + limit < len(rows):
            answer["nextCursor"] = base64.urlsafe_b64encode(f"o:{offset + limit}".encode()).decode()
        return self.json(answer)

    # -- executions ------------------------------------------------------------------------------

    def on_run(self, request: Request, project: str, xid: str, version: str) -> Response:
        self._auth(request, project)
        body = self._checked(_check_run, self.body(request))
        version_item = self.versions.get((xid, version))
        if version_item is None:
            return self.error(404, f"Workflow version {xid!r}/{version!r} not found")
        self._use_nonce(body["authentication"]["nonce"])
        execution = self._create_execution(
            version_item, body.get("input"), body.get("metadata"), self.now_ms()
        )
        return self.json(self._execution_view(execution, detailed=False))

    def _create_execution(
        self, version_item: dict[str, Any], data: Any, metadata: Any, at: int
    ) -> _Execution:
        """A new execution of ``version_item``, created at ``at`` (a run, or a trigger firing)."""
        execution = _Execution(
            id=self._uuid(),
            workflow=version_item["workflowExternalId"],
            version=version_item["version"],
            definition=copy.deepcopy(version_item["workflowDefinition"]),
            created=at,
            input=data,
            metadata=metadata,
            engine_id=self._uuid(),
        )
        self.executions[execution.id] = execution
        self.order.append(execution.id)
        self.advance(execution, at)
        return execution

    def on_get_execution(self, request: Request, project: str, eid: str) -> Response:
        self._auth(request, project)
        execution = self.executions.get(eid)
        if execution is None:
            # CDF answers 400 for an execution id it does not know.
            return self.error(400, f"Workflow execution {eid!r} not found or not a valid id")
        self.advance(execution)
        return self.json(self._execution_view(execution, detailed=True))

    def on_list_executions(self, request: Request, project: str) -> Response:
        self._auth(request, project)
        body = self._checked(_check_execution_list, self.body(request))
        flt = body.get("filter") or {}
        rows = [self.executions[i] for i in reversed(self.order)]
        workflows = flt.get("workflowFilters")
        if workflows:
            rows = [
                e
                for e in rows
                if any(
                    w["externalId"] == e.workflow and w.get("version") in (None, e.version)
                    for w in workflows
                )
            ]
        if "createdTimeStart" in flt:
            rows = [e for e in rows if e.created >= flt["createdTimeStart"]]
        if "createdTimeEnd" in flt:
            rows = [e for e in rows if e.created <= flt["createdTimeEnd"]]
        for execution in rows:
            self.advance(execution)
        if flt.get("status"):
            rows = [e for e in rows if e.status in flt["status"]]
        views = [self._execution_view(e, detailed=False) for e in rows]
        return self._page(views, body.get("limit", 100), body.get("cursor"))

    def on_cancel(self, request: Request, project: str, eid: str) -> Response:
        self._auth(request, project)
        body = self._checked(_check_cancel, self.body(request))
        execution = self.executions.get(eid)
        if execution is None:
            return self.error(404, f"Workflow execution {eid!r} not found")
        self.advance(execution)
        if execution.status != "RUNNING":
            return self.error(409, f"Workflow execution is {execution.status}, not RUNNING")
        now = self.now_ms()
        execution.status, execution.ended = "TERMINATED", now
        execution.reason = body.get("reason") or "cancelled"
        for task in execution.tasks.values():
            if task.status in ("SCHEDULED", "IN_PROGRESS"):
                task.status, task.ended, task.ends = self.canceled_spelling, now, None
        return self.json(self._execution_view(execution, detailed=False))

    def on_retry(self, request: Request, project: str, eid: str) -> Response:
        self._auth(request, project)
        body = self._checked(_check_retry, self.body(request))
        execution = self.executions.get(eid)
        if execution is None:
            return self.error(404, f"Workflow execution {eid!r} not found")
        self.advance(execution)
        if execution.status not in ("FAILED", "TIMED_OUT", "TERMINATED"):
            return self.error(
                409,
                f"Workflow execution is {execution.status}; only FAILED, "
                "TIMED_OUT and TERMINATED executions can be retried",
            )
        self._use_nonce(body["authentication"]["nonce"])
        now = self.now_ms()
        execution.status, execution.ended, execution.reason = "RUNNING", None, None
        if execution.started is None:
            execution.started = now
        for task in list(execution.tasks.values()):
            if task.status in _RERUN and task.definition.get("onFailure") != "skipTask":
                self._start(execution, task, now, task.attempt + 1)
        return self.json(self._execution_view(execution, detailed=False))

    def on_update_task(self, request: Request, project: str, tid: str) -> Response:
        self._auth(request, project)
        body = self._checked(_check_update, self.body(request))
        where = self.task_index.get(tid)
        if where is None:
            return self.error(404, f"Task {tid!r} not found")
        execution = self.executions[where[0]]
        self.advance(execution)
        task = execution.tasks[where[1]]
        if not _is_async(task.definition) or task.status not in ("SCHEDULED", "IN_PROGRESS"):
            return self.error(
                400,
                f"Task is {task.status}; only a SCHEDULED or IN_PROGRESS task whose "
                "definition sets isAsyncComplete can be updated",
            )
        if execution.status != "RUNNING":
            return self.error(400, f"Workflow execution is {execution.status}, not RUNNING")
        now = self.now_ms()
        if task.status == "SCHEDULED":
            # Completed before its turn came: it starts (the function is called) and ends now.
            if execution.started is None:
                execution.started = now
            self._start(execution, task, now, task.attempt)
        task.output.update(body.get("output") or {})
        status = body["status"]
        self._finish(
            execution, task, now, status, "set by task update" if status != "COMPLETED" else None
        )
        self.advance(execution)
        return self.json(self._task_view(task, execution))

    # -- triggers ------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        # Schedule triggers fire on the simulator's clock: whatever fell due since the last
        # request happens before this one is answered, in time order.
        with self.lock:
            self.fire_triggers()
        return super().handle(request)

    def fire_triggers(self, now: int | None = None) -> None:
        """Fire every schedule trigger due by ``now`` (default: the clock), oldest first."""
        now = self.now_ms() if now is None else now
        while True:
            due = [
                (t.next_fire, name)
                for name, t in self.triggers.items()
                if t.next_fire is not None and t.next_fire <= now
            ]
            if not due:
                return
            at, name = min(due)
            trigger = self.triggers[name]
            self._fire(trigger, at)
            trigger.next_fire = self._next_fire(trigger, at)

    def _fire(self, trigger: _Trigger, at: int) -> None:
        item = trigger.item
        xid, version = item["workflowExternalId"], item["workflowVersion"]
        run: dict[str, Any] = {
            "externalId": item["externalId"],
            "fireTime": at,
            "workflowExternalId": xid,
            "workflowVersion": version,
        }
        version_item = self.versions.get((xid, version))
        if version_item is None:
            run.update(
                status="failed",
                reasonForFailure=f"Workflow version {xid!r}/{version!r} not found",
            )
        else:
            # The trigger adds the version to the input (SDK IT test_trigger_run_history).
            data = {**(item.get("input") or {}), "version": version}
            execution = self._create_execution(version_item, data, item.get("metadata"), at)
            run.update(status="success", workflowExecutionId=execution.id)
        trigger.runs.append(run)

    def _next_fire(self, trigger: _Trigger, after: int) -> int | None:
        if trigger.paused or trigger.schedule is None:
            return None
        start = dt.datetime.fromtimestamp(after / 1000, dt.timezone.utc)
        found = cron.next_fire(trigger.schedule, start, trigger.zone)
        return None if found is None else int(found.timestamp() * 1000)

    def _trigger(self, xid: str, message: str) -> _Trigger:
        trigger = self.triggers.get(xid)
        if trigger is None:
            raise Answer(self.error(404, message))
        return trigger

    def _trigger_view(self, trigger: _Trigger) -> dict[str, Any]:
        return {
            **trigger.item,
            "createdTime": trigger.created,
            "lastUpdatedTime": trigger.updated,
            "isPaused": trigger.paused,
        }

    def on_upsert_trigger(self, request: Request, project: str) -> Response:
        self._auth(request, project)
        item = self._checked(_check_trigger, self._checked(_one_item, self.body(request)))
        xid = item["externalId"]
        current = self.triggers.get(xid)
        if current is None and len(self.triggers) >= MAX_TRIGGERS:
            return self.error(400, f"A project can hold at most {MAX_TRIGGERS} triggers")
        self._use_nonce(item.pop("authentication")["nonce"])
        now = self.now_ms()
        rule = item["triggerRule"]
        trigger = _Trigger(
            item,
            created=current.created if current else now,
            updated=now,
            paused=current.paused if current else False,
            runs=current.runs if current else [],
        )
        if rule["triggerType"] == "schedule":
            trigger.schedule = cron.parse(rule["cronExpression"])
            trigger.zone = ZoneInfo(rule.get("timezone") or "UTC")
        trigger.next_fire = self._next_fire(trigger, now)
        self.triggers[xid] = trigger
        return self.json({"items": [self._trigger_view(trigger)]})

    def on_list_triggers(self, request: Request, project: str) -> Response:
        self._auth(request, project)
        limit = self._limit(request)
        rows = [self._trigger_view(t) for t in self.triggers.values()]
        return self._page(rows, limit, request.args.get("cursor"))

    def on_delete_triggers(self, request: Request, project: str) -> Response:
        self._auth(request, project)
        names = self._checked(_check_delete_triggers, self.body(request))
        missing = [{"externalId": x} for x in names if x not in self.triggers]
        if missing:
            return self.json(
                {
                    "error": {
                        "code": 404,
                        "message": "Workflow trigger not found.",
                        "missing": missing,
                    }
                },
                404,
            )
        for name in names:
            del self.triggers[name]
        return self.json({})

    def on_trigger_runs(self, request: Request, project: str, xid: str) -> Response:
        self._auth(request, project)
        limit = self._limit(request)
        trigger = self._trigger(xid, "Workflow trigger not found.")
        # Newest first, then by external id (API ref getTriggerHistory).
        rows = sorted(trigger.runs, key=lambda r: (-r["fireTime"], r["externalId"]))
        return self._page(rows, limit, request.args.get("cursor"))

    def on_pause_trigger(self, request: Request, project: str, xid: str) -> Response:
        self._auth(request, project)
        trigger = self._trigger(xid, "Trigger not found.")
        trigger.paused, trigger.next_fire = True, None
        return self.json({})

    def on_resume_trigger(self, request: Request, project: str, xid: str) -> Response:
        self._auth(request, project)
        trigger = self._trigger(xid, "Trigger not found.")
        if trigger.paused:
            # Resumed, it fires on the schedule's next time, not for the times it missed.
            trigger.paused = False
            trigger.next_fire = self._next_fire(trigger, self.now_ms())
        return self.json({})

    def _limit(self, request: Request) -> int:
        raw = request.args.get("limit", "100")
        if not raw.isdigit() or not 1 <= int(raw) <= 1000:
            raise Answer(self.error(400, "limit must be an integer between 1 and 1000"))
        return int(raw)

    # -- the lifecycle ---------------------------------------------------------------------------

    def advance(self, execution: _Execution, now: int | None = None) -> None:
        """Move ``execution`` and its tasks forward to ``now`` (default: the clock).

        Events are applied in time order: the execution's start, tasks becoming ready
        (SCHEDULED), starting (IN_PROGRESS) and ending, until the next one lies after ``now``.
        """
        now = self.now_ms() if now is None else now
        while execution.status == "RUNNING":
            if self._all_done(execution):
                execution.status = "COMPLETED"
                execution.ended = max(
                    [execution.started or execution.created]
                    + [t.ended or 0 for t in execution.tasks.values()]
                )
                return
            event = self._next_event(execution)
            if event is None or event[0] > now:
                return
            event[1]()

    def _next_event(self, execution: _Execution) -> tuple[int, Callable[[], None]] | None:
        best: tuple[int, Callable[[], None]] | None = None

        def offer(at: int, action: Callable[[], None]) -> None:
            nonlocal best
            if best is None or at < best[0]:
                best = (at, action)

        if execution.started is None:
            offer(execution.created + self.start_ms, functools.partial(self._begin, execution))
        else:
            offer(execution.started + DAY_MS, functools.partial(self._time_out, execution))
        for parent, definitions, base in self._groups(execution):
            for definition in definitions:
                task = execution.tasks.get(_key(parent, definition["externalId"]))
                if task is None:
                    ready = self._ready_at(execution, parent, definition, base)
                    if ready is not None:
                        offer(
                            ready,
                            functools.partial(self._schedule, execution, definition, ready, parent),
                        )
                elif task.status == "SCHEDULED" and execution.started is not None:
                    at = max(task.scheduled + self.schedule_ms, execution.started)
                    offer(at, functools.partial(self._start, execution, task, at, task.attempt))
                elif task.status == "IN_PROGRESS" and task.ends is not None:
                    offer(task.ends, functools.partial(self._end, execution, task))
        return best

    def _begin(self, execution: _Execution) -> None:
        execution.started = execution.created + self.start_ms

    def _time_out(self, execution: _Execution) -> None:
        assert execution.started is not None
        execution.status, execution.ended = "TIMED_OUT", execution.started + DAY_MS
        execution.reason = "The workflow execution exceeded its maximum duration"

    def _groups(self, execution: _Execution) -> list[tuple[str | None, list[dict[str, Any]], int]]:
        """Each task list of the execution: (parent key, definitions, when it became runnable)."""
        groups: list[tuple[str | None, list[dict[str, Any]], int]] = [
            (None, execution.definition["tasks"], execution.created)
        ]
        for task in list(execution.tasks.values()):
            if task.children is not None and task.status in _SUCCESS and task.ended is not None:
                groups.append((task.key, task.children, task.ended))
        return groups

    def _ready_at(
        self, execution: _Execution, parent: str | None, definition: dict[str, Any], base: int
    ) -> int | None:
        times = [base]
        for dep in definition.get("dependsOn") or []:
            done = self._done_at(execution, execution.tasks.get(_key(parent, dep["externalId"])))
            if done is None:
                return None
            times.append(done)
        return max(times)

    def _done_at(self, execution: _Execution, task: _TaskRun | None) -> int | None:
        """When ``task`` and every task it spawned had finished successfully (None: not yet)."""
        if task is None or task.status not in _SUCCESS or task.ended is None:
            return None
        times = [task.ended]
        for child in task.children or []:
            done = self._done_at(
                execution, execution.tasks.get(_key(task.key, child["externalId"]))
            )
            if done is None:
                return None
            times.append(done)
        return max(times)

    def _all_done(self, execution: _Execution) -> bool:
        if execution.started is None:
            return False
        return all(
            self._done_at(execution, execution.tasks.get(_key(parent, d["externalId"]))) is not None
            for parent, definitions, _ in self._groups(execution)
            for d in definitions
        )

    def _schedule(
        self, execution: _Execution, definition: dict[str, Any], at: int, parent: str | None
    ) -> None:
        key = _key(parent, definition["externalId"])
        task = _TaskRun(self._uuid(), key, definition, "SCHEDULED", at, parent=parent)
        execution.tasks[key] = task
        self.task_index[task.id] = (execution.id, key)

    def _start(self, execution: _Execution, task: _TaskRun, at: int, attempt: int) -> None:
        task.status, task.started, task.ended, task.reason, task.attempt = (
            "IN_PROGRESS",
            at,
            None,
            None,
            attempt,
        )
        task.failure = None
        task.input = _resolve(
            copy.deepcopy(task.definition.get("parameters") or {}), execution, task.parent
        )
        kind = task.definition.get("type")
        task.ends = at + self.task_ms
        if kind == "function":
            response: dict[str, Any] = {}
            if _is_async(task.definition):
                response = {"cogniteOrchestrationTaskId": task.id}
                task.ends = None
            task.output = {
                "callId": next(self.calls),
                "functionId": 200 + len(self.task_index),
                "response": response,
                **{
                    k: v
                    for k, v in task.output.items()
                    if k not in ("callId", "functionId", "response")
                },
            }
        elif kind == "transformation":
            task.output = {"jobId": next(self.jobs)}
        elif kind == "cdf":
            task.output = {}  # the response arrives when the request ends
        elif kind == "simulation":
            task.output = {"runId": next(self.runs), "logId": next(self.runs)}
        elif kind in _NESTING:
            task.output, task.ends = {}, at  # spawns its tasks and completes at once
            spawned = self._spawn(execution, task)
            if isinstance(spawned, str):
                task.failure = spawned
            else:
                task.children = spawned

    def _spawn(self, execution: _Execution, task: _TaskRun) -> list[dict[str, Any]] | str:
        """The task definitions a dynamic or subworkflow task runs, or why it cannot."""
        params = task.input or {}
        if task.definition.get("type") == "dynamic":
            tasks = (params.get("dynamic") or {}).get("tasks")
            if not isinstance(tasks, list):
                return "dynamic.tasks did not resolve to a list of task definitions"
            try:
                spawned = _check_tasks(tasks, "dynamic.tasks", nested=True)
            except _BadBody as exc:
                return str(exc)
        else:
            # As defined: references inside the embedded tasks resolve when each one starts.
            sub = (task.definition.get("parameters") or {}).get("subworkflow") or {}
            if "tasks" in sub:
                spawned = copy.deepcopy(sub["tasks"])
            else:
                xid, number = sub.get("workflowExternalId"), sub.get("version")
                version = (
                    self.versions.get((xid, number))
                    if isinstance(xid, str) and isinstance(number, str)
                    else None
                )
                if version is None:
                    return f"Workflow version {xid!r}/{number!r} not found"
                spawned = copy.deepcopy(version["workflowDefinition"]["tasks"])
                if any(t.get("type") in _NESTING for t in spawned):
                    return "A subworkflow cannot contain dynamic or subworkflow tasks"
        if len(execution.tasks) + len(spawned) > MAX_TASKS:
            return f"An execution can hold at most {MAX_TASKS} tasks"
        return spawned

    def _end(self, execution: _Execution, task: _TaskRun) -> None:
        """The planned end of ``task``'s current attempt."""
        assert task.ends is not None
        if task.failure is not None:
            self._finish(execution, task, task.ends, "FAILED", task.failure, retry=False)
            return
        outcome = self._outcome(task.definition)
        kind = task.definition.get("type")
        if kind == "cdf":
            task.output = (
                {"response": {"items": []}, "statusCode": 200}
                if outcome == "COMPLETED"
                else {
                    "response": {"error": {"code": 400, "message": "simulated failure"}},
                    "statusCode": 400,
                }
            )
        elif kind == "simulation":
            task.output["statusMessage"] = (
                "Simulation ran to completion" if outcome == "COMPLETED" else "Simulation failed"
            )
        self._finish(
            execution,
            task,
            task.ends,
            outcome,
            f"{kind} {outcome.lower()}" if outcome != "COMPLETED" else None,
        )

    def _finish(
        self,
        execution: _Execution,
        task: _TaskRun,
        at: int,
        outcome: str,
        reason: str | None,
        retry: bool = True,
    ) -> None:
        definition = task.definition
        if retry and outcome == "FAILED" and task.attempt <= int(definition.get("retries", 3)):
            self._start(execution, task, at, task.attempt + 1)
            return
        task.status, task.ended, task.ends, task.reason = outcome, at, None, reason
        if outcome in ("FAILED", "FAILED_WITH_TERMINAL_ERROR", "TIMED_OUT"):
            if definition.get("onFailure") == "skipTask":
                task.status = "COMPLETED_WITH_ERRORS"
                return
            execution.status, execution.ended = "FAILED", at
            execution.reason = f"Task {definition['externalId']} {outcome.lower()}: {reason}"

    @staticmethod
    def _outcome(definition: dict[str, Any]) -> str:
        params = definition.get("parameters") or {}
        target = {
            "function": (params.get("function") or {}).get("externalId"),
            "transformation": (params.get("transformation") or {}).get("externalId"),
            "simulation": (params.get("simulation") or {}).get("routineExternalId"),
            "cdf": (params.get("cdfRequest") or {}).get("resourcePath"),
        }.get(definition.get("type", ""))
        target = target if isinstance(target, str) else ""
        if "timeout" in target:
            return "TIMED_OUT"
        if "fail" in target:
            return "FAILED"
        return "COMPLETED"

    # -- views ---------------------------------------------------------------------------------

    def _execution_view(self, execution: _Execution, *, detailed: bool) -> dict[str, Any]:
        view: dict[str, Any] = {
            "id": execution.id,
            "workflowExternalId": execution.workflow,
            "version": execution.version,
            "status": execution.status,
            "engineExecutionId": execution.engine_id,
            "createdTime": execution.created,
        }
        for key, value in (
            ("startTime", execution.started),
            ("endTime", execution.ended),
            ("reasonForIncompletion", execution.reason),
            ("metadata", execution.metadata),
        ):
            if value is not None:
                view[key] = value
        if detailed:
            view["workflowDefinition"] = execution.definition
            view["executedTasks"] = [
                self._task_view(t, execution) for t in execution.tasks.values()
            ]
            if execution.input is not None:  # omitted, not null, for a run without input
                view["input"] = execution.input
        return view

    def _task_view(self, task: _TaskRun, execution: _Execution) -> dict[str, Any]:
        definition = task.definition
        parameters = task.input
        if parameters is None:
            parameters = _resolve(
                copy.deepcopy(definition.get("parameters") or {}), execution, task.parent
            )
        task_input: dict[str, Any] = {k: v for k, v in parameters.items() if k != "isAsyncComplete"}
        if definition.get("type") == "function":
            task_input["asyncComplete"] = _is_async(definition)
        view: dict[str, Any] = {
            "id": task.id,
            "externalId": definition["externalId"],
            "status": task.status,
            "taskType": definition.get("type", "function"),
            "input": task_input,
            "output": task.output,
        }
        if task.parent is not None:
            view["parentTaskExternalId"] = execution.tasks[task.parent].definition["externalId"]
        for key, value in (
            ("startTime", task.started),
            ("endTime", task.ended),
            ("reasonForIncompletion", task.reason),
        ):
            if value is not None:
                view[key] = value
        return view

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def demo_spec(self) -> dict[str, Any]:
        return {"workflow": "taskhub-demo", "version": "1", "input": {"fileId": 123}}

    def demo_step(self, hub: TaskHub, task: Task) -> None:
        # The demo is the external system of the async step: it completes the task.
        for sub in task.subtasks:
            if sub.state is State.RUNNING and (sub.params.get("input") or {}).get("asyncComplete"):
                hub.report(sub.id, State.SUCCEEDED, output={"reviewed": True})

    def skip(self, execution_id: str, external_id: str) -> None:
        """Mark a task not yet started as SKIPPED (CDF decides this itself; tests need a way)."""
        execution = self.executions[execution_id]
        definition = next(
            d for d in execution.definition["tasks"] if d["externalId"] == external_id
        )
        now = self.now_ms()
        self._schedule(execution, definition, now, None)
        task = execution.tasks[external_id]
        task.status, task.ended = "SKIPPED", now

    def async_task(self, execution_id: str) -> str | None:
        """The id of the execution's async task waiting for an update, once it runs."""
        execution = self.executions[execution_id]
        self.advance(execution)
        for task in execution.tasks.values():
            if task.status == "IN_PROGRESS" and _is_async(task.definition):
                return task.id
        return None


# -- the published request shapes ------------------------------------------------------------


def _obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _BadBody(f"{what} must be an object")
    return value


def _string(value: Any, what: str, *, limit: int | None = None) -> str:
    if not isinstance(value, str) or not value:
        raise _BadBody(f"{what} must be a non-empty string")
    if limit is not None and len(value) > limit:
        raise _BadBody(f"{what} must be at most {limit} characters")
    return value


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise _BadBody(f"{what} must be a string")
    return value


def _xid(value: Any, what: str) -> str:
    """An external id: at most 255 characters, no outer whitespace, no NUL."""
    text = _string(value, what, limit=255)
    if text != text.strip():
        raise _BadBody(f"{what} must not start or end with whitespace")
    if "\x00" in text:
        raise _BadBody(f"{what} must not contain NUL")
    return text


def _version(value: Any, what: str) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise _BadBody(f"{what} must be a string, not a number")
    text = _string(value, what, limit=255)
    if "\x00" in text:
        raise _BadBody(f"{what} must not contain NUL")
    return text


def _integer(value: Any, what: str, low: int | None = None, high: int | None = None) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _BadBody(f"{what} must be an integer")
    if (low is not None and value < low) or (high is not None and value > high):
        span = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise _BadBody(f"{what} must be {span}")
    return value


def _optional(item: dict[str, Any], key: str, check: Callable[[Any, str], Any], what: str) -> None:
    if item.get(key) is not None:
        check(item[key], f"{what}.{key}" if what else key)


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


def _one_item(body: Any) -> dict[str, Any]:
    items = _obj(body, "The request body").get("items")
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
        raise _BadBody("Request must contain exactly one item")
    return items[0]


def _check_workflow(item: dict[str, Any]) -> dict[str, Any]:
    """A workflow upsert item; returns its known, non-null fields."""
    _xid(item.get("externalId"), "externalId")
    _optional(item, "description", _text, "")
    _optional(item, "dataSetId", lambda v, w: _integer(v, w, 1), "")
    _optional(item, "maxConcurrentExecutions", lambda v, w: _integer(v, w, 1), "")
    _optional(item, "dataDomainExternalId", _xid, "")
    known = ("externalId", "description", "dataSetId", "maxConcurrentExecutions")
    return {k: item[k] for k in (*known, "dataDomainExternalId") if item.get(k) is not None}


def _check_version(item: dict[str, Any]) -> dict[str, Any]:
    _xid(item.get("workflowExternalId"), "workflowExternalId")
    _version(item.get("version"), "version")
    definition = _obj(item.get("workflowDefinition"), "workflowDefinition")
    _optional(definition, "description", _text, "")
    tasks = _check_tasks(definition.get("tasks"), "workflowDefinition.tasks", nested=False)
    if _count(tasks) > MAX_TASKS:
        raise _BadBody(f"A workflow definition can hold at most {MAX_TASKS} tasks")
    return {**item, "workflowDefinition": {**definition, "tasks": tasks}}


def _count(tasks: list[dict[str, Any]]) -> int:
    return sum(
        1 + _count(((t["parameters"].get("subworkflow") or {}).get("tasks")) or []) for t in tasks
    )


def _check_tasks(tasks: Any, where: str, *, nested: bool) -> list[dict[str, Any]]:
    """Task definitions as the version upsert takes them; returns them with defaults filled."""
    if not isinstance(tasks, list):
        raise _BadBody(f"{where} must be a list of task definitions")
    seen: set[str] = set()
    checked: list[dict[str, Any]] = []
    for n, raw in enumerate(tasks):
        at = f"{where}[{n}]"
        task = _obj(raw, at)
        xid = _xid(task.get("externalId"), f"{at}.externalId")
        if xid == "workflow" or xid.startswith("__"):
            raise _BadBody(f"{at}.externalId must not be 'workflow' or start with '__'")
        if xid in seen:
            raise _BadBody(f"Duplicate task externalId {xid!r} in {where}")
        seen.add(xid)
        kind = task.get("type")
        if kind not in TASK_TYPES:
            raise _BadBody(f"{at}.type must be one of {', '.join(TASK_TYPES)}")
        if nested and kind in _NESTING:
            raise _BadBody(f"{at}: dynamic and subworkflow tasks cannot contain {kind} tasks")
        parameters = _check_parameters(kind, _obj(task.get("parameters"), f"{at}.parameters"), at)
        for key in ("retries", "timeout", "onFailure"):
            if key in task and task[key] is None:
                raise _BadBody(f"{at}.{key} must not be null")
        if "retries" in task:
            _integer(task["retries"], f"{at}.retries", 0, 10)
        if "timeout" in task:
            _integer(task["timeout"], f"{at}.timeout", 1)
        if "onFailure" in task and task["onFailure"] not in ("abortWorkflow", "skipTask"):
            raise _BadBody(f"{at}.onFailure must be abortWorkflow or skipTask")
        _optional(task, "name", _text, at)
        _optional(task, "description", _text, at)
        depends = task.get("dependsOn")
        if depends is not None:
            if not isinstance(depends, list):
                raise _BadBody(f"{at}.dependsOn must be a list")
            for m, dep in enumerate(depends):
                _xid(_obj(dep, f"{at}.dependsOn[{m}]").get("externalId"), f"{at}.dependsOn[{m}]")
        checked.append({**task, "parameters": parameters})
    graph = {t["externalId"]: [d["externalId"] for d in t.get("dependsOn") or []] for t in checked}
    for xid, deps in graph.items():
        for dep in deps:
            if dep not in graph:
                raise _BadBody(f"Task {xid!r} depends on {dep!r}, which is not in {where}")
    _acyclic(graph, where)
    return _with_defaults(checked)


def _acyclic(graph: dict[str, list[str]], where: str) -> None:
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(node: str) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            raise _BadBody(f"The task dependencies in {where} form a cycle through {node!r}")
        state[node] = 1
        for dep in graph[node]:
            visit(dep)
        state[node] = 2

    for node in graph:
        visit(node)


def _check_parameters(kind: str, params: dict[str, Any], at: str) -> dict[str, Any]:
    where = f"{at}.parameters"
    if kind == "function":
        function = _obj(params.get("function"), f"{where}.function")
        _string(function.get("externalId"), f"{where}.function.externalId")
        if "isAsyncComplete" in params and not isinstance(params["isAsyncComplete"], bool):
            raise _BadBody(f"{where}.isAsyncComplete must be a boolean")
    elif kind == "transformation":
        transformation = _obj(params.get("transformation"), f"{where}.transformation")
        _string(transformation.get("externalId"), f"{where}.transformation.externalId")
        policy = transformation.get("concurrencyPolicy")
        if policy is not None and policy not in ("fail", "waitForCurrent", "restartAfterCurrent"):
            raise _BadBody(
                f"{where}.transformation.concurrencyPolicy must be fail, waitForCurrent "
                "or restartAfterCurrent"
            )
        credentials = transformation.get("useTransformationCredentials")
        if credentials is not None and not isinstance(credentials, bool):
            raise _BadBody(f"{where}.transformation.useTransformationCredentials must be a boolean")
    elif kind == "cdf":
        request = _obj(params.get("cdfRequest"), f"{where}.cdfRequest")
        _string(request.get("resourcePath"), f"{where}.cdfRequest.resourcePath")
        if request.get("method") not in ("GET", "POST", "PUT", "DELETE"):
            raise _BadBody(f"{where}.cdfRequest.method must be GET, POST, PUT or DELETE")
        for key in ("queryParameters", "body"):
            value = request.get(key)
            if value is not None and not isinstance(value, (dict, str)):
                raise _BadBody(f"{where}.cdfRequest.{key} must be an object or a reference")
        timeout = request.get("requestTimeoutInMillis")
        if timeout is not None and not isinstance(timeout, str):
            _integer(timeout, f"{where}.cdfRequest.requestTimeoutInMillis", 1)
    elif kind == "dynamic":
        dynamic = _obj(params.get("dynamic"), f"{where}.dynamic")
        tasks = dynamic.get("tasks")
        if not (isinstance(tasks, str) and tasks.startswith("${") and tasks.endswith("}")):
            raise _BadBody(f"{where}.dynamic.tasks must be a reference such as '${{task.output}}'")
    elif kind == "subworkflow":
        sub = _obj(params.get("subworkflow"), f"{where}.subworkflow")
        if "tasks" in sub:
            tasks = _check_tasks(sub["tasks"], f"{where}.subworkflow.tasks", nested=True)
            return {**params, "subworkflow": {**sub, "tasks": tasks}}
        _xid(sub.get("workflowExternalId"), f"{where}.subworkflow.workflowExternalId")
        _version(sub.get("version"), f"{where}.subworkflow.version")
    elif kind == "simulation":
        simulation = _obj(params.get("simulation"), f"{where}.simulation")
        _string(simulation.get("routineExternalId"), f"{where}.simulation.routineExternalId")
        _optional(simulation, "runTime", lambda v, w: _integer(v, w, 0), f"{where}.simulation")
        inputs = simulation.get("inputs")
        if inputs is not None and not isinstance(inputs, list):
            raise _BadBody(f"{where}.simulation.inputs must be a list")
    return params


def _with_defaults(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**_TASK_DEFAULTS, "dependsOn": [], **t} for t in tasks]


def _workflow_filters(flt: dict[str, Any], where: str) -> None:
    filters = flt.get("workflowFilters")
    if filters is None:
        return
    if not isinstance(filters, list):
        raise _BadBody(f"{where}.workflowFilters must be a list")
    for n, raw in enumerate(filters):
        item = _obj(raw, f"{where}.workflowFilters[{n}]")
        _xid(item.get("externalId"), f"{where}.workflowFilters[{n}].externalId")
        _optional(item, "version", _version, f"{where}.workflowFilters[{n}]")


def _paging(body: dict[str, Any]) -> None:
    if "limit" in body:
        _integer(body["limit"], "limit", 1, 1000)
    cursor = body.get("cursor")
    if cursor is not None and not isinstance(cursor, str):
        raise _BadBody("cursor must be a string")


def _check_version_list(body: Any) -> dict[str, Any]:
    checked = _obj({} if body is None else body, "The request body")
    if checked.get("filter") is not None:
        _workflow_filters(_obj(checked["filter"], "filter"), "filter")
    _paging(checked)
    return checked


def _check_execution_list(body: Any) -> dict[str, Any]:
    checked = _obj({} if body is None else body, "The request body")
    if checked.get("filter") is not None:
        flt = _obj(checked["filter"], "filter")
        _workflow_filters(flt, "filter")
        for key in ("createdTimeStart", "createdTimeEnd"):
            _optional(flt, key, lambda v, w: _integer(v, w, 0), "filter")
        statuses = flt.get("status")
        if statuses is not None and (
            not isinstance(statuses, list) or any(s not in EXECUTION_STATUSES for s in statuses)
        ):
            raise _BadBody(f"filter.status must be a list of {', '.join(EXECUTION_STATUSES)}")
    _paging(checked)
    return checked


def _nonce(body: dict[str, Any]) -> None:
    authentication = body.get("authentication")
    if not isinstance(authentication, dict) or not isinstance(authentication.get("nonce"), str):
        raise _BadBody("authentication.nonce is required: create a session for it")


def _check_run(body: Any) -> dict[str, Any]:
    checked = _obj(body, "The request body")
    _nonce(checked)
    _check_input_and_metadata(checked)
    return checked


def _check_input_and_metadata(checked: dict[str, Any]) -> None:
    if checked.get("input") is not None:
        _obj(checked["input"], "input")
        if _size(checked["input"]) > MAX_INPUT:
            raise _BadBody("input must be at most 100 KB")
    metadata = checked.get("metadata")
    if metadata is not None:
        _obj(metadata, "metadata")
        if len(metadata) > 10:
            raise _BadBody("metadata must hold at most 10 pairs")
        for key, value in metadata.items():
            if not key or len(key) > 32:
                raise _BadBody("metadata keys must be 1 to 32 characters")
            if not isinstance(value, str) or len(value) > 255:
                raise _BadBody("metadata values must be strings of at most 255 characters")


def _check_trigger(item: dict[str, Any]) -> dict[str, Any]:
    """A trigger upsert item; returns its known fields, nulls dropped, ``authentication`` kept."""
    _xid(item.get("externalId"), "externalId")
    rule = _check_trigger_rule(_obj(item.get("triggerRule"), "triggerRule"))
    _xid(item.get("workflowExternalId"), "workflowExternalId")
    _version(item.get("workflowVersion"), "workflowVersion")
    _check_input_and_metadata(item)
    _nonce(item)
    checked = {
        k: copy.deepcopy(item[k])
        for k in ("externalId", "workflowExternalId", "workflowVersion", "input", "metadata")
        if item.get(k) is not None
    }
    return {**checked, "triggerRule": rule, "authentication": item["authentication"]}


def _check_trigger_rule(rule: dict[str, Any]) -> dict[str, Any]:
    kind = rule.get("triggerType")
    if kind not in TRIGGER_TYPES:
        raise _BadBody(f"triggerRule.triggerType must be one of {', '.join(TRIGGER_TYPES)}")
    if kind == "schedule":
        try:
            cron.parse(rule.get("cronExpression"))
        except cron.CronError as exc:
            message = f"triggerRule.cronExpression is not a valid cron expression: {exc}"
            raise _BadBody(message) from None
        zone = rule.get("timezone")
        if zone is not None:
            try:
                ZoneInfo(_string(zone, "triggerRule.timezone"))
            except (ZoneInfoNotFoundError, ValueError):
                raise _BadBody(f"triggerRule.timezone {zone!r} is not a known time zone") from None
        keys: tuple[str, ...] = ("triggerType", "cronExpression", "timezone")
    elif kind == "dataModeling":
        query = _obj(rule.get("dataModelingQuery"), "triggerRule.dataModelingQuery")
        for key in ("with", "select"):
            _obj(query.get(key), f"triggerRule.dataModelingQuery.{key}")
        # The SDK always sends both, null when unset.
        for key in ("batchSize", "batchTimeout"):
            _optional(rule, key, lambda v, w: _integer(v, w, 1), "triggerRule")
        keys = ("triggerType", "dataModelingQuery", "batchSize", "batchTimeout")
    else:
        _xid(rule.get("streamExternalId"), "triggerRule.streamExternalId")
        for key in ("batchSize", "batchTimeout"):
            _integer(rule.get(key), f"triggerRule.{key}", 1)
        _optional(rule, "filter", lambda v, w: _obj(v, w), "triggerRule")
        sources = rule.get("sources")
        if sources is not None and not isinstance(sources, list):
            raise _BadBody("triggerRule.sources must be a list")
        _optional(rule, "initializeCursor", _string, "triggerRule")
        keys = (
            "triggerType",
            "streamExternalId",
            "batchSize",
            "batchTimeout",
            "filter",
            "sources",
            "initializeCursor",
        )
    return {k: copy.deepcopy(rule[k]) for k in keys if rule.get(k) is not None}


def _check_delete_triggers(body: Any) -> list[str]:
    items = _obj(body, "The request body").get("items")
    # One per request: both the SDK (_DELETE_LIMIT = 1) and cognite-toolkit send one.
    if not isinstance(items, list) or len(items) != 1:
        raise _BadBody("items must be a list of exactly one trigger identifier")
    return [
        _xid(_obj(item, f"items[{n}]").get("externalId"), f"items[{n}].externalId")
        for n, item in enumerate(items)
    ]


def _check_retry(body: Any) -> dict[str, Any]:
    checked = _obj(body, "The request body")
    _nonce(checked)
    return checked


def _check_cancel(body: Any) -> dict[str, Any]:
    checked = _obj({} if body is None else body, "The request body")
    reason = checked.get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 500):
        raise _BadBody("reason must be a string of at most 500 characters")
    return checked


def _check_update(body: Any) -> dict[str, Any]:
    checked = _obj(body, "The request body")
    if checked.get("status") not in UPDATE_STATUSES:
        raise _BadBody("status must be COMPLETED, FAILED or FAILED_WITH_TERMINAL_ERROR")
    output = checked.get("output")
    if output is not None:
        _obj(output, "output")
        if _size(output) > MAX_OUTPUT:
            raise _BadBody("Task output exceeds the maximum size of 100 KB")
    return checked


def _delete_items(body: Any) -> list[dict[str, Any]]:
    items = _obj(body, "The request body").get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= 100:
        raise _BadBody("items must be a list of 1 to 100 identifiers")
    return [_obj(item, f"items[{n}]") for n, item in enumerate(items)]


def _check_delete_workflows(body: Any) -> list[str]:
    return [
        _xid(item.get("externalId"), f"items[{n}].externalId")
        for n, item in enumerate(_delete_items(body))
    ]


def _check_delete_versions(body: Any) -> list[tuple[str, str]]:
    return [
        (
            _xid(item.get("workflowExternalId"), f"items[{n}].workflowExternalId"),
            _version(item.get("version"), f"items[{n}].version"),
        )
        for n, item in enumerate(_delete_items(body))
    ]


# -- references and helpers ------------------------------------------------------------------


def _key(parent: str | None, xid: str) -> str:
    """A task's key in its execution: NUL (never in an external id) joins it to its parent's."""
    return xid if parent is None else f"{parent}\x00{xid}"


def _find(execution: _Execution, xid: str, scope: str | None) -> _TaskRun | None:
    """The task ``xid`` a reference names: a sibling first, then a top-level task."""
    return execution.tasks.get(_key(scope, xid)) or execution.tasks.get(xid)


def _resolve(value: Any, execution: _Execution, scope: str | None = None) -> Any:
    """Resolve ``${workflow.input}`` and ``${task.output|input[.path]}`` references."""
    if isinstance(value, dict):
        return {k: _resolve(v, execution, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, execution, scope) for v in value]
    if not (isinstance(value, str) and value.startswith("${") and value.endswith("}")):
        return value
    path = value[2:-1].split(".")
    found: Any
    task = _find(execution, path[0], scope) if len(path) > 1 else None
    if path[0] == "workflow" and len(path) > 1 and path[1] == "input":
        found, rest = execution.input, path[2:]
    elif task is not None and path[1] in ("output", "input"):
        if path[1] == "output":
            found = task.output
        else:
            found = task.input if task.input is not None else task.definition.get("parameters")
        rest = path[2:]
    else:
        return value
    for key in rest:
        found = found.get(key) if isinstance(found, dict) else None
    return found


def _is_async(definition: dict[str, Any]) -> bool:
    parameters = definition.get("parameters") or {}
    return bool(parameters.get("isAsyncComplete") or parameters.get("asyncComplete"))


def _decode_cursor(cursor: Any) -> int | None:
    if cursor in (None, ""):
        return 0
    try:
        text = base64.urlsafe_b64decode(str(cursor).encode()).decode()
        assert text.startswith("o:")
        return int(text[2:])
    except (ValueError, AssertionError):
        return None


__all__ = ["DEFAULT_WORKFLOWS", "CogniteSimulator"]
