"""Veritone aiWARE GraphQL: jobs and their tasks, TDO assets, the engine (worker) role."""

from __future__ import annotations

import builtins
import inspect
import json
import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import attrs
import requests

from taskhub import download as _download
from taskhub import redact
from taskhub.adapter import (
    Adapter,
    Options,
    lookup_since,
    secret,
    select,
    url_field,
    wanted_states,
)
from taskhub.errors import (
    AuthError,
    InvalidRequest,
    MalformedResponse,
    OutcomeUnknown,
    RateLimited,
    TaskhubError,
    TaskNotFound,
    VendorUnavailable,
)
from taskhub.http import ErrorInfo, Transport, body_json
from taskhub.model import Asset, Task
from taskhub.paging import fingerprint
from taskhub.polling import PollPolicy
from taskhub.states import State

from . import documents as doc
from .parse import parse_asset, parse_payload, parse_task
from .specs import Job
from .statuses import STATUSES

#: ``TaskFailureReason`` values ``report`` accepts.
FAILURE_REASONS = (
    "internal_error",
    "unknown",
    "url_not_found",
    "url_not_allowed",
    "url_timeout",
    "url_connection_refused",
    "url_error",
    "invalid_data",
    "rate_limited",
    "api_not_allowed",
    "api_authentication_error",
    "api_not_found",
    "api_error",
    "file_write_error",
    "system_dependency_missing",
    "system_error",
    "other",
)
#: GraphQL error ``name`` -> error class (the list "may grow"; others are TaskhubError).
ERRORS: dict[str, type[TaskhubError]] = {
    "not_found": TaskNotFound,
    "invalid_input": InvalidRequest,
    "not_allowed": AuthError,
    "authentication_error": AuthError,
    "rate_limited": RateLimited,
    "capacity_exceeded": RateLimited,
    "service_unavailable": VendorUnavailable,
    "service_failure": VendorUnavailable,
    "internal_error": VendorUnavailable,
}
#: Normalized state -> the JobStatusFilter word that selects it on the server.
_JOB_FILTER = {
    State.PENDING: "pending",
    State.QUEUED: "queued",
    State.RUNNING: "running",
    State.SUCCEEDED: "complete",
    State.CANCELLED: "cancelled",
}
_PAGE = 100
#: Operations that send a mutation: once its root field comes back, the change was made.
_MUTATIONS = frozenset({"submit", "cancel", "retry", "report", "create_asset"})

log = logging.getLogger("taskhub.veritone")


@attrs.frozen(kw_only=True)
class VeritoneOptions(Options):
    """Options of the ``veritone`` vendor."""

    #: An API key, login token or engine token (sent as ``Authorization: Bearer``).
    token: str = secret()
    #: The endpoint is ``base_url + "/v3/graphql"``.
    base_url: str = url_field(default="https://api.veritone.com")


def _task_key(task: Mapping[str, Any], policy: redact.Policy) -> tuple[str, str]:
    """What identifies a submitted task: its engine and its payload, masked (a lookup
    outlives the call, in an Airflow task's state or a log, and a payload may hold a signed
    URL or a credential: both sides of the comparison are masked alike)."""
    engine = task.get("engineId") or task.get("taskType") or ""
    return (str(engine), json.dumps(policy.data(task.get("payload")), sort_keys=True))


def _carried_out(body: Mapping[str, Any]) -> bool:
    """Whether a GraphQL answer holds a result: a root field that is not null."""
    data = body.get("data")
    return isinstance(data, dict) and any(value is not None for value in data.values())


def _only_missing(body: Mapping[str, Any]) -> bool:
    """Whether a GraphQL answer has data, and every error entry is a ``not_found``."""
    errors = body.get("errors")
    return (
        isinstance(body.get("data"), dict)
        and isinstance(errors, builtins.list)
        and all(isinstance(e, dict) and e.get("name") == "not_found" for e in errors)
    )


def _describe(errors: builtins.list[Any]) -> str:
    """``name: message`` of the first few GraphQL error entries."""
    parts = [
        f"{e.get('name') or 'error'}: {e.get('message') or ''}".rstrip(": ")
        if isinstance(e, dict)
        else str(e)
        for e in errors[:5]
    ]
    return "; ".join(parts) + (f" (and {len(errors) - 5} more)" if len(errors) > 5 else "")


