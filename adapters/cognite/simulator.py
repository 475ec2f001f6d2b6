"""A Cognite Data Fusion simulator: sessions, workflows, versions, executions, task updates.

Executions run their version's task DAG on the simulator's clock. A task is SCHEDULED once its
dependencies finished, IN_PROGRESS ``schedule_s`` later, and done ``task_s`` after that — unless
it is an async task (``isAsyncComplete``), which waits for ``POST /workflows/tasks/{id}/update``.
A function whose external id contains ``fail`` fails every attempt (then FAILED after its
``retries``); one containing ``timeout`` ends TIMED_OUT. Two workflows are there from the start:

* ``taskhub-auto`` / ``1``: one function task that completes by itself;
* ``taskhub-demo`` / ``1``: ``prepare`` (function) then ``external-step`` (async function).

Also: OAuth client credentials at ``/oauth2/token``, ``/api/v1/token/inspect``, gzip request
bodies, single-use nonces, the ``{"error": {"code", "message"}}`` envelope with
``x-request-id`` on every answer, and raw-path routing (``%2F`` inside an external id).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import random
import uuid
from collections.abc import Iterable
from typing import Any

import attrs
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from taskhub.hub import TaskHub
from taskhub.model import Task
from taskhub.states import State
from taskhub.testing import Answer, Simulator

MAX_OUTPUT = 100 * 1024
DAY_MS = 24 * 3600 * 1000
_SUCCESS = ("COMPLETED", "COMPLETED_WITH_ERRORS", "SKIPPED")
_TERMINAL = (*_SUCCESS, "FAILED", "FAILED_WITH_TERMINAL_ERROR", "TIMED_OUT", "CANCELED")
_RERUN = ("CANCELED", "CANCELLED", "FAILED", "FAILED_WITH_TERMINAL_ERROR", "TIMED_OUT")

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
    definition: dict[str, Any]
    status: str
    scheduled: int
    started: int | None = None
    ends: int | None = None  # planned end of the current attempt (None: waits for an update)
    ended: int | None = None
    attempt: int = 1
    output: dict[str, Any] = attrs.field(factory=dict)
    reason: str | None = None


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
        self.requests_seen = itertools.count(1)
        self.workflows: dict[str, dict[str, Any]] = {}
        self.versions: dict[tuple[str, str], dict[str, Any]] = {}
        self.executions: dict[str, _Execution] = {}
        self.order: list[str] = []
        self.task_index: dict[str, tuple[str, str]] = {}  # task id -> (execution id, external id)
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
            Rule(f"{p}/workflows/versions", endpoint="upsert_versions", methods=["POST"]),
            Rule(f"{p}/workflows/executions/list", endpoint="list_executions", methods=["POST"]),
            Rule(f"{p}/workflows/executions/<eid>", endpoint="get_execution", methods=["GET"]),
            Rule(f"{p}/workflows/executions/<eid>/cancel", endpoint="cancel", methods=["POST"]),
            Rule(f"{p}/workflows/executions/<eid>/retry", endpoint="retry", methods=["POST"]),
            Rule(f"{p}/workflows/tasks/<tid>/update", endpoint="update_task", methods=["POST"]),
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
        body = self.body(request)
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
            return self.error(400, "Request must contain exactly one item")
        item = items[0]
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

    def _use_nonce(self, body: Any) -> None:
        nonce = (
            ((body or {}).get("authentication") or {}).get("nonce")
            if isinstance(body, dict)
            else None
        )
        if not isinstance(nonce, str) or nonce not in self.nonces:
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
        full = [
            {"retries": 3, "timeout": 3600, "onFailure": "abortWorkflow", "dependsOn": [], **t}
            for t in tasks
        ]
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

    def _one_item(self, request: Request) -> dict[str, Any]:
        body = self.body(request)
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
            raise Answer(self.error(400, "Request must contain exactly one item"))
        return items[0]

    def on_upsert_workflows(self, request: Request, project: str) -> Response:
        self._auth(request, project)
        item = self._one_item(request)
        xid = item.get("externalId")
        if not isinstance(xid, str) or not xid or xid != xid.strip() or len(xid) > 255:
            return self.error(400, "Invalid externalId")
        fields = {
            k: item[k] for k in ("description", "dataSetId", "maxConcurrentExecutions") if k in item
        }
        return self.json({"items": [self.upsert_workflow(xid, **fields)]})

    def on_list_workflows(self, request: Request, project: str) -> Response:
        self._auth(request, project)
        return self.json({"items": list(self.workflows.values())})

    def on_get_workflow(self, request: Request, project: str, xid: str) -> Response:
        self._auth(request, project)
        if xid not in self.workflows:
            return self.error(404, f"Workflow {xid!r} not found")
        return self.json(self.workflows[xid])

    def on_upsert_versions(self, request: Request, project: str) -> Response:
        self._auth(request, project)
        item = self._one_item(request)
        xid, version = item.get("workflowExternalId"), item.get("version")
        definition = item.get("workflowDefinition")
        if not isinstance(version, str):
            return self.error(400, "version must be a string")
        if (
            not isinstance(xid, str)
            or not isinstance(definition, dict)
            or not isinstance(definition.get("tasks"), list)
        ):
            return self.error(400, "workflowExternalId and workflowDefinition.tasks are required")
        for task in definition["tasks"]:
            if any(task.get(k, 0) is None for k in ("retries", "timeout", "onFailure")):
                return self.error(400, "retries, timeout and onFailure must not be null")
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

    # -- executions ------------------------------------------------------------------------------

    def on_run(self, request: Request, project: str, xid: str, version: str) -> Response:
        self._auth(request, project)
        body = self.body(request)
        version_item = self.versions.get((xid, version))
        if version_item is None:
            return self.error(404, f"Workflow version {xid!r}/{version!r} not found")
        self._use_nonce(body)
        metadata = body.get("metadata") if isinstance(body, dict) else None
        if metadata is not None and (not isinstance(metadata, dict) or len(metadata) > 10):
            return self.error(400, "metadata must be an object of at most 10 pairs")
        now = self.now_ms()
        execution = _Execution(
            id=self._uuid(),
            workflow=xid,
            version=version,
            definition=json.loads(json.dumps(version_item["workflowDefinition"])),
            created=now,
            input=body.get("input") if isinstance(body, dict) else None,
            metadata=metadata,
            started=now,
            engine_id=self._uuid(),
        )
        self.executions[execution.id] = execution
        self.order.append(execution.id)
        return self.json(self._execution_view(execution, detailed=False))

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
        body = self.body(request) or {}
        limit = body.get("limit", 100)
        if not isinstance(limit, int) or not 1 <= limit <= 1000:
            return self.error(400, "limit must be between 1 and 1000")
        flt = body.get("filter") or {}
        rows = [self.executions[i] for i in reversed(self.order)]
        workflows = flt.get("workflowFilters")
        if workflows:
            rows = [
                e
                for e in rows
                if any(
                    w.get("externalId") == e.workflow and w.get("version") in (None, e.version)
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
        offset = _decode_cursor(body.get("cursor"))
        if offset is None:
            return self.error(400, "Invalid cursor")
        page = rows[offset : offset + limit]
        answer: dict[str, Any] = {"items": [self._execution_view(e, detailed=False) for e in page]}
        if offset + limit < len(rows):
            answer["nextCursor"] = base64.urlsafe_b64encode(f"o:{offset + limit}".encode()).decode()
        return self.json(answer)

    def on_cancel(self, request: Request, project: str, eid: str) -> Response:
        self._auth(request, project)
        execution = self.executions.get(eid)
        if execution is None:
            return self.error(404, f"Workflow execution {eid!r} not found")
        reason = (self.body(request) or {}).get("reason")
        if reason is not None and (not isinstance(reason, str) or len(reason) > 500):
            return self.error(400, "reason must be at most 500 characters")
        self.advance(execution)
        if execution.status != "RUNNING":
            return self.error(409, f"Workflow execution is {execution.status}, not RUNNING")
        now = self.now_ms()
        execution.status, execution.ended = "TERMINATED", now
        execution.reason = reason or "cancelled"
        for task in execution.tasks.values():
            if task.status in ("SCHEDULED", "IN_PROGRESS"):
                task.status, task.ended, task.ends = self.canceled_spelling, now, None
        return self.json(self._execution_view(execution, detailed=False))

    def on_retry(self, request: Request, project: str, eid: str) -> Response:
        self._auth(request, project)
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
        self._use_nonce(self.body(request))
        now = self.now_ms()
        execution.status, execution.ended, execution.reason = "RUNNING", None, None
        for task in execution.tasks.values():
            if task.status in _RERUN and task.definition.get("onFailure") != "skipTask":
                self._start(execution, task, now, task.attempt + 1)
        return self.json(self._execution_view(execution, detailed=False))

    def on_update_task(self, request: Request, project: str, tid: str) -> Response:
        self._auth(request, project)
        where = self.task_index.get(tid)
        if where is None:
            return self.error(404, f"Task {tid!r} not found")
        body = self.body(request)
        status = body.get("status") if isinstance(body, dict) else None
        if status not in ("COMPLETED", "FAILED", "FAILED_WITH_TERMINAL_ERROR"):
            return self.error(400, "status must be COMPLETED, FAILED or FAILED_WITH_TERMINAL_ERROR")
        output = body.get("output")
        if output is not None:
            if not isinstance(output, dict):
                return self.error(400, "output must be an object")
            if len(json.dumps(output, separators=(",", ":")).encode()) > MAX_OUTPUT:
                return self.error(400, "Task output exceeds the maximum size of 100 KB")
        execution = self.executions[where[0]]
        self.advance(execution)
        task = execution.tasks[where[1]]
        if task.status != "IN_PROGRESS" or not _is_async(task.definition):
            return self.error(
                400, f"Task is {task.status}; only an IN_PROGRESS async task can be updated"
            )
        now = self.now_ms()
        task.output.update(output or {})
        self._finish(
            execution, task, now, status, "set by task update" if status != "COMPLETED" else None
        )
        self.advance(execution)
        return self.json(self._task_view(task, execution))

    # -- the lifecycle ---------------------------------------------------------------------------

    def advance(self, execution: _Execution, now: int | None = None) -> None:
        """Move ``execution`` and its tasks forward to ``now`` (default: the clock)."""
        now = self.now_ms() if now is None else now
        changed = True
        while changed and execution.status == "RUNNING":
            changed = False
            if execution.started is not None and now - execution.started >= DAY_MS:
                execution.status, execution.ended = "TIMED_OUT", execution.started + DAY_MS
                execution.reason = "The workflow execution exceeded its maximum duration"
                return
            for definition in execution.definition["tasks"]:
                xid = definition["externalId"]
                task = execution.tasks.get(xid)
                if task is None:
                    ready = self._ready_at(execution, definition)
                    if ready is not None and ready <= now:
                        self._schedule(execution, definition, ready)
                        changed = True
                    continue
                if task.status == "SCHEDULED" and task.scheduled + self.schedule_ms <= now:
                    self._start(execution, task, task.scheduled + self.schedule_ms, task.attempt)
                    changed = True
                elif task.status == "IN_PROGRESS" and task.ends is not None and task.ends <= now:
                    outcome = self._outcome(definition)
                    self._finish(
                        execution,
                        task,
                        task.ends,
                        outcome,
                        f"function {outcome.lower()}" if outcome != "COMPLETED" else None,
                    )
                    changed = True
            if execution.status == "RUNNING" and all(
                execution.tasks.get(d["externalId"]) is not None
                and execution.tasks[d["externalId"]].status in _SUCCESS
                for d in execution.definition["tasks"]
            ):
                execution.status = "COMPLETED"
                execution.ended = max((t.ended or 0) for t in execution.tasks.values())

    def _ready_at(self, execution: _Execution, definition: dict[str, Any]) -> int | None:
        times = [execution.started or execution.created]
        for dep in definition.get("dependsOn") or []:
            task = execution.tasks.get(dep.get("externalId"))
            if task is None or task.status not in _SUCCESS or task.ended is None:
                return None
            times.append(task.ended)
        return max(times)

    def _schedule(self, execution: _Execution, definition: dict[str, Any], at: int) -> None:
        task = _TaskRun(self._uuid(), definition, "SCHEDULED", at)
        execution.tasks[definition["externalId"]] = task
        self.task_index[task.id] = (execution.id, definition["externalId"])

    def _start(self, execution: _Execution, task: _TaskRun, at: int, attempt: int) -> None:
        task.status, task.started, task.ended, task.reason, task.attempt = (
            "IN_PROGRESS",
            at,
            None,
            None,
            attempt,
        )
        task.ends = None if _is_async(task.definition) else at + self.task_ms
        if task.definition.get("type") == "function":
            response: dict[str, Any] = {}
            if _is_async(task.definition):
                response = {"cogniteOrchestrationTaskId": task.id}
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

    def _finish(
        self, execution: _Execution, task: _TaskRun, at: int, outcome: str, reason: str | None
    ) -> None:
        definition = task.definition
        if outcome == "FAILED" and task.attempt <= int(definition.get("retries", 3)):
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
        function = ((definition.get("parameters") or {}).get("function") or {}).get(
            "externalId", ""
        )
        if "timeout" in function:
            return "TIMED_OUT"
        if "fail" in function:
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
            view["input"] = execution.input
        return view

    def _task_view(self, task: _TaskRun, execution: _Execution | None = None) -> dict[str, Any]:
        definition = task.definition
        parameters = json.loads(json.dumps(definition.get("parameters") or {}))
        if execution is not None:
            parameters = _resolve(parameters, execution)
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
        self._schedule(execution, definition, now)
        task = execution.tasks[external_id]
        task.status, task.ended = "SKIPPED", now

    def async_task(self, execution_id: str) -> str | None:
        """The id of the execution's async task waiting for an update, once there is one."""
        execution = self.executions[execution_id]
        self.advance(execution)
        for task in execution.tasks.values():
            if task.status == "IN_PROGRESS" and _is_async(task.definition):
                return task.id
        return None


def _resolve(value: Any, execution: _Execution) -> Any:
    """Resolve ``${workflow.input}`` and ``${task.output|input[.path]}`` references."""
    if isinstance(value, dict):
        return {k: _resolve(v, execution) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, execution) for v in value]
    if not (isinstance(value, str) and value.startswith("${") and value.endswith("}")):
        return value
    path = value[2:-1].split(".")
    found: Any
    if path[0] == "workflow" and len(path) > 1 and path[1] == "input":
        found, rest = execution.input, path[2:]
    elif path[0] in execution.tasks and len(path) > 1 and path[1] in ("output", "input"):
        task = execution.tasks[path[0]]
        found = task.output if path[1] == "output" else task.definition.get("parameters")
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
