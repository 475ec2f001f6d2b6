"""The one transport: a requests.Session with deadlines, size caps, safe retries, redaction,
the origin rule and error mapping.

Retry policy, in one place:

* reads (and anything marked ``creates=False``) are retried on connection trouble, timeouts,
  429, 502, 503 and 504;
* a creating request is retried only when the failure proves the server never acted on it: the
  connection was refused or never established, or the answer was 429. A creating request that
  was sent but got no answer raises :class:`OutcomeUnknown` instead of being sent twice;
* waits use full jitter over one exponential schedule, bounded by ``max_retries`` and
  ``max_retry_time``; a ``Retry-After`` (seconds or an HTTP date) is honoured as given, and
  one longer than the time left gives up at once, carrying the wait.

Trust rules (DESIGN §10, docs/security.md):

* **origin** — credentials (headers, auth, query keys) are attached only to requests for the
  configured origin; a redirect to another origin or from HTTPS to HTTP, and an absolute URL
  (a paging link) to another origin, are refused with :class:`OriginRefused`;
* **deadline** — ``deadline`` seconds cover connect, every read and every retry of one call,
  enforced on the socket (taskhub.watchdog), so a server dripping bytes cannot hold a call;
* **size** — an answer is read in chunks and refused past ``max_response_bytes`` decoded bytes
  (a gzip bomb stops there too); JSON nested deeper than :data:`MAX_JSON_DEPTH` is refused;
* **redaction** — while a call runs, its hub's :class:`redact.Policy` is current on the thread,
  so errors and every log line (urllib3's too) are scrubbed with it; no raw requests exception
  (whose text holds URLs and query keys) stays reachable from a raised error.
"""

from __future__ import annotations

import contextlib
import email.utils
import json as _json
import logging
import math
import os
import random
import re
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urljoin, urlsplit

import attrs
import requests
import urllib3.exceptions

from taskhub import budget, redact, signals, watchdog
from taskhub.errors import (
    AuthError,
    Conflict,
    DeadlineExceeded,
    InvalidRequest,
    MalformedResponse,
    OriginRefused,
    OutcomeUnknown,
    RateLimited,
    ResponseTooLarge,
    TaskhubError,
    TaskNotFound,
    VendorUnavailable,
)
from taskhub.polling import RETRY

if TYPE_CHECKING:
    from taskhub.options import Options

log = logging.getLogger("taskhub.http")

#: Statuses that say "try again later" for a request the server did not act on.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: The deepest JSON nesting an API answer may have (real answers stay under 20).
MAX_JSON_DEPTH = 100
#: How many same-origin redirects one call follows.
MAX_REDIRECTS = 5
#: A Retry-After is clamped here (about 11 days): any wait this long is a refusal anyway.
MAX_RETRY_AFTER = 1e6
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024

Origin = tuple[str, str, int]
_ABSOLUTE = re.compile(r"^\s*(?:[A-Za-z][A-Za-z0-9+.-]*:)?//")


