"""The base of every vendor simulator: routing, fault injection, request log, JSON helpers.

A vendor simulator subclasses :class:`Simulator`, declares its routes, implements one
``on_<endpoint>`` method per route, and says how its vendor shapes an error body. State lives in
memory; lifecycles are computed from the :class:`SimClock` when a request arrives, so a test can
move time by hand and every answer is deterministic.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import unquote

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from taskhub.testing.clock import SimClock
from taskhub.testing.faults import Fault, FaultPlan, Record, RequestLog

if TYPE_CHECKING:
    from taskhub.hub import TaskHub
    from taskhub.model import Task

JSON = "application/json"
log = logging.getLogger("taskhub.testing")


class Simulator:
    """A WSGI application that behaves like one vendor's API."""

    #: The vendor name this simulates (the registry name).
    vendor: ClassVar[str] = ""
    #: Prefix of every route (e.g. ``/api``).
    base_path: ClassVar[str] = ""
    #: Route on the raw, still percent-encoded path and decode each segment after splitting,
    #: so an id holding ``%2F`` stays one segment (Cognite's rule).
    raw_paths: ClassVar[bool] = False

    def __init__(self, *, clock: SimClock | None = None, seed: int = 0) -> None:
        self.clock = clock or SimClock()
        self.faults = FaultPlan(seed)
        self.log = RequestLog()
        self.lock = threading.RLock()
        self.url_map = Map(
            [
                Rule(self.base_path + r.rule, endpoint=r.endpoint, methods=r.methods)
                for r in self.routes()
            ],
            strict_slashes=False,
            merge_slashes=False,
        )
        #: The server's own root URL, set by ``simulate`` once the port is known.
        self.root_url = ""
        #: Unexpected exceptions raised by handlers (a simulator bug, never a vendor answer).
        self.crashes: list[Exception] = []

    # -- what a vendor simulator provides ---------------------------------------------------------

    def routes(self) -> Iterable[Rule]:
        """The vendor's routes, relative to :attr:`base_path`; endpoint ``x`` calls ``on_x``."""
        return ()

    def error(
        self, status: int, message: str, headers: Mapping[str, str] | None = None
    ) -> Response:
        """An error answer in the vendor's shape. Vendors override this."""
        return self.json({"error": message}, status, headers)

    def client_options(self, url: str) -> dict[str, Any]:
        """The options that make ``taskhub.connect(vendor, **options)`` talk to this simulator."""
        return {"base_url": url}

    def secrets(self) -> list[str]:
        """Every credential this simulator hands out (for leak checks)."""
        return []

    def demo_spec(self) -> dict[str, Any] | None:
        """The keyword arguments of one representative ``submit``, for ``taskhub demo``."""
        return None

    def demo_step(self, hub: TaskHub, task: Task) -> None:
        """Play a worker's part in the demo, if the vendor's flow needs one."""

    def method_not_allowed(self, allowed: Iterable[str]) -> Response:
        """The answer to a method the path does not take: 405 with the ``Allow`` header that
        RFC 9110 requires. A vendor whose server answers otherwise overrides this."""
        response = self.error(405, "method not allowed")
        response.headers["Allow"] = ", ".join(sorted(allowed))
        return response

    def graphql_error(self, name: str, message: str) -> Response:
        """HTTP 200 with a GraphQL errors envelope (meaningful for GraphQL vendors)."""
        return self.json({"data": None, "errors": [{"message": message, "name": name}]})

    # -- helpers -------------------------------------------------------------------------------

    def json(
        self, data: Any, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Response:
        """A JSON response."""
        return Response(
            json.dumps(data, separators=(",", ":")),
            status,
            headers=dict(headers or {}),
            content_type=JSON,
        )

    def body(self, request: Request) -> Any:
        """The request's JSON body (gzip-decoded if so sent), or a 400 in the vendor's shape."""
        raw = request.get_data(cache=True)
        if not raw:
            return None
        try:
            if request.headers.get("Content-Encoding", "").lower() == "gzip":
                raw = gzip.decompress(raw)
            return json.loads(raw)
        except (ValueError, OSError, EOFError):
            raise Answer(self.error(400, "request body is not valid JSON")) from None

    def now(self) -> float:
        """The simulated time in epoch seconds."""
        return self.clock.now()

    def now_ms(self) -> int:
        """The simulated time in epoch milliseconds."""
        return self.clock.now_ms()

    # -- WSGI --------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        fault = self.faults.match(request.method, request.path)
        body = request.get_data(cache=True)
        response: Response | None = None
        if fault is not None and fault.kind == "drop" and not fault.after_effect:
            self._record(request, body, None, fault)
            return self._drop(environ)
        if fault is not None and fault.kind == "status":
            response = self._fault_response(fault)
        elif fault is not None and fault.kind == "graphql":
            response = self.graphql_error(fault.name, "injected fault")
        else:
            response = self.handle(request)
        if fault is not None and fault.kind == "drop":
            self._record(request, body, None, fault)
            return self._drop(environ)
        if fault is not None and fault.kind == "malformed":
            response = Response(b'{"truncated": [1, 2', response.status_code, content_type=JSON)
        if fault is not None and fault.kind == "truncate":
            response = _truncated(response)
        self._record(request, body, response.status_code, fault)
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.seconds)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        """Route one request to its ``on_<endpoint>`` method."""
        environ = request.environ
        if self.raw_paths:
            raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or request.path
            environ = {**environ, "PATH_INFO": raw.split("?", 1)[0]}
        adapter = self.url_map.bind_to_environ(environ)
        try:
            endpoint, args = adapter.match()
            if self.raw_paths:
                args = {k: unquote(v) if isinstance(v, str) else v for k, v in args.items()}
        except NotFound:
            return self.error(404, "not found")
        except MethodNotAllowed as exc:
            return self.method_not_allowed(exc.valid_methods or [])
        except HTTPException as exc:
            return self.error(exc.code or 400, exc.description or "bad request")
        handler = getattr(self, f"on_{endpoint}")
        try:
            with self.lock:
                result: Response = handler(request, **args)
                return result
        except Answer as answer:
            return answer.response
        except Exception as exc:
            # A bug in a simulator must not look like a vendor outage: keep it for the tests.
            self.crashes.append(exc)
            log.exception("%s simulator failed on %s %s", self.vendor, request.method, request.path)
            return self.error(500, f"Internal server error: {type(exc).__name__}")

    def _fault_response(self, fault: Fault) -> Response:
        if fault.body is not None:
            payload = fault.body if isinstance(fault.body, (bytes, str)) else json.dumps(fault.body)
            return Response(payload, fault.status, headers=fault.headers, content_type=JSON)
        return self.error(fault.status, "injected fault", fault.headers)

    def _record(
        self, request: Request, body: bytes, status: int | None, fault: Fault | None
    ) -> None:
        self.log.append(
            Record(
                request.method,
                request.path,
                request.query_string.decode("latin-1"),
                dict(request.headers.items()),
                body,
                status,
                fault.kind if fault else None,
                raw_path=(request.environ.get("RAW_URI") or request.path).split("?", 1)[0],
            )
        )

    def _drop(self, environ: dict[str, Any]) -> Iterable[bytes]:
        sock = environ.get("werkzeug.socket")
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        raise ConnectionAbortedError("connection dropped by fault plan")


def _truncated(response: Response) -> Response:
    """The same answer, its full Content-Length announced but only half the body sent."""
    data = response.get_data()

    def half_then_drop() -> Iterable[bytes]:
        yield data[: len(data) // 2]
        raise ConnectionAbortedError("connection dropped mid-body by fault plan")

    cut = Response(half_then_drop(), response.status_code, headers=dict(response.headers))
    cut.headers["Content-Length"] = str(len(data))
    return cut


class Answer(Exception):
    """Raised inside a handler to answer at once (e.g. an auth or validation failure)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response
