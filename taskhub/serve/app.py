"""The web half of ``taskhub serve``: a plain WSGI application (served by waitress).

Routes: ``GET /`` the page, ``GET /api/tasks`` (``backend``, ``vendor``, ``state``, ``limit``
1-1000, ``offset``), ``GET /api/tasks/{ref}``, ``GET /api/tasks/{ref}/transitions``,
``GET /api/counts``, ``GET /metrics``, ``GET /healthz``, ``POST /webhooks/{backend}``.
Errors are JSON ``{"error": ..., "status": ...}``. With a token, the page and the API need
``Authorization: Bearer TOKEN`` (or the cookie ``/?token=TOKEN`` sets); ``/healthz`` and
``/metrics`` stay open, and webhooks are authenticated by their own signatures.
"""

from __future__ import annotations

import hmac
import importlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, quote

from taskhub.errors import WebhookRejected
from taskhub.states import State

from . import page
from .metrics import CONTENT_TYPE, Metrics
from .service import Service

log = logging.getLogger("taskhub.serve")

StartResponse = Callable[..., Any]
MAX_BODY = 1 << 20
MAX_LIMIT = 1000
_FILTERS = frozenset({"backend", "vendor", "state", "limit", "offset"})
#: WebhookRejected reason -> HTTP status.
_REJECTED = {
    "missing_signature": 401,
    "bad_signature": 401,
    "stale": 401,
    "no_secret": 401,
    "duplicate": 409,
}


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class App:
    """The WSGI application over one :class:`Service`."""

    def __init__(
        self,
        service: Service,
        metrics: Metrics,
        *,
        token: str | None = None,
        webhook_secrets: Mapping[str, str] | None = None,
        refresh_seconds: float = 2.0,
    ) -> None:
        self.service = service
        self.store = service.store
        self.metrics = metrics
        self.token = token or None
        self.webhook_secrets = dict(webhook_secrets or {})
        self.refresh_seconds = refresh_seconds

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/") or "/"
        try:
            status, headers, body = self.route(method, path, environ)
        except HttpError as exc:
            status, headers, body = _json(exc.status, {"error": exc.message, "status": exc.status})
        except Exception:
            log.exception("serve: %s %s failed", method, path)
            status, headers, body = _json(500, {"error": "internal error", "status": 500})
        phrase = HTTPStatus(status).phrase
        headers = [*headers, ("Content-Length", str(len(body)))]
        start_response(f"{status} {phrase}", headers)
        return [body] if method != "HEAD" else [b""]

    # -- routing -------------------------------------------------------------------------------

    def route(
        self, method: str, path: str, environ: dict[str, Any]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        query = _query(environ)
        if path == "/healthz":
            self._method(method, "GET")
            health = self.service.health()
            return _json(200 if health["status"] == "ok" else 503, health)
        if path == "/metrics":
            self._method(method, "GET")
            return 200, [("Content-Type", CONTENT_TYPE)], self.metrics.render()
        if path.startswith("/webhooks/"):
            self._method(method, "POST")
            return self._webhook(path[len("/webhooks/") :], environ)
        if path == "/" and method in ("GET", "HEAD") and self.token and "token" in query:
            return self._login(query["token"])
        self._authorize(environ)
        if path == "/":
            self._method(method, "GET")
            html = page.render(self.store, self.service, refresh_seconds=self.refresh_seconds)
            return 200, [("Content-Type", "text/html; charset=utf-8")], html.encode()
        if path == "/api/tasks":
            self._method(method, "GET")
            return _json(200, self._tasks(query))
        if path == "/api/counts":
            self._method(method, "GET")
            rows = self.store.counts()
            return _json(200, {"counts": [
                {"backend": b, "vendor": v, "state": s, "count": n} for b, v, s, n in rows
            ]})  # fmt: skip
        if path.startswith("/api/tasks/"):
            self._method(method, "GET")
            rest = path[len("/api/tasks/") :]
            if rest.endswith("/transitions"):
                ref = rest[: -len("/transitions")]
                self._task_or_404(ref)
                return _json(200, {"ref": ref, "transitions": self.store.transitions(ref)})
            return _json(200, self._task_or_404(rest))
        raise HttpError(404, f"no such page: {path[:100]}")

    @staticmethod
    def _method(method: str, *allowed: str) -> None:
        if method not in allowed and not (method == "HEAD" and "GET" in allowed):
            raise HttpError(405, f"{method} is not allowed here; use {', '.join(allowed)}")

    def _authorize(self, environ: dict[str, Any]) -> None:
        if self.token is None:
            return
        given = ""
        header = environ.get("HTTP_AUTHORIZATION", "")
        if header.startswith("Bearer "):
            given = header[len("Bearer ") :].strip()
        else:
            for part in environ.get("HTTP_COOKIE", "").split(";"):
                name, _, value = part.strip().partition("=")
                if name == "taskhub_token":
                    given = value
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            raise HttpError(401, "a bearer token is required (Authorization: Bearer TOKEN)")

    def _login(self, given: str) -> tuple[int, list[tuple[str, str]], bytes]:
        if not hmac.compare_digest(given.encode(), (self.token or "").encode()):
            raise HttpError(401, "wrong token")
        cookie = f"taskhub_token={quote(given, safe='')}; HttpOnly; SameSite=Strict; Path=/"
        return 303, [("Location", "/"), ("Set-Cookie", cookie)], b""

    # -- the API -------------------------------------------------------------------------------

    def _tasks(self, query: dict[str, str]) -> dict[str, Any]:
        unknown = sorted(set(query) - _FILTERS)
        if unknown:
            raise HttpError(
                400, f"unknown parameter {unknown[0]!r}; known: {', '.join(sorted(_FILTERS))}"
            )
        state = None
        if query.get("state"):
            try:
                state = State.parse(query["state"])
            except ValueError as exc:
                raise HttpError(400, str(exc)) from None
        limit = _whole(query, "limit", 100, 1, MAX_LIMIT)
        offset = _whole(query, "offset", 0, 0, 10**9)
        for name in ("backend", "vendor"):
            if len(query.get(name, "")) > 200:
                raise HttpError(400, f"{name} is too long")
        tasks, total = self.store.tasks(
            backend=query.get("backend") or None,
            vendor=query.get("vendor") or None,
            state=state,
            limit=limit,
            offset=offset,
        )
        nxt = offset + limit if offset + limit < total else None
        return {"tasks": tasks, "total": total, "limit": limit, "offset": offset, "next": nxt}

    def _task_or_404(self, ref: str) -> dict[str, Any]:
        if not ref or ":" not in ref:
            raise HttpError(400, "expected a task reference BACKEND:ID")
        found = self.store.task(ref)
        if found is None:
            raise HttpError(404, f"no task {ref[:100]!r} in the store")
        return found

    # -- webhooks ------------------------------------------------------------------------------

    def _webhook(
        self, backend: str, environ: dict[str, Any]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        hub = self.service.hubs.get(backend)
        if hub is None:
            raise HttpError(404, f"no backend {backend[:60]!r}")
        try:
            parse = importlib.import_module(
                f"taskhub.adapters.{hub.vendor.replace('-', '_')}.webhooks"
            ).parse_webhook
        except (ImportError, AttributeError):
            raise HttpError(404, f"{hub.vendor} sends no webhooks taskhub can verify") from None
        body = _body(environ)
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        try:
            event = parse(
                body, headers, self.webhook_secrets.get(backend, ""), seen=None, backend=backend
            )
        except WebhookRejected as exc:
            reason = getattr(exc, "reason", None) or "rejected"
            self.metrics.webhooks.labels(backend, reason).inc()
            raise HttpError(_REJECTED.get(reason, 400), f"webhook rejected: {reason}") from None
        if not self.store.accept_event(backend, event.id):
            self.metrics.webhooks.labels(backend, "duplicate").inc()
            raise HttpError(409, "webhook rejected: duplicate (this event was already received)")
        try:
            transition = self.service.observe(event.task)
        except Exception:
            self.store.forget_event(backend, event.id)
            raise
        self.metrics.webhooks.labels(backend, "accepted").inc()
        return _json(
            202,
            {
                "accepted": event.id,
                "ref": event.task.ref,
                "state": event.task.state.value,
                "transition": str(transition) if transition is not None else None,
            },
        )


def _json(status: int, data: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    body = json.dumps(data, separators=(",", ":"), default=str).encode()
    return status, [("Content-Type", "application/json")], body


def _query(environ: dict[str, Any]) -> dict[str, str]:
    parsed = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    for name, values in parsed.items():
        if len(values) > 1:
            raise HttpError(400, f"{name!r} is given more than once")
    return {k: v[0] for k, v in parsed.items()}


def _whole(query: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    text = query.get(name)
    if text is None or text == "":
        return default
    if not text.isascii() or not text.isdigit():
        raise HttpError(400, f"{name} must be a whole number from {low} to {high}")
    value = int(text)
    if not low <= value <= high:
        raise HttpError(400, f"{name} must be a whole number from {low} to {high}")
    return value


def _body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise HttpError(400, "bad Content-Length") from None
    if length > MAX_BODY:
        raise HttpError(413, "the body is too large")
    data: bytes = environ["wsgi.input"].read(length) if length > 0 else b""
    return data