def origin_of(url: str) -> Origin | None:
    """``(scheme, host, port)`` of an absolute http(s) URL, or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or (443 if scheme == "https" else 80)


def is_absolute(url: str) -> bool:
    """True for a URL with a scheme and a host (``//host/x`` counts: it leaves the origin)."""
    return _ABSOLUTE.match(url) is not None


@attrs.frozen
class ErrorInfo:
    """What a vendor's error body says: a message, a vendor error code, a request id."""

    message: str | None = None
    code: str | None = None
    request_id: str | None = None
    #: The request field the error is about, when the vendor says (e.g. a 422's ``loc``).
    field: str | None = None


ErrorParser = Callable[[requests.Response], ErrorInfo]
#: A vendor hook that picks the error class for (HTTP status, parsed error); None = by status.
Classifier = Callable[[int, ErrorInfo], "type[TaskhubError] | None"]
#: A vendor hook that inspects a 2xx response and raises if its body reports an error.
Checker = Callable[[requests.Response, str], None]

_BY_STATUS: dict[int, type[TaskhubError]] = {
    400: InvalidRequest,
    401: AuthError,
    403: AuthError,
    404: TaskNotFound,
    409: Conflict,
    412: Conflict,
    413: InvalidRequest,
    422: InvalidRequest,
    429: RateLimited,
}


def error_class(status: int) -> type[TaskhubError]:
    """The error class for an HTTP status with nothing more specific to go on."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return VendorUnavailable
    return TaskhubError


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date.

    Whatever a server sends, the answer is None or a finite number of seconds in
    ``[0, MAX_RETRY_AFTER]``: a date in the year 9999 or ``1e999`` is a long wait, not a crash.
    """
    if not value:
        return None
    value = value.strip()[:100]
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
            current = datetime.fromtimestamp(now if now is not None else time.time(), timezone.utc)
            seconds = (when - current).total_seconds()
        except (TypeError, ValueError, OverflowError, IndexError):
            return None
    if math.isnan(seconds):
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


def default_error_info(response: requests.Response) -> ErrorInfo:
    """Best effort for vendors without a hook: a JSON ``message``/``error``/``errors`` field."""
    try:
        body = body_json(response)
    except ValueError:
        text = response.text.strip()
        return ErrorInfo(text[:200] or None)
    if isinstance(body, dict):
        for key in ("message", "error", "errors", "detail", "description"):
            value = body.get(key)
            if isinstance(value, str):
                return ErrorInfo(value)
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                code = value.get("code")
                return ErrorInfo(value["message"], None if code is None else str(code))
            if isinstance(value, list) and value:
                return ErrorInfo("; ".join(str(v) for v in value[:5]))
    return ErrorInfo(None)


class _Retry(Exception):
    """Carries a retryable error to the retry loop; never escapes the transport."""

    def __init__(self, error: TaskhubError, retry_after: float | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


def scrubbed(exc: BaseException) -> BaseException:
    """A stand-in for a library exception whose message cannot carry a secret (URLs hold keys).

    The original is not kept anywhere (no ``__cause__``, no ``__context__``), so nothing
    reachable from a raised taskhub error holds the raw URL or header.
    """
    try:
        clean = type(exc)(redact.text(str(exc)))
    except Exception:
        clean = RuntimeError(f"{type(exc).__name__}: {redact.text(str(exc))}")
    clean.__cause__ = None
    clean.__context__ = None
    clean.__suppress_context__ = True
    return clean


def caused_by(error: TaskhubError, exc: BaseException) -> TaskhubError:
    """``error`` with a scrubbed copy of ``exc`` as its cause; raise it outside ``except``."""
    error.__cause__ = scrubbed(exc)
    error.__suppress_context__ = True
    return error


def _never_sent(exc: requests.ConnectionError) -> bool:
    """True when the request provably never reached the server."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason: object = exc.args[0] if exc.args else None
    if isinstance(reason, urllib3.exceptions.MaxRetryError):
        reason = reason.reason
    return isinstance(
        reason, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError)
    )


def _depth_ok(value: Any, limit: int) -> bool:
    """True when ``value`` nests no deeper than ``limit`` (iterative: no recursion to blow)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, (dict, list)))
    return True


#: Every byte but brackets and quotes, deleted by ``bytes.translate``; braces become brackets
#: (JSON that parsed nests properly, so one kind of pair measures the depth).
_NOT_STRUCTURE = bytes(range(256)).translate(None, b'[]{}"')
_BRACKETS = bytes.maketrans(b"{}", b"[]")
_STRING = re.compile(rb'"[^"]*"')


def _text_depth_ok(body: bytes, limit: int) -> bool:
    """:func:`_depth_ok` read off the text of JSON that parsed, UTF-8 encoded.

    Escaped backslashes and quotes go first, then everything but brackets and quotes, then
    the strings (two quotes side by side bound nothing, so they go too), which leaves the
    structure, e.g. ``[[[][]]]``; each pass of removing innermost pairs peels one level. In
    UTF-8 these bytes never occur inside a multi-byte character. A 1,000-row page takes
    about a quarter of the walk's time."""
    if b"\\" in body:
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    shape = _STRING.sub(b"", body.translate(_BRACKETS, _NOT_STRUCTURE).replace(b'""', b""))
    for _ in range(limit):
        if not shape:
            return True
        shape = shape.replace(b"[]", b"")  # the innermost pairs only: one level
    return not shape


