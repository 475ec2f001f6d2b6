"""Veritone aiWARE Edge REST (``/edge/v1``): jobs, tasks, outputs, engines."""

from __future__ import annotations

import builtins
import itertools
import json
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import attrs
import requests

from taskhub import download as _download
from taskhub import redact
from taskhub.adapter import (
    NAME,
    Adapter,
    Options,
    lookup_since,
    secret,
    select,
    url_field,
    wanted_states,
)
from taskhub.errors import (
    MalformedResponse,
    OutcomeUnknown,
    TaskhubError,
    TaskNotFound,
)
from taskhub.http import ErrorInfo, Transport, body_json
from taskhub.model import Asset, Task, parse_time
from taskhub.paging import fingerprint
from taskhub.polling import PollPolicy
from taskhub.states import State

from .parse import maybe_json as _maybe_json
from .parse import parse_payload, parse_task
from .specs import Job
from .statuses import STATUSES

CORRELATION = "X-Correlation-Id"
_PAGE = 100


@attrs.frozen(kw_only=True)
class EdgeOptions(Options):
    """Options of the ``veritone-edge`` vendor: a Bearer token or the spec's ``api_key``."""

    #: e.g. ``http://localhost:9000/edge/v1``.
    base_url: str = url_field()
    token: str | None = secret(default=None)
    api_key: str | None = secret(default=None)
    organization_id: str | None = None

    def __attrs_post_init__(self) -> None:
        if not (self.token or self.api_key):
            raise ValueError("give token (Bearer) or api_key")


def error_info(response: requests.Response) -> ErrorInfo:
    """Edge's ``{id, description, detail}`` body; the correlation id names the request."""
    try:
        body = body_json(response)
    except ValueError:
        return ErrorInfo(response.text[:200] or None)
    if not isinstance(body, dict):
        return ErrorInfo(None)
    nested = body.get("error")
    error: dict[str, Any] = nested if isinstance(nested, dict) else body
    description, detail = error.get("description"), error.get("detail")
    message = f"{description} ({detail})" if description and detail else description or detail
    return ErrorInfo(message, None, response.headers.get(CORRELATION))


