"""The web half of ``taskhub serve``: a plain WSGI application (served by waitress).

Its routes are declared in :data:`ROUTES` (method, path, handler, the role each needs; the
OpenAPI document at ``/api/openapi.json`` is made from the same table). Errors are JSON
``{"error": ..., "status": ...}``. Every answer carries the security headers (a
Content-Security-Policy that allows no inline script but the page's own, ``nosniff``, no
framing, no referrer; ``no-store`` on everything but the metrics), and every request must
name this service in its ``Host`` (see :mod:`taskhub.serve.access`).
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, quote

import attrs
from dateutil.parser import isoparse

from taskhub.errors import InvalidRequest, WebhookRejected
from taskhub.http import parse_json
from taskhub.model import parse_time
from taskhub.states import State
from taskhub.store import SUBTASK, TASK, Filters
from taskhub.store.stats import MAX_HOURS, Stats

from . import openapi, page
from .access import Access, Refused, Token
from .actions import ActionFailed, Done, Operator
from .metrics import CONTENT_TYPE, Metrics
from .routes import NoRoute, Param, Role, Route, Table
from .service import Service

log = logging.getLogger("taskhub.serve")

StartResponse = Callable[..., Any]
Answer = tuple[int, list[tuple[str, str]], bytes]

#: The largest request body taken (a webhook delivery); waitress refuses larger ones first.
MAX_BODY = 1 << 20
MAX_LIMIT = 1000
#: The longest filter value taken (a backend, a vendor, a search).
MAX_VALUE = 200
#: The longest ref taken in a path.
MAX_REF = 1024
#: WebhookRejected reason -> HTTP status.
_REJECTED = {
    "missing_signature": 401,
    "bad_signature": 401,
    "stale": 401,
    "no_secret": 401,
    "duplicate": 409,
}
_SECURITY = [
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
]
_API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

_TIME_PARAMS = ("created_after", "created_before", "updated_after", "updated_before")
_FILTERS = (
    Param("backend", description="A backend name.", max_length=MAX_VALUE),
    Param("vendor", description="A vendor name.", max_length=MAX_VALUE),
    Param("state", enum=tuple(s.value for s in State), description="A normalized state."),
    Param(
        "level",
        enum=(TASK, SUBTASK, "all"),
        description="Units of work (the default), their parts, or both.",
    ),
    Param("parent", description="A task's ref: its subtasks.", max_length=MAX_REF),
    Param("q", description="The start of a ref or a task id.", max_length=MAX_VALUE),
    *(
        Param(name, description="An RFC 3339 date and time.", format="date-time")
        for name in _TIME_PARAMS
    ),
    Param("limit", "integer", "Rows per page.", minimum=1, maximum=MAX_LIMIT),
    Param("cursor", description="The `next` of the previous page."),
)

_LEVEL = Param("level", enum=(TASK, SUBTASK), description="Units of work (the default) or parts.")
_HOURS = Param(
    "hours",
    "integer",
    "The window: this many whole hours (UTC) up to the end of the current one; default 24.",
    minimum=1,
    maximum=MAX_HOURS,
)
#: How long the charts' numbers are reused before they are read again (every open page asks).
STATS_SECONDS = 10.0
_REF_ERRORS = (400, 401, 404, 421)

#: Every route of the service.
ROUTES = (
    Route("GET", "/", "page", Role.VIEWER, "The dashboard page.", errors=(401, 421)),
    Route(
        "GET", "/healthz", "healthz", Role.PUBLIC, "Whether the store and the backends answer.",
        answers="Health", errors=(503,),
    ),
    Route("GET", "/metrics", "metrics", Role.PUBLIC, "Prometheus metrics."),
    Route(
        "GET", "/api/tasks", "tasks", Role.VIEWER, "A page of tasks, newest observed first.",
        _FILTERS, answers="TaskPage", errors=(400, 401, 421),
    ),
    Route(
        "GET", "/api/tasks/{ref}", "task", Role.VIEWER, "One task and its subtasks.",
        answers="TaskDetail", errors=_REF_ERRORS,
    ),
    Route(
        "GET", "/api/tasks/{ref}/transitions", "transitions", Role.VIEWER,
        "Every recorded transition of a task.", answers="Transitions", errors=_REF_ERRORS,
    ),
    Route(
        "GET", "/api/counts", "counts", Role.VIEWER, "Tasks by backend, vendor and state.",
        (_LEVEL,), answers="Counts", errors=(400, 401, 421),
    ),
    Route(
        "GET", "/api/jobs", "jobs", Role.VIEWER, "The configured jobs and their parameters.",
        answers="Jobs", errors=(401, 421),
    ),
    Route(
        "POST", "/api/jobs/{name}", "submit", Role.OPERATOR,
        "Submit a configured job; the body is its parameters. With an Idempotency-Key header "
        "seen before, the task the first request made (200).",
        answers="Task", errors=(400, 401, 403, 404, 409, 413, 421, 422, 429, 502),
        status=201, body="Params",
    ),
    Route(
        "POST", "/api/tasks/{ref}/cancel", "cancel", Role.OPERATOR,
        "Ask the vendor to stop a task (refused for a finished task unless force is true).",
        answers="Task", errors=(400, 401, 403, 404, 409, 413, 421, 422, 429, 502),
        body="Cancel",
    ),
    Route(
        "POST", "/api/tasks/{ref}/retry", "retry", Role.OPERATOR, "Run a finished task again.",
        answers="Task", errors=(400, 401, 403, 404, 409, 413, 421, 422, 429, 502),
    ),
    Route(
        "GET", "/api/audit", "audit", Role.VIEWER, "Every action taken here, newest first.",
        (Param("limit", "integer", "Rows per page.", minimum=1, maximum=MAX_LIMIT),
         Param("cursor", description="The `next` of the previous page.")),
        answers="Audit", errors=(400, 401, 421),
    ),
    Route(
        "GET", "/api/stats/finished", "finished", Role.VIEWER,
        "Units of work finished in each hour of the window, by vendor and final state.",
        (_HOURS,), answers="Finished", errors=(400, 401, 421),
    ),
    Route(
        "GET", "/api/stats/durations", "durations", Role.VIEWER,
        "Duration p50 and p95 per vendor of the units of work finished in the window.",
        (_HOURS,), answers="Durations", errors=(400, 401, 421),
    ),
    Route(
        "GET", "/api/openapi.json", "openapi", Role.VIEWER, "This API, as OpenAPI 3.1.",
        errors=(401, 421),
    ),
    Route(
        "POST", "/webhooks/{backend}", "webhook", Role.SIGNED,
        "A vendor's signed webhook delivery.", answers="WebhookAccepted",
        errors=(400, 401, 404, 409, 413), status=202,
    ),
)  # fmt: skip


@attrs.frozen
class Call:
    """One request as a handler sees it: its route, path values, query and the token."""

    route: Route
    values: dict[str, str]
    query: dict[str, str]
    environ: dict[str, Any]
    token: Token | None


class HttpError(Exception):
    """An answer other than success: its status and what to say."""

    def __init__(self, status: int, message: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = list(headers)


class App:
    """The WSGI application over one :class:`Service`.

    ``access`` says who may do what (default: open, which ``taskhub serve`` allows only on
    loopback); ``token`` is shorthand for one operator token.
    """

    def __init__(
        self,
        service: Service,
        metrics: Metrics,
        *,
        token: str | None = None,
        access: Access | None = None,
        webhook_secrets: Mapping[str, str] | None = None,
        refresh_seconds: float = 2.0,
        routes: Iterable[Route] = ROUTES,
    ) -> None:
        self.service = service
        self.store = service.store
        self.metrics = metrics
        if access is None:
            access = Access([Token("operator", Role.OPERATOR, token)] if token else [])
        self.access = access
        self.webhook_secrets = dict(webhook_secrets or {})
        self.refresh_seconds = refresh_seconds
        self.table = Table(routes)
        self.operator = Operator(service)
        #: The charts' numbers (the page's and /api/stats/*), read at most every few seconds.
        self.stats = Stats(self.store.reader_engine, ttl=STATS_SECONDS)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET"))
        try:
            status, headers, body = self.answer(method, environ)
        except HttpError as exc:
            status, headers, body = _json(exc.status, {"error": exc.message, "status": exc.status})
            headers += exc.headers
        except Exception:
            log.exception("serve: %s %s failed", method, _raw_path(environ)[:200])
            status, headers, body = _json(500, {"error": "internal error", "status": 500})
        if not any(name == "Content-Security-Policy" for name, _ in headers):
            headers.append(("Content-Security-Policy", _API_POLICY))
        if not any(name == "Cache-Control" for name, _ in headers):
            headers.append(("Cache-Control", "no-store"))
        headers = [*headers, *_SECURITY, ("Content-Length", str(len(body)))]
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return [body] if method != "HEAD" else [b""]

    def answer(self, method: str, environ: dict[str, Any]) -> Answer:
        """Route one request: host, route, role, then the handler."""
        try:
            self.access.check_host(environ)
            match = self.table.match(method, _raw_path(environ))
            if match.route.method == "POST":
                self.access.check_origin(environ)
            query = _query(environ)
            if match.route.handler == "page" and "token" in query and not self.access.open:
                return self._login(query["token"])
            token = self.access.who(environ, match.route.role, posting=method == "POST")
        except Refused as exc:
            raise HttpError(exc.status, exc.message) from None
        except NoRoute as exc:
            if exc.allowed:
                allowed = ", ".join(sorted(set(exc.allowed)))
                raise HttpError(
                    405, f"{method} is not allowed here; use {allowed}", [("Allow", allowed)]
                ) from None
            raise HttpError(404, f"no such page: {_raw_path(environ)[:100]}") from None
        except UnicodeDecodeError:
            raise HttpError(400, "the path is not UTF-8") from None
        handler: Callable[[Call], Answer] = getattr(self, f"_on_{match.route.handler}")
        _known(query, match.route)
        return handler(Call(match.route, match.values, query, environ, token))

    # -- pages ---------------------------------------------------------------------------------

    def _login(self, given: str) -> Answer:
        try:
            cookie = self.access.login(given)
        except Refused as exc:
            raise HttpError(exc.status, exc.message) from None
        return 303, [("Location", "/"), ("Set-Cookie", cookie)], b""

    def _on_page(self, call: Call) -> Answer:
        nonce = secrets.token_urlsafe(16)
        session = self.access.session(call.environ)
        html = page.render(
            self.store,
            self.service,
            refresh_seconds=self.refresh_seconds,
            nonce=nonce,
            csrf=session.csrf if session else "",
            # What the page offers follows who opens it (with no token configured, everyone
            # is an operator, on loopback); the POST routes check the role again.
            role=call.token.role if call.token is not None else Role.OPERATOR,
            stats=self.stats,
        )
        policy = (
            f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
            "connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
            "base-uri 'none'; form-action 'self'"
        )
        headers = [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Security-Policy", policy),
        ]
        return 200, headers, html.encode()

    def _on_healthz(self, call: Call) -> Answer:
        health = self.service.health()
        return _json(200 if health["status"] == "ok" else 503, health)

    def _on_metrics(self, call: Call) -> Answer:
        headers = [("Content-Type", CONTENT_TYPE), ("Cache-Control", "no-cache")]
        return 200, headers, self.metrics.render()

    # -- the API -------------------------------------------------------------------------------

    def _on_tasks(self, call: Call) -> Answer:
        filters = _filters(call.query)
        limit = _whole(call.query, "limit", 100, 1, MAX_LIMIT)
        try:
            found = self.store.page(filters, limit=limit, cursor=call.query.get("cursor") or None)
        except InvalidRequest as exc:
            raise HttpError(400, exc.message) from None
        return _json(200, {
            "tasks": found.tasks,
            "total": found.total,
            "exact": found.exact,
            "limit": limit,
            "next": found.next,
        })  # fmt: skip

    def _on_task(self, call: Call) -> Answer:
        ref = _ref(call.values["ref"])
        data = self._task_or_404(ref)
        parts = self.store.page(Filters(parent=ref, level=None), limit=MAX_LIMIT)
        # The stored parts, each as last observed (the rest, past the first thousand, are
        # paged with ?parent=REF).
        data["subtasks"] = parts.tasks
        if parts.next is not None:
            data["truncated"] = True
        return _json(200, data)

    def _on_transitions(self, call: Call) -> Answer:
        ref = _ref(call.values["ref"])
        self._task_or_404(ref)
        return _json(200, {"ref": ref, "transitions": self.store.transitions(ref)})

    def _on_counts(self, call: Call) -> Answer:
        level = call.query.get("level") or TASK
        if level not in (TASK, SUBTASK):
            raise HttpError(400, f"level must be {TASK} or {SUBTASK}")
        rows = self.store.counts(level=level)
        return _json(200, {"level": level, "counts": [
            {"backend": b, "vendor": v, "state": s, "count": n} for b, v, s, n in rows
        ]})  # fmt: skip

    def _on_finished(self, call: Call) -> Answer:
        hours = _whole(call.query, "hours", 24, 1, MAX_HOURS)
        return _json(200, self.stats.finished(hours).to_json())

    def _on_durations(self, call: Call) -> Answer:
        hours = _whole(call.query, "hours", 24, 1, MAX_HOURS)
        return _json(200, self.stats.durations(hours).to_json())

    def _task_or_404(self, ref: str) -> dict[str, Any]:
        found = self.store.task(ref)
        if found is None:
            raise HttpError(404, f"no task {ref[:100]!r} in the store")
        return found

    # -- actions -------------------------------------------------------------------------------

    def _on_jobs(self, call: Call) -> Answer:
        jobs = {}
        for hub in self.service.hubs.values():
            for name, job in (hub.config.jobs if hub.config else {}).items():
                if job.backend in (None, hub.backend) and name not in jobs:
                    jobs[name] = {
                        "name": name,
                        "backend": hub.backend,
                        "vendor": hub.vendor,
                        "params": job.placeholders(),
                        "ignore": list(job.ignore),
                    }
        return _json(200, {"jobs": sorted(jobs.values(), key=lambda j: j["name"])})

    def _on_submit(self, call: Call) -> Answer:
        params = _json_body(call.environ, required=False)
        key = call.environ.get("HTTP_IDEMPOTENCY_KEY")
        if key is not None:
            _clean("Idempotency-Key", str(key), 256)
        name = _clean("the job", call.values["name"], MAX_VALUE)
        done = self._action(lambda: self.operator.submit(name, params, _who(call), key))
        return _json(201 if done.created else 200, done.task)

    def _on_cancel(self, call: Call) -> Answer:
        body = _json_body(call.environ, required=False)
        extra = sorted(set(body) - {"force", "reason"})
        if extra:
            raise HttpError(400, f"unknown field {extra[0][:40]!r}; known: force, reason")
        force, reason = body.get("force", False), body.get("reason")
        if not isinstance(force, bool):
            raise HttpError(400, "force must be true or false")
        if reason is not None and (not isinstance(reason, str) or len(reason) > 500):
            raise HttpError(400, "reason must be text of at most 500 characters")
        ref = _ref(call.values["ref"])
        done = self._action(
            lambda: self.operator.cancel(ref, _who(call), force=force, reason=reason)
        )
        return _json(200, done.task)

    def _on_retry(self, call: Call) -> Answer:
        if _json_body(call.environ, required=False):
            raise HttpError(400, "retry takes no fields")
        ref = _ref(call.values["ref"])
        return _json(200, self._action(lambda: self.operator.retry(ref, _who(call))).task)

    def _on_audit(self, call: Call) -> Answer:
        limit = _whole(call.query, "limit", 100, 1, MAX_LIMIT)
        try:
            rows, nxt = self.store.actions.page(
                limit=limit, cursor=call.query.get("cursor") or None
            )
        except InvalidRequest as exc:
            raise HttpError(400, exc.message) from None
        return _json(200, {"audit": rows, "next": nxt})

    def _on_openapi(self, call: Call) -> Answer:
        return _json(200, openapi.document(self.table.routes))

    def _action(self, run: Callable[[], Done]) -> Done:
        try:
            return run()
        except ActionFailed as exc:
            headers = []
            if exc.retry_after is not None:
                headers.append(("Retry-After", str(max(1, round(exc.retry_after)))))
            raise HttpError(exc.status, exc.message, headers) from None

    # -- webhooks ------------------------------------------------------------------------------

    def _on_webhook(self, call: Call) -> Answer:
        backend = call.values["backend"]
        hub = self.service.hubs.get(backend)
        if hub is None:
            raise HttpError(404, f"no backend {backend[:60]!r}")
        if not hub.takes_webhooks:
            raise HttpError(404, f"{hub.vendor} sends no webhooks taskhub can verify")
        body = _body(call.environ)
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in call.environ.items()
            if key.startswith("HTTP_")
        }
        try:
            event_id, task = hub.webhook(body, headers, self.webhook_secrets.get(backend, ""))
        except WebhookRejected as exc:
            reason = getattr(exc, "reason", None) or "rejected"
            self.metrics.webhooks.labels(backend, reason).inc()
            raise HttpError(_REJECTED.get(reason, 400), f"webhook rejected: {reason}") from None
        except InvalidRequest as exc:  # MalformedResponse is not one: the body parsed badly
            raise HttpError(400, f"webhook rejected: {exc.message}") from None
        except ValueError as exc:
            self.metrics.webhooks.labels(backend, "malformed").inc()
            raise HttpError(400, f"webhook rejected: malformed ({str(exc)[:100]})") from None
        if not self.store.accept_event(backend, event_id):
            self.metrics.webhooks.labels(backend, "duplicate").inc()
            raise HttpError(409, "webhook rejected: duplicate (this event was already received)")
        try:
            transition = self.service.observe(task)
        except Exception:
            self.store.forget_event(backend, event_id)
            raise
        self.service.refresh_soon(backend, task.id)
        self.metrics.webhooks.labels(backend, "accepted").inc()
        return _json(202, {
            "accepted": event_id,
            "ref": task.ref,
            "state": task.state.value,
            "transition": str(transition) if transition is not None else None,
        })  # fmt: skip


# -- requests -----------------------------------------------------------------------------------


def _raw_path(environ: Mapping[str, Any]) -> str:
    """The request's path as sent (still percent-encoded), without its query."""
    raw = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if isinstance(raw, str) and raw.startswith("/"):
        return raw.split("?", 1)[0]
    # PEP 3333: PATH_INFO is the decoded path as Latin-1; back to bytes, then re-encoded.
    path = str(environ.get("PATH_INFO") or "/")
    return quote(path.encode("latin-1", "replace"), safe="/:@!$&'()*+,;=-._~")


