"""Cognite Data Fusion workflows: executions and their task executions."""

from __future__ import annotations

import builtins
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote

import attrs
import requests

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
    Conflict,
    InvalidRequest,
    InvalidTransition,
    MalformedResponse,
    OutcomeUnknown,
    TaskhubError,
    TaskNotFound,
)
from taskhub.http import ErrorInfo, Transport, body_json
from taskhub.model import Task, parse_time
from taskhub.polling import PollPolicy
from taskhub.states import State

from .auth import ClientCredentials, StaticToken
from .parse import parse_payload, parse_task
from .specs import Run
from .statuses import STATUSES

#: The documented limit of a task update's ``output`` (compact JSON, UTF-8).
MAX_OUTPUT_BYTES = 100 * 1024
MAX_REASON = 500
#: Metadata key under which submit records its own id, so a lost answer can be found again.
SUBMIT_KEY = "taskhub_submit_id"
_ASYNC_WORDS = {State.SUCCEEDED: "COMPLETED", State.FAILED: "FAILED"}
#: Every execution status, as the list filter takes them.
EXECUTION_WORDS = tuple(STATUSES.vocabularies["execution"])


@attrs.frozen(kw_only=True)
class CogniteOptions(Options):
    """Options of the ``cognite`` vendor: a static token, or OAuth client credentials."""

    project: str
    #: The cluster URL, e.g. ``https://api.cognitedata.com``.
    base_url: str = url_field()
    token: str | None = secret(default=None)
    client_id: str | None = None
    client_secret: str | None = secret(default=None)
    token_url: str | None = url_field(default=None)
    scopes: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    #: Sent as ``x-cdp-app``.
    client_name: str = "taskhub"
    #: Executions per list request (1 to 1000).
    page_size: int = attrs.field(
        default=1000,
        validator=attrs.validators.and_(attrs.validators.ge(1), attrs.validators.le(1000)),
    )

    def __attrs_post_init__(self) -> None:
        oauth = (self.client_id, self.client_secret, self.token_url)
        if self.token is None and not all(oauth):
            raise ValueError("give either token, or client_id + client_secret + token_url")
        if self.token is not None and any(oauth):
            raise ValueError("give either token or client credentials, not both")
        if not self.project:
            raise ValueError("project must not be empty")


def error_info(response: requests.Response) -> ErrorInfo:
    """Cognite's ``{"error": {"code", "message"}}`` envelope and ``x-request-id``."""
    request_id = response.headers.get("x-request-id")
    try:
        body = body_json(response)
    except ValueError:
        return ErrorInfo(response.text[:200] or None, None, request_id)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str):
        return ErrorInfo(error, None, request_id)
    if isinstance(error, dict):
        code = error.get("code")
        return ErrorInfo(error.get("message"), None if code is None else str(code), request_id)
    return ErrorInfo(None, None, request_id)