class EdgeAdapter(Adapter):
    """Client (and task-status worker) for an aiWARE Edge instance."""

    vendor = "veritone-edge"
    hub_class = "taskhub.adapters.veritone_edge.hub:EdgeHub"
    specs = (Job,)
    options_class = EdgeOptions
    statuses = STATUSES
    simulator = "taskhub.adapters.veritone_edge.simulator:EdgeSimulator"
    # The docs poll "every minute or so".
    poll = PollPolicy(initial=5.0, factor=1.5, ceiling=60.0)
    alternatives: ClassVar[dict[str, str]] = {
        "cancel": "Edge has no cancel; delete the job with hub.ex_delete_job() "
        "(POST /proc/job/{id}/delete)",
        "retry": "submit the job again (Edge has no retry operation)",
    }

    # A cycle's listing or batch read lacks the subtasks and outputs get has.
    partial_refresh = True

    options: EdgeOptions
    #: Jobs a page of a refresh's listing.
    refresh_page = 1000

    def make_transport(self, session: requests.Session | None) -> Transport:
        o = self.options
        headers = {"Accept": "application/json"}
        if o.token:
            headers["Authorization"] = f"Bearer {o.token}"
        else:
            assert o.api_key is not None
            headers["api_key"] = o.api_key
        return Transport(
            vendor=self.vendor,
            base_url=o.base_url,
            options=o,
            headers=headers,
            error_info=error_info,
            request_id_header=CORRELATION,
            session=session,
        )

    def _call(self, method: str, path: str, operation: str, **kwargs: Any) -> requests.Response:
        headers = {CORRELATION: str(uuid.uuid4())}
        return self.transport.request(method, path, operation=operation, headers=headers, **kwargs)

    def _json(self, method: str, path: str, operation: str, **kwargs: Any) -> Any:
        return self.transport.json(self._call(method, path, operation, **kwargs), operation)

    # -- parsing -----------------------------------------------------------------------------

    parser = staticmethod(parse_payload)

    # -- client role -----------------------------------------------------------------------

    def submit(
        self,
        tasks: builtins.list[dict[str, Any]] | None = None,
        routes: builtins.list[dict[str, Any]] | None = None,
        **job: Any,
    ) -> Task:
        """``POST /proc/job/create`` with one CreateJobDetail; ``tasks`` take ``engineId`` and
        ``payload`` (a dict, sent as JSON text in both ``payloadJSON`` and ``taskPayloadJSON``,
        as the jobs quickstart does; ``taskPayload`` sets ``taskPayloadJSON`` apart); routes
        refer to ``correlationTaskId``."""
        if not isinstance(tasks, builtins.list) or not tasks:
            raise self.invalid("tasks must be a non-empty list", field="tasks", operation="submit")
        built = [self._create_task(n, t) for n, t in enumerate(tasks)]
        names = {t["correlationTaskId"] for t in built}
        if len(names) != len(built):
            raise self.invalid(
                "correlationTaskId values must be unique", field="tasks", operation="submit"
            )
        if routes is None:
            routes = [{"taskChildId": built[0]["correlationTaskId"]}] + [
                {"taskParentId": a["correlationTaskId"], "taskChildId": b["correlationTaskId"]}
                for a, b in itertools.pairwise(built)
            ]
        for n, route in enumerate(routes):
            for key in ("taskParentId", "taskChildId"):
                if key in route and route[key] not in names:
                    raise self.invalid(
                        f"routes[{n}].{key} {route[key]!r} names no task",
                        field=f"routes[{n}]",
                        operation="submit",
                    )
        detail: dict[str, Any] = {
            "tasks": built,
            "taskRoutes": routes,
            "jobStatus": "pending",
            **job,
        }
        if self.options.organization_id:
            detail.setdefault("internalOrganizationID", self.options.organization_id)
        correlation = str(uuid.uuid4())
        lookup = {
            "correlation_id": correlation,
            "created_after": lookup_since(),
            "tasks": [_task_key(t, self.policy) for t in built],
        }
        try:
            body = self.transport.request_json(
                "POST",
                "/proc/job/create",
                operation="submit",
                creates=True,
                json={"jobs": [detail]},
                headers={CORRELATION: correlation},
            )
            try:
                job_id = str(body["internalJobIds"][0])
            except (KeyError, IndexError, TypeError):
                raise OutcomeUnknown(
                    "the create answer has no internalJobIds",
                    vendor=self.vendor,
                    operation="submit",
                ) from None
        except OutcomeUnknown as exc:
            exc.lookup.update(lookup)
            raise
        try:
            return self.get(job_id)
        except TaskhubError:
            # The job exists (its id is in the answer); a failed read must not hide it.
            return Task(
                self.backend, self.vendor, job_id, STATUSES.normalize("pending", "job"), kind="job"
            )

    def find_submitted(self, lookup: Mapping[str, Any]) -> Task | None:
        """The job a submit with an unknown outcome created: the newest one since, whose tasks
        have the same engines and payloads."""
        since = int(lookup.get("created_after") or 0)
        wanted = [tuple(t) for t in lookup.get("tasks") or []]
        for job in self._pages(None, _PAGE):
            if job.created_at is not None and job.created_at.timestamp() * 1000 < since:
                return None
            keys = [_task_key(t.raw, self.policy) for t in job.subtasks]
            if keys == wanted:
                return job
        return None

    def _create_task(self, n: int, spec: Any) -> dict[str, Any]:
        if not isinstance(spec, dict) or not spec.get("engineId"):
            raise self.invalid(
                f"tasks[{n}] needs engineId", field=f"tasks[{n}]", operation="submit"
            )
        task = {k: v for k, v in spec.items() if k not in ("payload", "taskPayload")}
        # The documented examples carry the input in taskPayloadJSON (the Edge install guide
        # only there, the jobs quickstart in both fields): a payload goes in both.
        sources = {"payloadJSON": "payload", "taskPayloadJSON": "payload"}
        if "taskPayload" in spec:
            sources["taskPayloadJSON"] = "taskPayload"
        for wire, key in sources.items():
            if key in spec:
                try:
                    task[wire] = json.dumps(spec[key])
                except (TypeError, ValueError):
                    raise self.invalid(
                        f"tasks[{n}].{key} is not JSON-serializable",
                        field=f"tasks[{n}].{key}",
                        operation="submit",
                    ) from None
        task.setdefault("correlationTaskId", f"task-{n}-{uuid.uuid4().hex[:8]}")
        task.setdefault("taskStatus", "pending")
        return task

    def get(self, task_id: str) -> Task:
        """The job detail with its tasks; a completed job's outputs become its Assets."""
        try:
            body = self._json(
                "GET", self.transport.path("proc", "job", self.require_id(task_id), "detail"), "get"
            )
        except TaskNotFound as exc:
            exc.task_id = task_id
            raise
        if not isinstance(body, dict):
            raise MalformedResponse("expected {job: ...}", vendor=self.vendor, operation="get")
        job = self.parse(body.get("job"))
        if job.state is State.SUCCEEDED:
            job = attrs.evolve(job, outputs=tuple(self.outputs(job.id)))
        return job

    def list(
        self,
        *,
        state: State | Iterable[State] | None = None,
        limit: int | None = None,
        **filters: Any,
    ) -> Iterator[Task]:
        """Jobs, newest first, paged by offset/limit."""
        self.refuse_unknown(filters, "list", what="list filter")
        wanted = wanted_states(state)
        words = (
            []
            if wanted is None
            else [w for w, r in STATUSES.vocabularies["job"].items() if r.state in wanted]
        )
        page = min(_PAGE, limit) if limit and wanted is None else _PAGE
        # The server filters by one word; a state several words map to is filtered here.
        return select(self._pages(words[0] if len(words) == 1 else None, page), wanted, limit)

    def refresh(self, task_ids: Sequence[str]) -> Iterator[Task | TaskhubError]:
        """Many jobs through ``/proc/jobs`` pages of ``refresh_page`` (job status, no outputs):
        only what changed since the last cycle (``modifiedAfter``), created since the oldest
        followed job (``CreatedAfter``); a job that did not change is served from its last
        observation (:meth:`Adapter.refresh_changed`)."""
        return self.refresh_changed(task_ids, self._changed, page=self.refresh_page)

    def _changed(self, since: int | None, created: tuple[int, int] | None) -> Iterator[Task]:
        # The spec types the bounds as int64 timestamps without a unit; they are sent in Unix
        # seconds (as the spec's other timestamps), a second early since "after" is strict and
        # may compare whole seconds. Were the server to read milliseconds, an "after" bound
        # would match more, never less; a "before" bound would match nothing, so none is sent.
        bounds: dict[str, int] = {}
        if since is not None:
            bounds["modifiedAfter"] = since // 1000 - 1
        if created is not None:
            bounds["CreatedAfter"] = created[0] // 1000 - 1
        return self._pages(None, self.refresh_page, bounds)

    def _pages(
        self, word: str | None, page: int, bounds: Mapping[str, int] | None = None
    ) -> Iterator[Task]:
        offset = 0
        guard = self.pages("list")
        while True:
            params: dict[str, Any] = {"offset": offset, "limit": page, "direction": "DESC"}
            if word:
                params["status"] = word
            params.update(bounds or {})
            body = self._json("GET", "/proc/jobs", "list", params=params)
            result = body.get("result") if isinstance(body, dict) else None
            if not isinstance(result, builtins.list):
                raise MalformedResponse(
                    "expected {result: [...]}", vendor=self.vendor, operation="list"
                )
            yield from self.parse_rows(result)
            offset += len(result)
            count = body.get("count")
            if not isinstance(count, int) or isinstance(count, bool):
                count = 0  # no usable total: this page is the last one
            more = str(offset) if result and offset < count else None
            if not guard.turn(next=more, count=len(result), content=fingerprint(result)):
                return

    def delete_job(self, job_id: str) -> None:
        """Delete a job and its tasks (Edge has no cancel: this is how work is dropped)."""
        self._call(
            "POST",
            self.transport.path("proc", "job", self.require_id(job_id, "job_id"), "delete"),
            "delete_job",
        )

    # -- worker role -------------------------------------------------------------------------

    def report(self, task_id: str, state: State, **extra: Any) -> Task:
        """``POST /proc/tasks/update_status`` for one task, then the task as it is now."""
        self.check_report(task_id, state, **extra)
        body = self._json(
            "POST",
            "/proc/tasks/update_status",
            "report",
            json={"taskIDs": [task_id], "taskStatus": STATUSES.report[state]},
        )
        if isinstance(body, dict) and body.get("success") is False:
            error = body.get("error")
            info = error if isinstance(error, dict) else {}
            raise TaskhubError(
                str(info.get("description") or "the status update failed"),
                vendor=self.vendor,
                operation="report",
            )
        return self.current(task_id)

    def check_report(self, task_id: str, state: State, **extra: Any) -> None:
        """Refuse a report's bad arguments before any request (Edge takes none)."""
        self.refuse_unknown(extra, "report")

    def current(self, task_id: str) -> Task:
        """One task by its own id (``GET /proc/task/{id}/detail``), for ``report`` from a
        fresh process."""
        detail = self._json(
            "GET", self.transport.path("proc", "task", self.require_id(task_id), "detail"), "report"
        )
        return parse_task(detail.get("task") if isinstance(detail, dict) else None, self.backend)

    # -- outputs and engines -----------------------------------------------------------------

    def outputs(self, job_id: str) -> builtins.list[Asset]:
        """The outputs a job's tasks wrote (``GET /proc/job/{id}/outputs``), as Assets."""
        body = self._json(
            "GET",
            self.transport.path("proc", "job", self.require_id(job_id, "job_id"), "outputs"),
            "outputs",
        )
        items = ((body or {}).get("outputs") or {}).get("outputs") or []
        return [
            Asset(
                id=o.get("name"),
                uri=self.transport.url(
                    self.transport.path("proc", "job", job_id, "output", str(o.get("name")))
                ),
                content_type="application/json",
                kind="output",
                name=o.get("name"),
                size=o.get("size") if isinstance(o.get("size"), int) else None,
                created_at=parse_time(o.get("created")),
            )
            for o in items
            if isinstance(o, dict)
        ]

    def output(self, job_id: str, name: str) -> bytes:
        """The contents of one job output (``GET /proc/job/{id}/output/{name}``)."""
        body = self._json(
            "GET",
            self.transport.path(
                "proc",
                "job",
                self.require_id(job_id, "job_id"),
                "output",
                self.require_id(name, "name", NAME),
            ),
            "output",
        )
        output = (body or {}).get("output") if isinstance(body, dict) else None
        if not isinstance(output, dict) or not isinstance(output.get("contents"), str):
            raise MalformedResponse(
                "expected {output: {contents}}", vendor=self.vendor, operation="output"
            )
        return str(output["contents"]).encode()

    def download_output(self, job_id: str, name: str, directory: str | os.PathLike[str]) -> Path:
        """Save one job output into ``directory`` under a safe name; nothing partial is left."""
        return _download.write_file(directory, name, self.output(job_id, name))

    def engines(self) -> builtins.list[dict[str, Any]]:
        """Every engine installed on the Edge instance (``GET /admin/engines``)."""
        found: builtins.list[dict[str, Any]] = []
        offset = 0
        while True:
            body = self._json(
                "GET", "/admin/engines", "engines", params={"offset": offset, "limit": _PAGE}
            )
            result = body.get("result") if isinstance(body, dict) else None
            if not isinstance(result, builtins.list):
                raise MalformedResponse(
                    "expected {result: [...]}", vendor=self.vendor, operation="engines"
                )
            found.extend(result)
            offset += len(result)
            if not result or offset >= int(body.get("count") or 0):
                return found


def _task_key(task: Mapping[str, Any], policy: redact.Policy) -> tuple[str, str]:
    """What identifies a submitted task: its engine and its payload, masked (a lookup
    outlives the call, in an Airflow task's state or a log, and a payload may hold a signed
    URL or a credential: both sides of the comparison are masked alike)."""
    engine = task.get("engineId") or task.get("engineID") or ""
    payload = task.get("payloadJSON")
    value = policy.data(_maybe_json(payload) if payload else None)
    return (str(engine), json.dumps(value, sort_keys=True))
