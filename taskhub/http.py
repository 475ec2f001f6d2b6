"""The one transport: a requests.Session with timeouts, retries, redaction and error mapping.

Retry policy, in one place:

* reads (and anything marked ``creates=False``) are retried on connection trouble, timeouts,
  429, 502, 503 and 504;
* a creating request is retried only when the failure proves the server never acted on it: the
  connection was refused or never established, or the answer was 429. A creating request that
  was sent but got no answer raises :class:`OutcomeUnknown` instead of being sent twice;
* waits use full jitter, bounded by ``max_retries`` and ``max_retry_time``; a ``Retry-After``
  (seconds or an HTTP date) is honoured as given.
"""

from __future__ import annotations

import email.utils
import logging
import os
import random
import time
import warnings
from collections.abc import Callable, Generator, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import attrs
import backoff
import requests
import urllib3.exceptions

from taskhub import redact
from taskhub.errors import (
    AuthError,
    Conflict,
    InvalidRequest,
    MalformedResponse,
    OutcomeUnknown,
    RateLimited,
    TaskhubError,
    TaskNotFound,
    VendorUnavailable,
)

if TYPE_CHECKING:
    from taskhub.adapter import Options

log = logging.getLogger("taskhub.http")

#: Statuses that say "try again later" for a request the server did not act on.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: Upper bound of one jittered wait, in seconds.
BACKOFF_CAP = 8.0
BACKOFF_BASE = 0.25


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
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = datetime.fromtimestamp(now if now is not None else time.time(), timezone.utc)
    return max(0.0, (when - current).total_seconds())


def default_error_info(response: requests.Response) -> ErrorInfo:
    """Best effort for vendors without a hook: a JSON ``message``/``error``/``errors`` field."""
    try:
        body = response.json()
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
    """Carries a retryable error through backoff; never escapes the transport."""

    def __init__(self, error: TaskhubError, retry_after: float | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


def _waits(rng: random.Random) -> Generator[float, Any, None]:
    """Full-jitter exponential waits, replaced by the server's Retry-After when it sends one."""
    attempt = 0
    exc = yield 0.0
    while True:
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            wait = float(retry_after)
        else:
            wait = rng.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt))
        attempt += 1
        exc = yield wait


def scrubbed(exc: BaseException) -> BaseException:
    """A copy of a library exception whose message cannot carry a secret (URLs hold keys)."""
    try:
        clean = type(exc)(redact.text(str(exc)))
    except Exception:
        clean = RuntimeError(f"{type(exc).__name__}: {redact.text(str(exc))}")
    return clean


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