def error_info(response: requests.Response) -> ErrorInfo:
    """The first entry of ``{"errors": [{message, name, ...}]}``."""
    try:
        body = body_json(response)
    except ValueError:
        return ErrorInfo(response.text[:200] or None)
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return ErrorInfo(
            first.get("message"),
            first.get("name"),
            (first.get("data") or {}).get("errorId")
            if isinstance(first.get("data"), dict)
            else None,
        )
    return ErrorInfo(None)


class VeritoneAdapter(Adapter):
    """Client for aiWARE jobs over GraphQL, and the engine's side of a task."""

    vendor = "veritone"
    hub_class = "taskhub.adapters.veritone.hub:VeritoneHub"
    specs = (Job,)
    options_class = VeritoneOptions
    statuses = STATUSES
    simulator = "taskhub.adapters.veritone.simulator:VeritoneSimulator"
    engine = "taskhub.adapters.veritone.engine:run"
    poll = PollPolicy(initial=2.0, factor=1.5, ceiling=60.0)
    alternatives: ClassVar[dict[str, str]] = {}

    # A cycle's listing or batch read lacks the subtasks and outputs get has.
    partial_refresh = True

    options: VeritoneOptions
    #: Jobs one refresh document reads (at most documents.BATCH_MOST).
    refresh_batch = 1000

    def make_transport(self, session: requests.Session | None) -> Transport:
        return Transport(
            vendor=self.vendor,
            base_url=self.options.base_url.rstrip("/") + "/v3/graphql",
            options=self.options,
            headers={"Authorization": f"Bearer {self.options.token}", "Accept": "application/json"},
            error_info=error_info,
            check=self._check,
            session=session,
        )

    # -- GraphQL plumbing ------------------------------------------------------------------

    def _check(self, response: requests.Response, operation: str) -> None:
        """HTTP 200 with ``errors`` is an error, even with partial data — except for a
        mutation whose result came back (``data.createJob`` ...): that change was made, so the
        answer is returned, never retried (the transport retries some of these errors), and
        ``_graphql`` reports the errors."""
        try:
            body = body_json(response)
        except ValueError:
            return  # the caller's json() reports a malformed body
        errors = body.get("errors") if isinstance(body, dict) else None
        if not errors:
            return
        if operation in _MUTATIONS and _carried_out(body):
            return
        if operation == "refresh" and _only_missing(body):
            return  # a batch whose missing jobs are null: each is its own TaskNotFound
        info = error_info(response)
        cls = ERRORS.get(info.code or "", TaskhubError)
        extra = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        message = (info.message or "GraphQL error") + extra
        kwargs: dict[str, Any] = {
            "vendor": self.vendor,
            "operation": operation,
            "http_status": 200,
            "code": info.code,
        }
        if issubclass(cls, (RateLimited, VendorUnavailable)):
            kwargs["retry_after"] = None
        raise cls(message, **kwargs)

    def _graphql(
        self,
        query: str,
        variables: dict[str, Any],
        operation: str,
        *,
        creates: bool = False,
        files: Any = None,
    ) -> dict[str, Any]:
        if files is None:
            body = self.transport.request_json(
                "POST",
                "",
                operation=operation,
                creates=creates,
                json={"query": query, "variables": variables},
            )
        else:
            body = self.transport.request_json(
                "POST",
                "",
                operation=operation,
                creates=creates,
                files=files,
                data={
                    "query": query,
                    "variables": json.dumps(variables),
                    "filename": files["file"][0],
                },
            )
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise MalformedResponse(
                "a GraphQL answer without data", vendor=self.vendor, operation=operation
            )
        errors = body.get("errors")
        if errors:
            # Only a mutation that was carried out gets here with errors (see _check): its
            # result is returned, the errors logged and kept beside it, under "errors", in
            # what becomes the Task's (or Asset's) raw JSON.
            entries = errors if isinstance(errors, builtins.list) else [errors]
            log.warning(
                "%s",
                self.transport.policy.text(
                    f"{self.vendor} {operation}: carried out, but the answer also holds "
                    f"{len(entries)} GraphQL error(s): {_describe(entries)}"
                ),
            )
            for value in data.values():
                if isinstance(value, dict):
                    value["errors"] = entries
        return data

    # -- client role -----------------------------------------------------------------------

    parser = staticmethod(parse_payload)

    def get(self, task_id: str) -> Task:
        """The job with every one of its tasks (paged past the 30-record default)."""
        records: builtins.list[Any] = []
        job: dict[str, Any] | None = None
        task_id = self.require_id(task_id)
        offset = 0
        guard = self.pages("get")
        while True:
            try:
                data = self._graphql(
                    doc.GET_JOB, {"id": task_id, "offset": offset, "limit": _PAGE}, "get"
                )
            except TaskNotFound as exc:
                exc.task_id = task_id
                raise
            job = data.get("job")
            if not isinstance(job, dict):
                raise TaskNotFound(
                    f"no job {task_id}", task_id=task_id, vendor=self.vendor, operation="get"
                )
            page = (job.get("tasks") or {}).get("records") or []
            records.extend(page)
            more = str(offset + _PAGE) if len(page) >= _PAGE else None
            if not guard.turn(next=more, count=len(page), content=fingerprint(page)):
                break
            offset += _PAGE
        return self.parse({**job, "tasks": {"records": records}})

    def list(
        self,
        *,
        state: State | Iterable[State] | None = None,
        limit: int | None = None,
        **filters: Any,
    ) -> Iterator[Task]:
        """Jobs, newest first, paged by offset/limit (without their tasks)."""
        self.refuse_unknown(filters, "list", what="list filter")
        wanted = wanted_states(state)
        words = None
        if wanted is not None and all(s in _JOB_FILTER for s in wanted):
            words = sorted(_JOB_FILTER[s] for s in wanted)
        page_size = min(_PAGE, limit) if limit and wanted is None else _PAGE
        return select(self._pages(words, page_size), wanted, limit)

    def refresh(self, task_ids: Sequence[str]) -> Iterator[Task | TaskhubError]:
        """Many jobs by id, ``refresh_batch`` to a GraphQL document (``j0: job(id: $id0)``
        ...; job status only, no tasks); a job that is not found is its TaskNotFound, the
        others are still read. One or two jobs are read whole, by ``get``."""
        if len(task_ids) <= 2:
            return self.read_each(task_ids)
        return self._batches([*dict.fromkeys(task_ids)])

    def _batches(self, ids: builtins.list[str]) -> Iterator[Task | TaskhubError]:
        size = max(1, min(self.refresh_batch, doc.BATCH_MOST))
        for start in range(0, len(ids), size):
            yield from self._batch(ids[start : start + size])

    def _batch(self, ids: builtins.list[str]) -> builtins.list[Task | TaskhubError]:
        for task_id in ids:
            self.require_id(task_id)
        try:
            body = self.transport.request_json(
                "POST",
                "",
                operation="refresh",
                json={
                    "query": doc.job_batch(len(ids)),
                    "variables": {f"id{n}": task_id for n, task_id in enumerate(ids)},
                },
            )
        except RateLimited as exc:
            if exc.code != "capacity_exceeded" or len(ids) == 1:
                raise
            # The documented answer to capacity_exceeded: split the query.
            half = len(ids) // 2
            return [*self._batch(ids[:half]), *self._batch(ids[half:])]
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise MalformedResponse(
                "a GraphQL answer without data", vendor=self.vendor, operation="refresh"
            )
        read: builtins.list[Task | TaskhubError] = []
        for n, task_id in enumerate(ids):
            job = data.get(f"j{n}")
            if isinstance(job, dict):
                read.append(self.parse(job))
            else:  # null, with a not_found entry (_check lets no other error through)
                read.append(
                    TaskNotFound(
                        f"no job {task_id}",
                        task_id=task_id,
                        vendor=self.vendor,
                        operation="refresh",
                        code="not_found",
                    )
                )
        return read

    def _pages(self, words: builtins.list[str] | None, page_size: int) -> Iterator[Task]:
        offset = 0
        guard = self.pages("list")
        while True:
            data = self._graphql(
                doc.LIST_JOBS, {"offset": offset, "limit": page_size, "status": words}, "list"
            )
            records = (data.get("jobs") or {}).get("records") or []
            yield from self.parse_rows(records)
            more = str(offset + page_size) if len(records) >= page_size else None
            if not guard.turn(next=more, count=len(records), content=fingerprint(records)):
                return
            offset += page_size

    def submit(
        self,
        tasks: builtins.list[dict[str, Any]] | None = None,
        target_id: str | None = None,
        target: dict[str, Any] | None = None,
        cluster_id: str | None = None,
        routes: builtins.list[dict[str, Any]] | None = None,
        **extra: Any,
    ) -> Task:
        """``createJob``: ``tasks`` (each with ``engineId`` or ``taskType``) on a TDO
        (``target_id``) or on one made on the fly (``target``)."""
        self.refuse_unknown(extra, "submit")
        if not isinstance(tasks, builtins.list) or not tasks:
            raise self.invalid("tasks must be a non-empty list", field="tasks", operation="submit")
        for n, task in enumerate(tasks):
            if not isinstance(task, dict) or not (task.get("engineId") or task.get("taskType")):
                raise self.invalid(
                    f"tasks[{n}] needs engineId or taskType",
                    field=f"tasks[{n}]",
                    operation="submit",
                )
        if (target_id is None) == (target is None):
            raise self.invalid(
                "give exactly one of target_id and target", field="target_id", operation="submit"
            )
        job: dict[str, Any] = {"tasks": tasks}
        if target_id is not None:
            job["targetId"] = self.require_id(target_id, "target_id")
        else:
            job["target"] = target
        if cluster_id is not None:
            job["clusterId"] = cluster_id
        if routes is not None:
            job["routes"] = routes
        lookup = {
            "created_after": lookup_since(),
            "tasks": [_task_key(t, self.policy) for t in tasks],
        }
        try:
            data = self._graphql(doc.CREATE_JOB, {"input": job}, "submit", creates=True)
            created = data.get("createJob")
            if not isinstance(created, dict):
                raise OutcomeUnknown(
                    "createJob answered without a job", vendor=self.vendor, operation="submit"
                )
        except OutcomeUnknown as exc:
            exc.lookup.update(lookup)
            raise
        return self.parse(created)

    def find_submitted(self, lookup: Mapping[str, Any]) -> Task | None:
        """The job a submit with an unknown outcome created: the newest one since, whose tasks
        have the same engines and payloads."""
        since = int(lookup.get("created_after") or 0)
        wanted = [tuple(t) for t in lookup.get("tasks") or []]
        for job in self._pages(None, _PAGE):
            if job.created_at is not None and job.created_at.timestamp() * 1000 < since:
                return None
            full = self.get(job.id)
            if [
                _task_key({"engineId": t.kind, "payload": t.params.get("payload")}, self.policy)
                for t in full.subtasks
            ] == wanted:
                return full
        return None

    def cancel(self, task_id: str, *, reason: str | None = None) -> Task:
        """``cancelJob`` (it deletes the job; its record stays), then the job as it is now."""
        self._graphql(doc.CANCEL_JOB, {"id": task_id}, "cancel")
        return self.get(task_id)

    def retry(self, task_id: str) -> Task:
        """``retryJob``: restart a failed job's task sequence."""
        try:
            # Never sent twice: a retry that timed out may have restarted the job already.
            data = self._graphql(doc.RETRY_JOB, {"id": task_id}, "retry", creates=True)
        except OutcomeUnknown as exc:
            raise self.not_repeated(
                exc, "retry", task_id, "get the job and look at its state before retrying again"
            ) from exc
        return self.parse(data.get("retryJob"))

    # -- worker role -----------------------------------------------------------------------

    def report(
        self,
        task_id: str,
        state: State,
        *,
        job_id: str | None = None,
        output: Any = None,
        error: str | None = None,
        failure_reason: str | None = None,
        failure_message: str | None = None,
        **extra: Any,
    ) -> Task:
        """``updateTask``: running; complete (``output`` as ``outputString``); failed (with
        ``output: {error}`` and, only then, failureReason / failureMessage)."""
        self._refuse(state, error, failure_reason, failure_message, extra)
        word = self.statuses.report[state]
        update: dict[str, Any] = {"id": task_id, "status": word}
        if job_id is not None:
            update["jobId"] = job_id
        if state is State.SUCCEEDED and output is not None:
            update["outputString"] = output if isinstance(output, str) else json.dumps(output)
        if state is State.FAILED:
            update["output"] = {"error": error or failure_message or "failed"}
            if failure_reason is not None:
                update["failureReason"] = failure_reason
            if failure_message is not None:
                update["failureMessage"] = failure_message
        data = self._graphql(doc.UPDATE_TASK, {"input": update}, "report")
        return parse_task(data.get("updateTask"), self.backend)

    def check_report(self, task_id: str, state: State, **fields: Any) -> None:
        """Refuse a report's bad arguments before any request: ``report``'s own checks, on
        the arguments bound to ``report``'s parameters (declared there only, where the
        command reads them)."""
        given = inspect.signature(self.report).bind(task_id, state, **fields)
        given.apply_defaults()
        args = given.arguments
        self._refuse(
            state, args["error"], args["failure_reason"], args["failure_message"], args["extra"]
        )

    def _refuse(
        self,
        state: State,
        error: str | None,
        failure_reason: str | None,
        failure_message: str | None,
        extra: Mapping[str, Any],
    ) -> None:
        self.refuse_unknown(extra, "report")
        if state is not State.FAILED and (failure_reason or failure_message or error):
            raise self.invalid(
                "error, failure_reason and failure_message go only with State.FAILED",
                field="failure_reason",
                operation="report",
            )
        if failure_reason is not None and failure_reason not in FAILURE_REASONS:
            raise self.invalid(
                f"unknown failure_reason {failure_reason!r}",
                field="failure_reason",
                operation="report",
            )
        if failure_message is not None and failure_reason is None:
            raise self.invalid(
                "failure_message needs failure_reason", field="failure_message", operation="report"
            )

    def current(self, task_id: str) -> Task | None:
        """One task by its own id (``task(id:)``), for ``report`` from a fresh process."""
        task_id = self.require_id(task_id)
        data = self._graphql(doc.GET_TASK, {"id": task_id}, "report")
        if not isinstance(data.get("task"), dict):
            raise TaskNotFound(
                f"no task {task_id}", task_id=task_id, vendor=self.vendor, operation="report"
            )
        return parse_task(data["task"], self.backend)

    # -- assets ----------------------------------------------------------------------------

    def assets(self, tdo_id: str, *, types: Iterable[str] | None = None) -> builtins.list[Asset]:
        """Every asset of TDO ``tdo_id`` (a recording), of ``types`` only when given, newest
        first."""
        tdo_id = self.require_id(tdo_id, "tdo_id")
        wanted = list(types) if types is not None else None
        found: builtins.list[Asset] = []
        offset = 0
        guard = self.pages("assets")
        while True:
            data = self._graphql(
                doc.TDO_ASSETS,
                {"tdo": tdo_id, "type": wanted, "offset": offset, "limit": _PAGE},
                "assets",
            )
            tdo = data.get("temporalDataObject")
            if not isinstance(tdo, dict):
                raise TaskNotFound(f"no TDO {tdo_id}", vendor=self.vendor, operation="assets")
            records = (tdo.get("assets") or {}).get("records") or []
            found.extend(parse_asset(r) for r in records)
            more = str(offset + _PAGE) if len(records) >= _PAGE else None
            if not guard.turn(next=more, count=len(records), content=fingerprint(records)):
                return found
            offset += _PAGE

    def download(
        self,
        asset: Asset,
        directory: str | os.PathLike[str],
        *,
        name: str | None = None,
        max_bytes: int = _download.MAX_BYTES,
    ) -> Path:
        """Stream an asset from its signed URI into ``directory`` (the API token never goes
        to the storage host)."""
        if not asset.uri:
            raise self.invalid(
                "the asset has no URI to download", field="asset", operation="download"
            )
        return _download.download(
            asset.uri,
            directory,
            name=name or asset.name or asset.id,
            max_bytes=max_bytes,
            transport=self.transport,
        )

    def create_asset(
        self,
        container_id: str,
        *,
        type: str,
        content_type: str,
        uri: str | None = None,
        file: str | os.PathLike[str] | BinaryIO | bytes | None = None,
        filename: str | None = None,
        name: str | None = None,
        source_data: dict[str, Any] | None = None,
    ) -> Asset:
        """``createAsset`` on TDO ``container_id``, by URI or by multipart upload of
        ``file``."""
        if (uri is None) == (file is None):
            raise self.invalid(
                "give exactly one of uri and file", field="file", operation="create_asset"
            )
        asset: dict[str, Any] = {
            "containerId": self.require_id(container_id, "container_id"),
            "type": type,
            "contentType": content_type,
        }
        if name is not None:
            asset["name"] = name
        if source_data is not None:
            asset["sourceData"] = source_data
        if uri is not None:
            asset["uri"] = uri
            data = self._graphql(doc.CREATE_ASSET, {"input": asset}, "create_asset", creates=True)
            return parse_asset(data.get("createAsset"))
        if isinstance(file, (str, os.PathLike)):
            path = Path(file)
            filename = filename or path.name
            with path.open("rb") as handle:
                return self._upload(asset, filename, handle, content_type)
        assert file is not None
        return self._upload(asset, filename or name or "upload.bin", file, content_type)

    def _upload(
        self, asset: dict[str, Any], filename: str, body: BinaryIO | bytes, content_type: str
    ) -> Asset:
        data = self._graphql(
            doc.CREATE_ASSET,
            {"input": asset},
            "create_asset",
            creates=True,
            files={"file": (filename, body, content_type)},
        )
        return parse_asset(data.get("createAsset"))