def parse_json(body: bytes) -> Any:
    """JSON from bytes, refusing nesting deeper than :data:`MAX_JSON_DEPTH` (ValueError)."""
    try:
        value = _json.loads(body)
    except RecursionError:
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    # Counting brackets is cheap; measuring the depth is needed only when there are many.
    if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH:
        utf8 = _json.detect_encoding(body) == "utf-8"
        if not (_text_depth_ok(body, MAX_JSON_DEPTH) if utf8 else _depth_ok(value, MAX_JSON_DEPTH)):
            raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def body_json(response: requests.Response) -> Any:
    """A response's body (already read, so already size-capped) as JSON, through
    :func:`parse_json`'s depth guard: ValueError when it is not JSON or nests too deep. Every
    adapter reads a body through this or :meth:`Transport.json`, never ``response.json()``,
    which a deeply nested answer turns into a RecursionError."""
    return parse_json(response.content)


def _keep_body(response: requests.Response, body: bytes) -> None:
    """Make ``body`` the ``content`` of ``response``, as if requests had read it.

    The transport reads a body itself, in chunks, to stop at ``max_response_bytes`` (a
    decompression bomb included); requests has no public way to hand a response a body read
    elsewhere, so this is the one place that sets what ``Response.content`` sets once it has
    read (requests 2.x, ``models.Response.content``): ``_content`` and ``_content_consumed``.
    Everything after it (``content``, ``text``, :func:`body_json`) is public requests.
    """
    response._content = body
    response._content_consumed = True  # type: ignore[attr-defined]


def _outcome(failure: BaseException | None, call: watchdog.Call) -> str:
    """A short word for a failed send, for the debug log."""
    if call.expired or failure is None:
        return "deadline passed"
    if isinstance(failure, requests.exceptions.SSLError):
        return "TLS failed"
    if isinstance(
        failure,
        (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError),
    ):
        return "body cut off"
    if isinstance(failure, requests.ConnectionError):
        return "connection failed"
    if isinstance(failure, requests.Timeout):
        return "timed out"
    return "connection lost"


class Streamed:
    """A streaming answer whose body is read through :meth:`chunks`, which ends in
    :class:`DeadlineExceeded` — never in a short body taken for a whole one — when the
    deadline cut the connection."""

    def __init__(
        self,
        response: requests.Response,
        call: watchdog.Call,
        vendor: str,
        operation: str,
        deadline: float,
    ) -> None:
        self.response = response
        self._call = call
        self._vendor = vendor
        self._operation = operation
        self._deadline = deadline

    @property
    def status_code(self) -> int:
        """The answer's HTTP status."""
        return self.response.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        """The answer's headers."""
        return self.response.headers

    def chunks(self, size: int) -> Iterator[bytes]:
        """The body, decoded, in chunks of at most ``size`` bytes."""
        failure: BaseException | None = None
        try:
            for chunk in self.response.iter_content(size):
                if self._call.expired:
                    break
                yield chunk
        except TaskhubError:
            raise
        except (OSError, urllib3.exceptions.HTTPError) as exc:
            if not self._call.expired:
                raise
            failure = exc
        if self._call.expired:
            error = DeadlineExceeded(
                f"the deadline of {self._deadline:g} s passed before the whole body came",
                deadline=self._deadline,
                vendor=self._vendor,
                operation=self._operation,
            )
            if failure is not None:
                caused_by(error, failure)
            raise error


@attrs.frozen
class _Attempt:
    """What one send needs besides the URL: the call's bounds and its retry class."""

    operation: str
    creates: bool
    credentials: bool
    stream: bool
    end: float
    number: int