class Transport:
    """HTTP for one adapter: one pooled Session, timeouts always, safe retries, typed errors."""

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
    ) -> None:
        self.vendor = vendor
        self.base_url = base_url.rstrip("/")
        self.options = options
        self.error_info = error_info or default_error_info
        self.classify = classify
        self.check = check
        self.request_id_header = request_id_header
        self.session = session or requests.Session()
        self._owns_session = session is None
        self.session.headers.update(headers or {})
        if auth is not None:
            self.session.auth = auth
        self.session.verify = options.verify
        if self._owns_session:
            self._read_environment_once()
        if not options.verify:
            warnings.warn(
                f"{vendor}: TLS certificate verification is turned off (verify = false)",
                RuntimeWarning,
                stacklevel=3,
            )
        for value in options.secrets():
            redact.register_secret(value)
        self._rng = random.Random(seed)
        self._send = backoff.on_exception(
            lambda: _waits(self._rng),
            _Retry,
            max_tries=options.max_retries + 1,
            max_time=options.max_retry_time,
            jitter=None,
            giveup=self._give_up,
            on_backoff=self._log_backoff,
            raise_on_giveup=True,
            logger=None,
        )(self._send_once)

    def _read_environment_once(self) -> None:
        # requests re-reads proxy and CA-bundle variables on every call (a scan of os.environ
        # that costs more than taskhub's own work per request); a hub reads them once.
        proxies = requests.utils.get_environ_proxies(self.base_url) if self.base_url else {}
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        self.session.trust_env = False
        self.session.proxies.update(proxies)
        if self.options.verify and bundle:
            self.session.verify = bundle

    def url(self, path: str) -> str:
        """An absolute URL for ``path`` (absolute URLs pass through)."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

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
        stream: bool = False,
        timeout: float | None = None,
    ) -> requests.Response:
        """Send one request with the retry policy; return the 2xx response or raise."""
        kwargs: dict[str, Any] = {
            "params": params,
            "json": json,
            "data": data,
            "files": files,
            "headers": headers,
            "stream": stream,
            "timeout": (self.options.connect_timeout, timeout or self.options.timeout),
        }
        started = time.monotonic()
        attempts = [0]
        try:
            response: requests.Response = self._send(
                method, self.url(path), operation, creates, kwargs, attempts, started
            )
        except _Retry as exc:
            raise exc.error from exc.error.__cause__
        return response

    def json(self, response: requests.Response, operation: str) -> Any:
        """The response body as JSON, or MalformedResponse saying what came instead."""
        try:
            return response.json()
        except ValueError as exc:
            kind = response.headers.get("Content-Type", "no content type")
            raise MalformedResponse(
                f"expected JSON, got {len(response.content)} bytes of {kind}",
                vendor=self.vendor,
                operation=operation,
                http_status=response.status_code,
                request_id=self._request_id(response, None),
            ) from scrubbed(exc)

    def request_json(self, method: str, path: str, *, operation: str, **kwargs: Any) -> Any:
        """:meth:`request`, then :meth:`json`.

        For a creating request an unreadable 2xx answer is :class:`OutcomeUnknown`: the
        server accepted the work, but what it created cannot be told from the answer.
        """
        response = self.request(method, path, operation=operation, **kwargs)
        try:
            return self.json(response, operation)
        except MalformedResponse as exc:
            if not kwargs.get("creates"):
                raise
            raise OutcomeUnknown(
                f"the answer to a create could not be read ({exc.message}); the work was "
                "accepted but what it created is unknown",
                vendor=self.vendor,
                operation=operation,
                http_status=exc.http_status,
            ) from exc

    def close(self) -> None:
        """Close the pooled connections (only when this transport made the session)."""
        if self._owns_session:
            self.session.close()

    # -- internals --------------------------------------------------------------------------------

    def _send_once(
        self,
        method: str,
        url: str,
        operation: str,
        creates: bool,
        kwargs: dict[str, Any],
        attempts: list[int],
        started: float,
    ) -> requests.Response:
        attempts[0] += 1
        t0 = time.monotonic()
        try:
            response = self.session.request(method, url, **kwargs)
        except requests.exceptions.SSLError as exc:
            # Nothing was sent, and asking again cannot make a certificate valid.
            self._log(method, url, "TLS failed", attempts[0], t0)
            raise VendorUnavailable(
                "TLS failed (certificate verification or handshake); fix the server's "
                "certificate or its CA bundle; verify = false turns checking off for testing",
                vendor=self.vendor,
                operation=operation,
            ) from scrubbed(exc)
        except (
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as exc:
            self._log(method, url, "body cut off", attempts[0], t0)
            self._fail_connection(exc, operation, creates, True, "the answer was cut off")
        except requests.ConnectionError as exc:
            self._log(method, url, "connection failed", attempts[0], t0)
            sent = not _never_sent(exc)
            self._fail_connection(
                exc,
                operation,
                creates,
                sent,
                "could not connect" if not sent else "the connection was lost",
            )
        except requests.Timeout as exc:
            self._log(method, url, "timed out", attempts[0], t0)
            self._fail_connection(
                exc, operation, creates, True, f"no answer within {kwargs['timeout'][1]} s"
            )
        except requests.RequestException as exc:
            raise VendorUnavailable(
                f"request failed: {type(exc).__name__}", vendor=self.vendor, operation=operation
            ) from scrubbed(exc)
        self._log(method, url, response.status_code, attempts[0], t0)
        if response.status_code >= 400:
            error = self._error(response, operation)
            retry_after = getattr(error, "retry_after", None)
            status = response.status_code
            # 429 proves the request was refused unprocessed, so even a create may repeat it.
            if status == 429 or (status in RETRY_STATUSES and not creates):
                raise _Retry(error, retry_after)
            if creates and status in (502, 504):
                raise OutcomeUnknown(
                    f"{error.message}; the request may or may not have been carried out",
                    vendor=self.vendor,
                    operation=operation,
                    http_status=status,
                    request_id=error.request_id,
                ) from error
            raise error
        if self.check is not None:
            try:
                self.check(response, operation)
            except (RateLimited, VendorUnavailable) as error:
                if creates and not isinstance(error, RateLimited):
                    raise
                raise _Retry(error, error.retry_after) from error
        return response

    def _fail_connection(
        self,
        exc: requests.RequestException,
        operation: str,
        creates: bool,
        sent: bool,
        what: str,
    ) -> None:
        if creates and sent:
            raise OutcomeUnknown(
                f"{what} after the request was sent; it may or may not have been carried out",
                vendor=self.vendor,
                operation=operation,
            ) from scrubbed(exc)
        error = VendorUnavailable(what, vendor=self.vendor, operation=operation)
        error.__cause__ = scrubbed(exc)
        raise _Retry(error, None) from exc

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

    def _give_up(self, exc: Exception) -> bool:
        retry_after = getattr(exc, "retry_after", None)
        return retry_after is not None and retry_after > self.options.max_retry_time

    def _log_backoff(self, details: Any) -> None:
        exc = details.get("exception")
        log.debug(
            "%s: retrying %s in %.2fs after %s",
            self.vendor,
            details["args"][2],
            details["wait"],
            exc.error if exc else "failure",
        )

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