def _query(environ: Mapping[str, Any]) -> dict[str, str]:
    parsed = parse_qs(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)
    for name, values in parsed.items():
        if len(values) > 1:
            raise HttpError(400, f"{name[:40]!r} is given more than once")
    return {k: v[0] for k, v in parsed.items()}


def _known(query: dict[str, str], route: Route) -> None:
    known = {p.name for p in route.params}
    if route.handler == "page":
        known |= {"token"}
    unknown = sorted(set(query) - known)
    if unknown:
        listed = ", ".join(sorted(known)) or "none"
        raise HttpError(400, f"unknown parameter {unknown[0][:40]!r}; known: {listed}")
    typed = {p.name for p in route.params if p.type != "string" or p.enum or p.format}
    for name, value in query.items():
        _clean(name, value, MAX_VALUE if name != "cursor" else 2 * MAX_REF)
        if not value and (name in typed or name in ("cursor", "parent")):
            raise HttpError(400, f"{name} is empty; leave it out instead")


def _clean(name: str, value: str, limit: int) -> str:
    """``value`` if it is text a filter can hold: not too long, no control characters."""
    if len(value) > limit:
        raise HttpError(400, f"{name} is too long (at most {limit} characters)")
    if any(ord(c) < 32 or ord(c) == 127 or 0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise HttpError(400, f"{name} holds a control character")
    return value


def _ref(value: str) -> str:
    _clean("the ref", value, MAX_REF)
    if ":" not in value or value.startswith(":") or value.endswith(":"):
        raise HttpError(400, "expected a task reference BACKEND:ID")
    return value


def _filters(query: dict[str, str]) -> Filters:
    state = None
    if query.get("state"):
        try:
            state = State.parse(query["state"])
        except ValueError as exc:
            raise HttpError(400, str(exc)) from None
    level = query.get("level") or TASK
    if level not in (TASK, SUBTASK, "all"):
        raise HttpError(400, f"level must be {TASK}, {SUBTASK} or all")
    parent = query.get("parent") or None
    if parent is not None:
        _ref(parent)
    times = {name: _time(query, name) for name in _TIME_PARAMS}
    return Filters(
        backend=query.get("backend") or None,
        vendor=query.get("vendor") or None,
        state=state,
        level=None if level == "all" else level,
        parent=parent,
        search=query.get("q") or None,
        **times,
    )


def _time(query: dict[str, str], name: str) -> datetime | None:
    text = query.get(name)
    if not text:
        return None
    # RFC 3339 date-times only, as the OpenAPI document says (no epoch numbers); dateutil's
    # parser, since Python 3.10's fromisoformat refuses fractions of other than 3 or 6 digits.
    if "t" not in text.lower():
        raise HttpError(400, f"{name} must be an ISO 8601 date and time")
    try:
        moment = isoparse(text)
    except (ValueError, OverflowError):
        raise HttpError(400, f"{name} must be an ISO 8601 date and time") from None
    return parse_time(moment)


def _whole(query: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    text = query.get(name)
    if text is None or text == "":
        return default
    # The length first: int() of 5,000 digits is a ValueError past Python's digit limit.
    if len(text) > 12 or not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
        raise HttpError(400, f"{name} must be a whole number from {low} to {high}")
    return int(text)


def _who(call: Call) -> str:
    """Who acts: the token's name ("anonymous" on a service with no token)."""
    return call.token.name if call.token is not None else "anonymous"


def _json_body(environ: dict[str, Any], *, required: bool) -> dict[str, Any]:
    """The request's body as a JSON object (an empty body is ``{}`` unless ``required``)."""
    body = _body(environ)
    if not body.strip():
        if required:
            raise HttpError(400, "expected a JSON object in the body")
        return {}
    try:
        value = parse_json(body)
    except ValueError as exc:
        raise HttpError(400, f"the body is not JSON: {str(exc)[:100]}") from None
    if not isinstance(value, dict):
        raise HttpError(400, "the body must be a JSON object")
    return value


def _body(environ: dict[str, Any]) -> bytes:
    text = str(environ.get("CONTENT_LENGTH") or "0")
    if len(text) > 12 or not text.isdigit():
        raise HttpError(400, "bad Content-Length")
    length = int(text)
    if length > MAX_BODY:
        raise HttpError(413, f"the body is too large (at most {MAX_BODY} bytes)")
    data: bytes = environ["wsgi.input"].read(length) if length > 0 else b""
    return data


def _json(status: int, data: Any) -> Answer:
    body = json.dumps(data, separators=(",", ":"), default=str).encode()
    return status, [("Content-Type", "application/json")], body