class Transport:
    """HTTP for one adapter: one pooled Session, deadlines, size caps, safe retries, typed
    errors, and credentials only for the configured origin."""

    def __init__(
        self,
        *,
        vendor: str,
        base_url: str,
        options: Options,
        headers: Mapping[str, str] | None = None,
        auth: requests.auth.AuthBase | None = None,
        error_info: ErrorParser | None = None,
        classify: Classifier | None = None,
        check: Checker | None = None,
        request_id_header: str | None = None,
        session: requests.Session | None = None,
        seed: int | None = None,
        origins: Iterable[str] = (),
        policy: redact.Policy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.vendor = vendor
        self.base_url = base_url.rstrip("/")
        self.options = options
        self.error_info = error_info or default_error_info
        self.classify = classify
        self.check = check
        self.request_id_header = request_id_header
        #: Sent with every request to the configured origin, and nowhere else.
        self.headers = dict(headers or {})
        #: requests auth (OAuth, query key ...), applied under the same rule as ``headers``.
        self.auth = auth
        self.origin = origin_of(self.base_url)
        #: Origins that may be addressed by absolute URL (the API's, an OAuth token endpoint's).
        self.origins = frozenset(
            o for o in (self.origin, *(origin_of(u) for u in origins)) if o is not None
        )
        self.session = session or watchdog.watched_session()
        self._owns_session = session is None
        self.session.verify = options.verify
        if self._owns_session:
            self._read_environment_once()
        if not options.verify:
            warnings.warn(
                f"{vendor}: TLS certificate verification is turned off (verify = false)",
                RuntimeWarning,
                stacklevel=3,
            )
        #: What this hub masks: the vendor's declared names plus its configured secret values.
        self.policy = (policy or redact.for_vendor(vendor)).extend(values=options.secrets())
        redact.guard_loggers()
        self._rng = random.Random(seed)
        self._sleep = sleep
        #: Shared by every transport of this backend in the process (taskhub.budget).
        self.budget = budget.for_backend(
            vendor, self.base_url, getattr(options, "max_requests_per_second", None)
        )

    def _read_environment_once(self) -> None:
        # requests re-reads proxy and CA-bundle variables on every call (a scan of os.environ
        # that costs more than taskhub's own work per request), and with trust_env it would
        # also read ~/.netrc and send those credentials: a hub reads the environment once.
        proxies = requests.utils.get_environ_proxies(self.base_url) if self.base_url else {}
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        self.session.trust_env = False
        self.session.proxies.update(proxies)
        if self.options.verify and bundle:
            self.session.verify = bundle

    # -- addressing ---------------------------------------------------------------------------

    def url(self, path: str) -> str:
        """An absolute URL for ``path``. An absolute URL (a paging link) must be for one of
        this transport's origins, or it is refused before anything is sent."""
        if is_absolute(path):
            if origin_of(path) not in self.origins:
                raise OriginRefused(
                    "the server pointed to another origin; credentials are only sent to "
                    f"{self._origin_text()}",
                    location=path,
                    vendor=self.vendor,
                )
            return path
        if not path:
            return self.base_url
        return f"{self.base_url}/{path.lstrip('/')}"

    def resolve(self, link: str, base: str | None = None) -> str:
        """A link from an answer (``Link: next``), resolved against ``base`` and checked by
        the origin rule."""
        return self.url(urljoin(base or f"{self.base_url}/", link))

    @staticmethod
    def path(*segments: str) -> str:
        """``/a/b/c`` from segments, each percent-encoded whole (``/`` ``?`` ``#`` included),
        so an id can never change the path or the query."""
        return "/" + "/".join(quote(s, safe="") for s in segments)

    def _origin_text(self) -> str:
        return ", ".join(f"{s}://{h}:{p}" for s, h, p in sorted(self.origins)) or "no origin"

    # -- requests -----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        creates: bool = False,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        credentials: bool = True,
    ) -> requests.Response:
        """Send one request with the retry policy; return the 2xx response, body read.

        ``creates``: the request makes something, so it is never sent twice unless the failure
        proves it was not received. ``credentials=False`` sends no API credentials (an OAuth
        token request carries its own).
        """
        with redact.using(self.policy):
            url = self.url(path)
            kwargs: dict[str, Any] = {
                "params": params,
                "json": json,
                "data": data,
                "files": files,
                "headers": headers,
            }
            read_timeout = timeout or self.options.timeout
            return self._with_retries(
                method, url, operation, creates, credentials, kwargs, read_timeout
            )

    def _with_retries(
        self,
        method: str,
        url: str,
        operation: str,
        creates: bool,
        credentials: bool,
        kwargs: dict[str, Any],
        read_timeout: float,
    ) -> requests.Response:
        start = time.monotonic()
        call_end = start + self.options.deadline
        # No retry, its wait included, reaches past max_retry_time from the start.
        retry_end = min(call_end, start + self.options.max_retry_time)
        schedule = RETRY.delays(self._rng)
        number = 0
        while True:
            number += 1
            attempt = _Attempt(
                operation,
                creates,
                credentials,
                False,
                call_end if number == 1 else retry_end,
                number,
            )
            retry: _Retry | None = None
            self.budget.acquire(attempt.end, vendor=self.vendor)
            try:
                return self._send(method, url, kwargs, attempt, read_timeout)
            except _Retry as exc:
                retry = exc
            error = retry.error
            wait = retry.retry_after
            if wait is None:
                wait = next(schedule)
            left = retry_end - time.monotonic()
            if number > self.options.max_retries or wait >= left:
                # Raised here, outside the except block, so no raw exception is its context.
                raise error
            log.debug("%s: retrying %s in %.2fs after %s", self.vendor, operation, wait, error)
            if isinstance(error, RateLimited):
                # The vendor said "too many" to the backend, not to this caller: every caller
                # of the backend in this process waits, and this one at the next acquire.
                self.budget.pause(wait)
            else:
                self._sleep(wait)

    def _send(
        self,
        method: str,
        url: str,
        kwargs: dict[str, Any],
        attempt: _Attempt,
        read_timeout: float,
    ) -> requests.Response:
        call = watchdog.Call(attempt.end)
        left = call.left()
        if left <= 0:
            raise self._expired(attempt, sent=False)
        timeouts = (min(self.options.connect_timeout, left), min(read_timeout, left))
        t0 = time.monotonic()
        failure: OSError | urllib3.exceptions.HTTPError | None = None
        response: requests.Response | None = None
        with watchdog.deadline(call):
            try:
                response = self._walk(
                    method,
                    url,
                    kwargs,
                    timeouts,
                    operation=attempt.operation,
                    credentials=attempt.credentials,
                )
                self.read(response, attempt.operation, call)
            except TaskhubError:
                # Ours (an OAuth refusal from the auth hook, a refused redirect ...); some are
                # OSErrors too, so they must not be taken for a failing socket below.
                raise
            except (OSError, urllib3.exceptions.HTTPError) as exc:
                # requests' own errors are OSErrors too; the rest is what a socket cut by the
                # watchdog can raise from deeper down.
                failure = exc
        answered = None if failure is not None or call.expired else response
        # What the attempt came to: its HTTP status, or a word for a failure without one.
        outcome: object = _outcome(failure, call) if answered is None else answered.status_code
        self._log(method, url, outcome, attempt.number, t0)
        if signals.on_request:
            signals.emit(
                signals.on_request, self.vendor, attempt.operation, outcome, time.monotonic() - t0
            )
        if answered is None:
            if call.expired or call.left() <= 0:
                raise self._expired(attempt, sent=True)
            assert failure is not None
            raise self._failure(failure, attempt, read_timeout)
        return self._judge(answered, attempt)

    def _walk(
        self,
        method: str,
        url: str,
        body: Mapping[str, Any],
        timeouts: tuple[float, float],
        *,
        operation: str,
        credentials: bool = True,
        leave_origin: bool = False,
    ) -> requests.Response:
        """Send, following redirects by the one origin rule (DESIGN §10): at each hop the
        credentials go only to this transport's origins (and only when ``credentials``); a
        redirect is followed as :meth:`_refusal` allows. ``body`` holds the request's
        ``params``, ``json``, ``data``, ``files`` and ``headers``."""
        for _ in range(MAX_REDIRECTS + 1):
            trusted = credentials and origin_of(url) in self.origins
            headers = (
                {**self.headers, **(body.get("headers") or {})} if trusted else body.get("headers")
            )
            response = self.session.request(
                method,
                url,
                params=body.get("params"),
                json=body.get("json"),
                data=body.get("data"),
                files=body.get("files"),
                headers=headers,
                auth=self.auth if trusted else None,
                timeout=timeouts,
                stream=True,
                allow_redirects=False,
            )
            location = response.headers.get("Location")
            if response.status_code not in _REDIRECTS or location is None:
                return response
            # Never read a redirect's body: it is not needed, and it may be a bomb.
            response.close()
            target = urljoin(response.url, location)
            refusal = self._refusal(url, target, response.status_code, leave_origin)
            if refusal is not None:
                raise OriginRefused(
                    refusal,
                    location=target,
                    vendor=self.vendor,
                    operation=operation,
                    http_status=response.status_code,
                )
            if response.status_code == 303 or (
                response.status_code in (301, 302) and method not in ("GET", "HEAD")
            ):
                method = "GET"
                body = {"headers": body.get("headers")}
            else:
                body = {**body, "params": None}  # the query is in the URL redirected from
            url = target
        raise OriginRefused(
            f"more than {MAX_REDIRECTS} redirects", vendor=self.vendor, operation=operation
        )

    def _refusal(self, source: str, target: str, status: int, leave_origin: bool) -> str | None:
        """Why the origin rule refuses a redirect from ``source`` to ``target`` (None: follow
        it). An API call stays on its origin, so its credentials never leave it; a download
        (``leave_origin``: a signed URI carries its own authority) may go to another origin,
        where :meth:`_walk` sends it without credentials. Neither goes from HTTPS to plain
        HTTP, nor to something that is not an http(s) URL."""
        old, new = origin_of(source), origin_of(target)
        if not leave_origin and new != old:
            return (
                f"HTTP {status} redirect to another origin refused; credentials are only sent "
                f"to {self._origin_text()}"
            )
        if new is None or (old is not None and old[0] == "https" and new[0] != "https"):
            return "a redirect from HTTPS to plain HTTP (or to no URL) is refused"
        return None

    def read(
        self, response: requests.Response, operation: str, call: watchdog.Call | None = None
    ) -> None:
        """Read the body into ``response.content``, refusing more than ``max_response_bytes``
        decoded bytes; the connection goes back to the pool when the body was read whole."""
        cap = self.options.max_response_bytes
        declared = response.headers.get("Content-Length", "")
        plain = response.headers.get("Content-Encoding", "identity").lower() == "identity"
        if plain and declared.isdigit() and int(declared) > cap:
            response.close()
            raise self._too_large(response, operation, cap)
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(_CHUNK):
            size += len(chunk)
            if size > cap:
                # Closed, not drained: reading on would inflate the rest of a bomb.
                response.close()
                raise self._too_large(response, operation, cap)
            chunks.append(chunk)
            if call is not None and call.expired:
                response.close()
                break
        _keep_body(response, b"".join(chunks))

    def _too_large(self, response: requests.Response, operation: str, cap: int) -> ResponseTooLarge:
        return ResponseTooLarge(
            f"the answer is larger than max_response_bytes ({cap} bytes decoded); nothing "
            "past that was read",
            limit=cap,
            vendor=self.vendor,
            operation=operation,
            http_status=response.status_code,
        )

    def _expired(self, attempt: _Attempt, *, sent: bool) -> TaskhubError:
        what = f"the call's deadline of {self.options.deadline:g} s passed"
        if attempt.number > 1:
            what = f"{what} (or max_retry_time {self.options.max_retry_time:g} s)"
        if attempt.creates and sent:
            return OutcomeUnknown(
                f"{what} after the request was sent; it may or may not have been carried out",
                vendor=self.vendor,
                operation=attempt.operation,
            )
        return DeadlineExceeded(
            what, deadline=self.options.deadline, vendor=self.vendor, operation=attempt.operation
        )

    def _failure(
        self,
        exc: OSError | urllib3.exceptions.HTTPError,
        attempt: _Attempt,
        read_timeout: float,
    ) -> Exception:
        """The typed error (or a _Retry) for a failure of requests, with no raw exception
        reachable from it."""
        operation, creates = attempt.operation, attempt.creates
        if isinstance(exc, requests.exceptions.SSLError):
            # Nothing was sent, and asking again cannot make a certificate valid.
            return caused_by(
                VendorUnavailable(
                    "TLS failed (certificate verification or handshake); fix the server's "
                    "certificate or its CA bundle; verify = false turns checking off for testing",
                    vendor=self.vendor,
                    operation=operation,
                ),
                exc,
            )
        if isinstance(
            exc,
            (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError),
        ):
            return self._connection_trouble(exc, operation, creates, True, "the answer was cut off")
        if isinstance(exc, requests.ConnectionError):
            sent = not _never_sent(exc)
            what = "could not connect" if not sent else "the connection was lost"
            return self._connection_trouble(exc, operation, creates, sent, what)
        if isinstance(exc, requests.Timeout):
            return self._connection_trouble(
                exc, operation, creates, True, f"no answer within {read_timeout:g} s"
            )
        if not isinstance(exc, requests.RequestException):
            return self._connection_trouble(
                exc, operation, creates, True, "the connection was lost"
            )
        return caused_by(
            InvalidRequest(
                f"the request could not be sent: {type(exc).__name__}",
                vendor=self.vendor,
                operation=operation,
            )
            if isinstance(exc, (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL))
            else VendorUnavailable(
                f"request failed: {type(exc).__name__}", vendor=self.vendor, operation=operation
            ),
            exc,
        )

    def _connection_trouble(
        self,
        exc: BaseException,
        operation: str,
        creates: bool,
        sent: bool,
        what: str,
    ) -> Exception:
        if creates and sent:
            return caused_by(
                OutcomeUnknown(
                    f"{what} after the request was sent; it may or may not have been carried out",
                    vendor=self.vendor,
                    operation=operation,
                ),
                exc,
            )
        return _Retry(
            caused_by(VendorUnavailable(what, vendor=self.vendor, operation=operation), exc), None
        )

    def _judge(self, response: requests.Response, attempt: _Attempt) -> requests.Response:
        """The 2xx response, or the error (or _Retry) its status and body call for."""
        operation, creates = attempt.operation, attempt.creates
        if response.status_code >= 400:
            error = self._error(response, operation)
            retry_after = getattr(error, "retry_after", None)
            status = response.status_code
            # 429 proves the request was refused unprocessed, so even a create may repeat it.
            if status == 429 or (status in RETRY_STATUSES and not creates):
                raise _Retry(error, retry_after)
            if creates and status in (502, 504):
                outcome = OutcomeUnknown(
                    f"{error.message}; the request may or may not have been carried out",
                    vendor=self.vendor,
                    operation=operation,
                    http_status=status,
                    request_id=error.request_id,
                )
                outcome.__cause__ = error
                raise outcome
            raise error
        if self.check is not None:
            verdict: TaskhubError | None = None
            try:
                self.check(response, operation)
            except (RateLimited, VendorUnavailable) as error:
                verdict = error
            if verdict is not None:
                if creates and not isinstance(verdict, RateLimited):
                    raise verdict
                raise _Retry(verdict, getattr(verdict, "retry_after", None))
        return response

    def json(self, response: requests.Response, operation: str) -> Any:
        """The response body as JSON, or MalformedResponse saying what came instead."""
        problem: str | None = None
        try:
            return parse_json(response.content)
        except ValueError as exc:
            problem = str(exc) if "nested" in str(exc) else None
        kind = response.headers.get("Content-Type", "no content type")
        raise MalformedResponse(
            problem or f"expected JSON, got {len(response.content)} bytes of {kind}",
            vendor=self.vendor,
            operation=operation,
            http_status=response.status_code,
            request_id=self._request_id(response, None),
        )

    def request_json(self, method: str, path: str, *, operation: str, **kwargs: Any) -> Any:
        """:meth:`request`, then :meth:`json`.

        For a creating request an unreadable 2xx answer is :class:`OutcomeUnknown`: the
        server accepted the work, but what it created cannot be told from the answer.
        """
        response = self.request(method, path, operation=operation, **kwargs)
        with redact.using(self.policy):
            try:
                return self.json(response, operation)
            except MalformedResponse as exc:
                if not kwargs.get("creates"):
                    raise
                unknown = OutcomeUnknown(
                    f"the answer to a create could not be read ({exc.message}); the work was "
                    "accepted but what it created is unknown",
                    vendor=self.vendor,
                    operation=operation,
                    http_status=exc.http_status,
                )
                unknown.__cause__ = exc
        raise unknown

    @contextlib.contextmanager
    def stream(
        self, url: str, *, operation: str, deadline: float, timeout: float | None = None
    ) -> Iterator[Streamed]:
        """GET ``url`` for streaming (downloads), the whole read bounded by ``deadline``
        seconds. Credentials go only to this transport's origins; a redirect may lead to
        another origin (a signed storage URI carries its own authority) but is then followed
        without credentials, and never from HTTPS down to HTTP."""
        with redact.using(self.policy):
            call = watchdog.Call(time.monotonic() + deadline)
            timeouts = (
                min(self.options.connect_timeout, deadline),
                min(timeout or self.options.timeout, deadline),
            )
            if origin_of(url) is None:
                raise InvalidRequest(
                    "a download URL must be an absolute http(s) URL",
                    field="url",
                    vendor=self.vendor,
                    operation=operation,
                )
            with watchdog.deadline(call):
                response = self._walk(
                    "GET", url, {}, timeouts, operation=operation, leave_origin=True
                )
                try:
                    yield Streamed(response, call, self.vendor, operation, deadline)
                finally:
                    response.close()

    def close(self) -> None:
        """Let the pooled connections go (only when this transport made the session). The
        transport stays usable: a later request opens new connections, as the refresher
        relies on when it falls idle and is followed again."""
        if self._owns_session:
            self.session.close()

    # -- internals --------------------------------------------------------------------------------

    def _error(self, response: requests.Response, operation: str) -> TaskhubError:
        try:
            info = self.error_info(response)
        except Exception:
            info = ErrorInfo()
        status = response.status_code
        cls = (self.classify(status, info) if self.classify else None) or error_class(status)
        message = info.message or response.reason or f"HTTP {status}"
        kwargs: dict[str, Any] = {
            "vendor": self.vendor,
            "operation": operation,
            "http_status": status,
            "code": info.code,
            "request_id": self._request_id(response, info),
        }
        if issubclass(cls, (RateLimited, VendorUnavailable)):
            kwargs["retry_after"] = parse_retry_after(response.headers.get("Retry-After"))
        if issubclass(cls, InvalidRequest):
            kwargs["field"] = info.field
        return cls(message, **kwargs)

    def _request_id(self, response: requests.Response, info: ErrorInfo | None) -> str | None:
        if info is not None and info.request_id:
            return info.request_id
        if self.request_id_header:
            return response.headers.get(self.request_id_header)
        return None

    def _log(self, method: str, url: str, outcome: object, attempt: int, t0: float) -> None:
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s -> %s attempt=%d elapsed=%.3fs",
                method,
                redact.url(url),
                outcome,
                attempt,
                time.monotonic() - t0,
            )