class CogniteAdapter(Adapter):
    """Client (and async-task worker) for CDF workflow executions."""

    vendor = "cognite"
    hub_class = "taskhub.adapters.cognite.hub:CogniteHub"
    specs = (Run,)
    options_class = CogniteOptions
    statuses = STATUSES
    simulator = "taskhub.adapters.cognite.simulator:CogniteSimulator"
    poll = PollPolicy(initial=1.0, factor=1.5, ceiling=15.0)
    alternatives: ClassVar[dict[str, str]] = {}

    # A cycle's listing or batch read lacks the subtasks and outputs get has.
    partial_refresh = True

    options: CogniteOptions

    def __init__(
        self,
        options: Options,
        *,
        backend: str | None = None,
        session: requests.Session | None = None,
    ) -> None:
        super().__init__(options, backend=backend, session=session)
        # Creation times (epoch ms) of the followed executions learnt in earlier refresh
        # cycles (they never change): only ever a bound that narrows a list, so a wrong one
        # costs a read by id, never a wrong answer.
        self._created: dict[str, int] = {}

    def make_transport(self, session: requests.Session | None) -> Transport:
        o = self.options
        auth: requests.auth.AuthBase
        if o.token is not None:
            auth = StaticToken(o.token)
        else:
            assert o.client_id and o.client_secret and o.token_url  # checked by the options
            auth = ClientCredentials(
                token_url=o.token_url,
                client_id=o.client_id,
                client_secret=o.client_secret,
                scopes=o.scopes,
            )
        transport = Transport(
            vendor=self.vendor,
            base_url=f"{o.base_url.rstrip('/')}/api/v1/projects/{quote(o.project, safe='')}",
            options=o,
            headers={
                "x-cdp-app": o.client_name,
                "cdf-version": "20230101",
                "Accept": "application/json",
            },
            auth=auth,
            error_info=error_info,
            request_id_header="x-request-id",
            session=session,
            origins=[o.token_url] if o.token_url else [],
        )
        if isinstance(auth, ClientCredentials):
            auth.bind(transport)
        return transport

    parser = staticmethod(parse_payload)

    # -- client role -------------------------------------------------------------------------

    def submit(
        self,
        workflow: str = "",
        version: str = "",
        input: dict[str, Any] | None = None,
        metadata: dict[str, str] | None = None,
        **extra: Any,
    ) -> Task:
        """Run ``version`` of ``workflow``: a session nonce, then ``.../run``."""
        self.refuse_unknown(extra, "submit")
        workflow = self._text(workflow, "workflow", "submit")
        version = self._text(version, "version", "submit")
        if input is not None and not isinstance(input, dict):
            raise self.invalid(
                "input must be a JSON object (a dict)", field="input", operation="submit"
            )
        meta = self._metadata(metadata)
        body: dict[str, Any] = {"authentication": {"nonce": self._nonce("submit")}}
        if input is not None:
            body["input"] = input
        body["metadata"] = meta
        started = lookup_since()
        path = f"/workflows/{quote(workflow, safe='')}/versions/{quote(version, safe='')}/run"
        try:
            answer = self.transport.request_json(
                "POST", path, operation="submit", creates=True, json=body
            )
        except OutcomeUnknown as exc:
            exc.lookup.update(
                {
                    "workflow": workflow,
                    "version": version,
                    "created_after": started,
                    "metadata": {SUBMIT_KEY: meta.get(SUBMIT_KEY)},
                }
            )
            raise
        return self.parse(answer)

    def find_submitted(self, lookup: Mapping[str, Any]) -> Task | None:
        """The execution a submit whose outcome was unknown created, if it did."""
        marker = (lookup.get("metadata") or {}).get(SUBMIT_KEY)
        if not marker:
            return None
        for task in self.list(
            workflow=lookup["workflow"],
            version=lookup.get("version"),
            created_after=lookup.get("created_after"),
        ):
            if (task.params.get("metadata") or {}).get(SUBMIT_KEY) == marker:
                return task
        return None

    def get(self, task_id: str) -> Task:
        """The detailed execution, its executed tasks as subtasks."""
        try:
            body = self.transport.request_json(
                "GET",
                f"/workflows/executions/{quote(self.require_id(task_id), safe='')}",
                operation="get",
            )
        except (TaskNotFound, InvalidRequest) as exc:
            # CDF answers 400 for an id it does not know (the SDK's retrieve_detailed -> None).
            if isinstance(exc, InvalidRequest) and exc.http_status != 400:
                raise
            raise TaskNotFound(
                f"no workflow execution {task_id}",
                task_id=task_id,
                vendor=self.vendor,
                operation="get",
                http_status=exc.http_status,
                request_id=exc.request_id,
            ) from exc
        return self.parse(body)

    def list(
        self,
        *,
        state: State | Iterable[State] | None = None,
        limit: int | None = None,
        workflow: str | None = None,
        version: str | None = None,
        created_after: datetime | int | None = None,
        created_before: datetime | int | None = None,
        **filters: Any,
    ) -> Iterator[Task]:
        """Executions matching the filters, following ``nextCursor``."""
        self.refuse_unknown(
            filters,
            "list",
            what="list filter",
            takes="workflow, version, created_after, created_before",
        )
        if version is not None and workflow is None:
            raise self.invalid("version needs workflow", field="version", operation="list")
        query: dict[str, Any] = {}
        if workflow is not None:
            wf: dict[str, str] = {"externalId": self._text(workflow, "workflow", "list")}
            if version is not None:
                wf["version"] = self._text(version, "version", "list")
            query["workflowFilters"] = [wf]
        for key, value in (("createdTimeStart", created_after), ("createdTimeEnd", created_before)):
            if value is not None:
                query[key] = _ms(value, key)
        wanted = wanted_states(state)
        if wanted is not None:
            words = [w for w, r in STATUSES.vocabularies["execution"].items() if r.state in wanted]
            if not words:
                return iter(())
            query["status"] = words
        page = self.options.page_size
        if limit is not None and wanted is None:
            page = min(page, limit)
        return select(self._pages(query, page), wanted, limit)

    def refresh(self, task_ids: Sequence[str]) -> Iterator[Task | TaskhubError]:
        """Many executions through list pages of ``page_size``: the ``RUNNING`` ones created
        between the oldest and the newest followed execution; those that left ``RUNNING``
        (finished), more than one, in a list of the finished ones created between the first
        and the last of them; the rest by id. (Lists have no "changed since" filter.)"""
        if len(task_ids) <= 2:
            return self.read_each(task_ids)
        return iter(self._refresh([*dict.fromkeys(task_ids)]))

    def _refresh(self, ids: builtins.list[str]) -> builtins.list[Task | TaskhubError]:
        created = self._created
        page = self.options.page_size
        missing = set(ids)
        running: dict[str, Any] = {"status": ["RUNNING"]}
        if all(i in created for i in ids):
            times = [created[i] for i in ids]
            running["createdTimeStart"] = max(min(times) - 1, 0)
            running["createdTimeEnd"] = max(times) + 1
        found, _ = self.walk_for(self._pages(running, page), missing, page=page)
        if len(missing) > 1:
            finished: dict[str, Any] = {"status": [w for w in EXECUTION_WORDS if w != "RUNNING"]}
            if all(i in created for i in missing):
                times = [created[i] for i in missing]
                finished["createdTimeStart"] = max(min(times) - 1, 0)
                finished["createdTimeEnd"] = max(times) + 1
            more, _ = self.walk_for(self._pages(finished, page), missing, page=page)
            found += more
        read: dict[str, Task | TaskhubError] = {t.id: t for t in found}
        rest = [i for i in ids if i in missing]
        read.update(zip(rest, self.read_each(rest), strict=True))
        kept = {i: created[i] for i in ids if i in created}
        for task in read.values():
            if isinstance(task, Task) and task.created_at is not None:
                kept[task.id] = int(task.created_at.timestamp() * 1000)
        self._created = kept
        return [read[i] for i in ids]

    def _pages(self, query: dict[str, Any], page: int) -> Iterator[Task]:
        cursor: str | None = None
        guard = self.pages("list")
        while True:
            body: dict[str, Any] = {"filter": query, "limit": page} if query else {"limit": page}
            if cursor:
                body["cursor"] = cursor
            answer = self.transport.request_json(
                "POST", "/workflows/executions/list", operation="list", json=body
            )
            if not isinstance(answer, dict) or not isinstance(answer.get("items"), list):
                raise MalformedResponse(
                    "expected {items: [...]}", vendor=self.vendor, operation="list"
                )
            yield from self.parse_rows(answer["items"])
            cursor = answer.get("nextCursor")
            if cursor is not None and not isinstance(cursor, str):
                raise MalformedResponse(
                    "nextCursor is not a string", vendor=self.vendor, operation="list"
                )
            if not guard.turn(next=cursor, count=len(answer["items"])):
                return

    def cancel(self, task_id: str, *, reason: str | None = None) -> Task:
        """Terminate an execution: running tasks are marked CANCELED (their work is not stopped)."""
        if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_REASON):
            raise self.invalid(
                f"reason must be a string of at most {MAX_REASON} characters",
                field="reason",
                operation="cancel",
            )
        body = {"reason": reason} if reason else {}
        answer = self.transport.request_json(
            "POST",
            f"/workflows/executions/{quote(self.require_id(task_id), safe='')}/cancel",
            operation="cancel",
            json=body,
        )
        return self.parse(answer)

    def retry(self, task_id: str) -> Task:
        """Re-run a FAILED, TIMED_OUT or TERMINATED execution's stopped tasks."""
        path = f"/workflows/executions/{quote(self.require_id(task_id), safe='')}/retry"
        nonce = self._nonce("retry")  # a session is harmless to ask for twice
        try:
            # Never sent twice: a retry that timed out may have restarted the execution.
            answer = self.transport.request_json(
                "POST",
                path,
                operation="retry",
                creates=True,
                json={"authentication": {"nonce": nonce}},
            )
        except OutcomeUnknown as exc:
            raise self.not_repeated(
                exc,
                "retry",
                task_id,
                "get the execution and look at its state before retrying again",
            ) from exc
        return self.parse(answer)

    # -- worker role ---------------------------------------------------------------------------

    def report(
        self,
        task_id: str,
        state: State,
        *,
        output: dict[str, Any] | None = None,
        retryable: bool | None = None,
        **extra: Any,
    ) -> Task:
        """Complete or fail an async task (``isAsyncComplete``); ``output`` is merged in.

        ``State.FAILED`` with ``retryable=False`` sends FAILED_WITH_TERMINAL_ERROR (no retries).
        """
        self.refuse_unknown(extra, "report")
        word = _ASYNC_WORDS.get(state)
        if word is None:  # the hub checks this first; kept for direct adapter use
            raise self.invalid(f"cannot report {state.value}", field="state", operation="report")
        if state is State.FAILED and retryable is False:
            word = "FAILED_WITH_TERMINAL_ERROR"
        body: dict[str, Any] = {"status": word}
        if output is not None:
            if not isinstance(output, dict):
                raise self.invalid(
                    "output must be a JSON object (a dict)", field="output", operation="report"
                )
            size = len(json.dumps(output, separators=(",", ":")).encode())
            if size > MAX_OUTPUT_BYTES:
                raise self.invalid(
                    f"output is {size} bytes; Cognite takes at most {MAX_OUTPUT_BYTES} (100 KB)",
                    field="output",
                    operation="report",
                )
            body["output"] = output
        try:
            # Never sent twice: once a report is applied the task is no longer IN_PROGRESS,
            # and a second one is refused (or, for a retryable failure, runs it again).
            answer = self.transport.request_json(
                "POST",
                f"/workflows/tasks/{quote(self.require_id(task_id), safe='')}/update",
                operation="report",
                creates=True,
                json=body,
            )
        except OutcomeUnknown as exc:
            raise self.not_repeated(
                exc,
                "report",
                task_id,
                "get the workflow execution it belongs to and look at this task's state "
                "before reporting again",
            ) from exc
        except (InvalidRequest, Conflict) as exc:
            # The body was checked before sending, so CDF's 400 (or 409) on an update is its
            # refusal of the change itself: the task is not one a worker may move that way
            # (finished already, or not an async task).
            if exc.http_status not in (400, 409):
                raise
            raise InvalidTransition(
                f"{self.vendor} refused to move task {task_id} to {word}: {exc.message}",
                vendor=self.vendor,
                operation="report",
                http_status=exc.http_status,
                code=exc.code,
                request_id=exc.request_id,
            ) from exc
        return parse_task(answer, self.backend)

    # -- helpers ---------------------------------------------------------------------------

    def _nonce(self, operation: str) -> str:
        o = self.options
        item: dict[str, Any] = (
            {"tokenExchange": True}
            if o.token is not None
            else {"clientId": o.client_id, "clientSecret": o.client_secret}
        )
        answer = self.transport.request_json(
            "POST", "/sessions", operation=operation, json={"items": [item]}
        )
        try:
            nonce = answer["items"][0]["nonce"]
            assert isinstance(nonce, str) and nonce
        except (KeyError, IndexError, TypeError, AssertionError):
            raise MalformedResponse(
                "the session answer has no nonce", vendor=self.vendor, operation=operation
            ) from None
        return nonce

    def _metadata(self, metadata: dict[str, str] | None) -> dict[str, str]:
        meta = dict(metadata or {})
        for key, value in meta.items():
            if not isinstance(key, str) or not 0 < len(key) <= 32:
                raise self.invalid(
                    f"metadata key {key!r} must be 1 to 32 characters",
                    field="metadata",
                    operation="submit",
                )
            if not isinstance(value, str) or len(value) > 255:
                raise self.invalid(
                    f"metadata value of {key!r} must be a string of at most 255 characters",
                    field="metadata",
                    operation="submit",
                )
        if len(meta) > 10:
            raise self.invalid(
                "metadata takes at most 10 pairs", field="metadata", operation="submit"
            )
        if SUBMIT_KEY in meta:
            if not meta[SUBMIT_KEY]:
                raise self.invalid(
                    f"metadata {SUBMIT_KEY!r} must not be empty: it is the marker a run whose "
                    "answer was lost is found by",
                    field="metadata",
                    operation="submit",
                )
        elif len(meta) == 10:
            # Without its marker a run whose answer is lost cannot be found again, and a
            # re-submit would run it twice: refuse before sending instead.
            raise self.invalid(
                f"metadata takes at most 9 pairs of your own: Cognite allows 10 per run and "
                f"taskhub keeps one ({SUBMIT_KEY!r}) to find a run whose answer was lost; drop "
                f"a pair, or set {SUBMIT_KEY!r} yourself to a value unique to this run",
                field="metadata",
                operation="submit",
            )
        else:
            meta[SUBMIT_KEY] = str(uuid.uuid4())
        return meta

    def _text(self, value: object, field: str, operation: str) -> str:
        if not isinstance(value, str):
            raise self.invalid(
                f'{field} must be a string (versions too: "1", not 1)',
                field=field,
                operation=operation,
            )
        if not value or value != value.strip() or "\x00" in value or len(value) > 255:
            raise self.invalid(
                f"{field} must be 1 to 255 characters with no surrounding space",
                field=field,
                operation=operation,
            )
        return value


def _ms(value: datetime | int, name: str) -> int:
    parsed = parse_time(value)
    if parsed is None:
        raise InvalidRequest(f"{name} must be a datetime or epoch milliseconds", field=name)
    return int(parsed.timestamp() * 1000)
