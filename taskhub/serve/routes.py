"""The service's routes, declared as data: method, path pattern, handler, the role it needs.

Every route states who may call it, so no route is protected by where it sits in a chain of
``if``s; the OpenAPI document (``GET /api/openapi.json``) is generated from this same table.

Paths are matched on the raw request target, segment by segment, and each ``{name}``
segment is percent-decoded as UTF-8: a ref holding ``/`` travels as ``%2F`` in one segment,
and a task id that is not ASCII reaches its handler as the client wrote it (a WSGI server
hands ``PATH_INFO`` over decoded as Latin-1).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from urllib.parse import unquote

import attrs


class Role(enum.IntEnum):
    """Who may call a route; a token's role includes every role below it."""

    #: No token needed (health checks, Prometheus scrapes).
    PUBLIC = 0
    #: Authenticated by the vendor's signature, not by a token (webhooks).
    SIGNED = 1
    #: Any configured token: every read.
    VIEWER = 2
    #: An operator token: the actions (submit, cancel, retry).
    OPERATOR = 3


@attrs.frozen
class Param:
    """One query parameter a route takes, for validation and the OpenAPI document."""

    name: str
    #: ``"string"`` or ``"integer"``.
    type: str = "string"
    description: str = ""
    #: The allowed values, when there is a closed set.
    enum: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    #: ``"date-time"`` for a time; the rest are plain text.
    format: str | None = None
    #: The longest value taken.
    max_length: int | None = None


@attrs.frozen
class Route:
    """One route: ``pattern`` is a path whose ``{name}`` segments are parameters."""

    method: str
    pattern: str
    #: The name of the App's method that answers it.
    handler: str
    role: Role
    summary: str
    params: tuple[Param, ...] = ()
    #: The JSON schema name of a 2xx answer (see taskhub.serve.openapi), "" for none.
    answers: str = ""
    #: The statuses it may answer besides its success status.
    errors: tuple[int, ...] = ()
    #: Its success status.
    status: int = 200
    #: The JSON schema name of its request body, "" for none.
    body: str = ""

    @property
    def segments(self) -> tuple[str, ...]:
        """The pattern split at ``/``."""
        return tuple(self.pattern.strip("/").split("/")) if self.pattern != "/" else ()


@attrs.frozen
class Match:
    """The route a request matched and its decoded path parameters."""

    route: Route
    values: dict[str, str]


class NoRoute(Exception):
    """No route has this path (404) or none takes this method (405, with ``allowed``)."""

    def __init__(self, allowed: Sequence[str] = ()) -> None:
        super().__init__(", ".join(allowed))
        self.allowed = tuple(allowed)


class Table:
    """Finds the route of a request."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = tuple(routes)

    def match(self, method: str, raw_path: str) -> Match:
        """The route for ``method`` and the raw (still percent-encoded) path; NoRoute."""
        segments = tuple(raw_path.strip("/").split("/")) if raw_path.strip("/") else ()
        allowed: list[str] = []
        for route in self.routes:
            values = _bind(route.segments, segments)
            if values is None:
                continue
            if route.method == method or (method == "HEAD" and route.method == "GET"):
                return Match(route, values)
            allowed.append(route.method)
        raise NoRoute(allowed)


def _bind(pattern: tuple[str, ...], segments: tuple[str, ...]) -> dict[str, str] | None:
    if len(pattern) != len(segments):
        return None
    values: dict[str, str] = {}
    for want, got in zip(pattern, segments, strict=True):
        if want.startswith("{") and want.endswith("}"):
            if not got:
                return None
            # errors="strict": bytes that are not UTF-8 are no ref of ours (a 400, upstream).
            values[want[1:-1]] = unquote(got, encoding="utf-8", errors="strict")
        elif want != got:
            return None
    return values
