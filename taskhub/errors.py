"""One exception tree for everything taskhub raises.

Each error also subclasses the builtin it stands for, as requests' do, so code that catches
builtins keeps working: InvalidRequest, InvalidTransition, ConfigError and MalformedResponse
are ValueErrors, TaskNotFound a LookupError, AuthError a PermissionError, VendorUnavailable a
ConnectionError, WaitTimeout and DeadlineExceeded TimeoutErrors, UnsupportedOperation a
NotImplementedError, DownloadError an OSError.

Every error carries where it happened (vendor, operation), what the vendor said (HTTP status,
vendor error code, request id) and never a secret: the message is scrubbed on the way in, so a
vendor that echoes a token back in its error text cannot leak it through ``str(error)``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from taskhub import redact

if TYPE_CHECKING:
    from taskhub.model import Task


class TaskhubError(Exception):
    """Root of every exception taskhub raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        vendor: str | None = None,
        operation: str | None = None,
        http_status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.message = redact.text(message)
        self.vendor = vendor
        self.operation = operation
        self.http_status = http_status
        self.code = code
        self.request_id = request_id
        super().__init__(self.message)

    def __str__(self) -> str:
        where = " ".join(p for p in (self.vendor, self.operation) if p)
        details = []
        if self.http_status is not None:
            details.append(f"HTTP {self.http_status}")
        if self.code:
            details.append(f"code {self.code}")
        if self.request_id:
            details.append(f"request id {self.request_id}")
        text = f"{where}: {self.message}" if where else self.message
        return f"{text} ({', '.join(details)})" if details else text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class ConfigError(TaskhubError, ValueError):
    """Configuration is missing, malformed, or names something that does not exist."""

    def __init__(self, message: str, *, path: str | None = None, **kw: Any) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message, **kw)


class UnsupportedOperation(TaskhubError, NotImplementedError):
    """The vendor has no such operation; ``alternative`` names the nearest real one."""

    def __init__(self, vendor: str, operation: str, alternative: str | None = None) -> None:
        self.alternative = alternative
        text = f"{vendor} does not support {operation}"
        if alternative:
            text += f"; {alternative}"
        super().__init__(text, vendor=vendor, operation=operation)

    def __str__(self) -> str:
        return self.message


class InvalidTransition(TaskhubError, ValueError):
    """A commanded state change (``report``) is not legal from the task's last known state."""


class InvalidRequest(TaskhubError, ValueError):
    """Bad input: caught before sending, or refused by the vendor with 400/413/422."""

    def __init__(self, message: str, *, field: str | None = None, **kw: Any) -> None:
        self.field = field
        super().__init__(message, **kw)


class WebhookRejected(InvalidRequest):
    """A webhook delivery was refused; ``reason`` says why (``bad_signature``, ``stale`` ...)."""

    def __init__(self, message: str, *, reason: str, **kw: Any) -> None:
        self.reason = reason
        super().__init__(message, **kw)


class AuthError(TaskhubError, PermissionError):
    """The vendor refused the credentials (401) or the rights they carry (403)."""


class TaskNotFound(TaskhubError, LookupError):
    """No task with that id (404). Never reported as a status."""

    def __init__(self, message: str, *, task_id: str | None = None, **kw: Any) -> None:
        self.task_id = task_id
        super().__init__(message, **kw)


class Conflict(TaskhubError):
    """The request conflicts with the task's current state (409, 412, or a vendor code)."""


class RateLimited(TaskhubError):
    """Too many requests (429), still refused after the allowed retries."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)


class VendorUnavailable(TaskhubError, ConnectionError):
    """5xx answers or connection trouble that outlasted the retries."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)


class OutcomeUnknown(VendorUnavailable):
    """A creating request was sent but no answer came back: it may or may not have taken effect.

    ``lookup`` holds what is needed to find the result (for example a correlation id or the
    submitted spec), so the caller can check before submitting again instead of duplicating.
    """

    def __init__(self, message: str, *, lookup: dict[str, Any] | None = None, **kw: Any) -> None:
        self.lookup = dict(lookup or {})
        super().__init__(message, **kw)


class DeadlineExceeded(VendorUnavailable, TimeoutError):
    """The call's ``deadline`` (connect, every read and every retry together) passed.

    A server that answers slowly on purpose, one byte at a time, ends here instead of holding
    the caller. ``deadline`` is the number of seconds the call was given.
    """

    def __init__(self, message: str, *, deadline: float | None = None, **kw: Any) -> None:
        self.deadline = deadline
        super().__init__(message, **kw)


class DownloadError(TaskhubError, OSError):
    """A file could not be downloaded; ``reason`` is ``not_found``, ``not_allowed``,
    ``timeout``, ``connection_refused``, ``too_large``, ``unsafe_name`` or ``error``."""

    def __init__(self, message: str, *, reason: str, **kw: Any) -> None:
        self.reason = reason
        super().__init__(message, **kw)


class MalformedResponse(TaskhubError, ValueError):
    """The vendor answered with something that is not the documented shape."""


@contextlib.contextmanager
def parsing(vendor: str, what: str) -> Iterator[None]:
    """Report any shape error inside the block (a missing key, a wrong type, an id that cannot
    be formed ...) as MalformedResponse: a vendor's odd JSON is never a crash."""
    try:
        yield
    except MalformedResponse:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, InvalidRequest) as exc:
        raise MalformedResponse(
            f"not a {what}: {type(exc).__name__}: {exc}", vendor=vendor, operation="parse"
        ) from None


class ResponseTooLarge(MalformedResponse):
    """An API answer was larger, once decoded, than ``max_response_bytes``; reading stopped
    there (a gzip body that inflates without end is refused the same way)."""

    def __init__(self, message: str, *, limit: int | None = None, **kw: Any) -> None:
        self.limit = limit
        super().__init__(message, **kw)


class OriginRefused(MalformedResponse):
    """The server pointed taskhub elsewhere — a redirect or a paging link to another origin, or
    from HTTPS to plain HTTP — and credentials are only ever sent to the configured origin."""

    def __init__(self, message: str, *, location: str | None = None, **kw: Any) -> None:
        #: Where the server pointed, with any credential in it masked.
        self.location = None if location is None else redact.url(location)
        super().__init__(message, **kw)


class UnknownStatus(MalformedResponse):
    """A status word not in the vendor's table, raised only in ``strict`` mode."""

    def __init__(self, vendor: str, word: str) -> None:
        self.word = word
        super().__init__(f"unknown status word {word!r}", vendor=vendor, operation="normalize")


class WaitTimeout(TaskhubError, TimeoutError):
    """``wait`` gave up before the task finished; ``task`` is the last one seen."""

    def __init__(self, message: str, *, task: Task | None = None, **kw: Any) -> None:
        self.task = task
        super().__init__(message, **kw)


class StaleTask(WaitTimeout):
    """``wait`` saw no change in the task for ``stale_after`` seconds (it may be stuck)."""

    def __init__(
        self, message: str, *, task: Task | None = None, since: float = 0.0, **kw: Any
    ) -> None:
        self.since = since
        super().__init__(message, task=task, **kw)


class UnknownStatusWarning(UserWarning):
    """A vendor sent a status word taskhub does not know; it was normalized to ``unknown``."""
