"""The options every adapter takes, the field helpers for secrets and URLs, and the error a
field validator raises (:class:`InvalidOption`).

A leaf module for shared declarations (it imports nothing of taskhub's but the redactor), so
the model, the transport, the configuration loader and the adapters can all use it without an
import cycle.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

import attrs

from taskhub import redact


class InvalidOption(ValueError):
    """A field validator refused a value; ``str()`` is ``"name: what is wrong"``.

    :func:`taskhub.model.describe_error` turns it into ``path.name: problem``, the same shape
    as a type error found while structuring. The problem never quotes the value: it may be a
    credential. (``taskhub.model.InvalidOption`` is the same class.)
    """

    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        self.problem = problem
        super().__init__(f"{name}: {problem}")


def _secret_text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None or not isinstance(value, str):
        return  # optional secrets; the converter has already refused other types
    if not value.strip():
        raise InvalidOption(attribute.name, "must not be empty")
    # A pasted key with a trailing newline or an inner space is a mistake that would
    # otherwise surface as a baffling 401 (or a header injection) much later.
    if any(c.isspace() or not c.isprintable() for c in value):
        raise InvalidOption(attribute.name, "must not contain white space or control characters")


def secret(**kwargs: Any) -> Any:
    """An options field that holds a credential: masked in repr, scrubbed from every log.

    A value that is empty, blank, or holds white space or control characters is refused.
    """
    metadata = {**kwargs.pop("metadata", {}), "secret": True}
    extra = kwargs.pop("validator", None)
    validators = [_secret_text, *([extra] if extra is not None else [])]
    return attrs.field(
        repr=lambda v: "***" if v else repr(v), metadata=metadata, validator=validators, **kwargs
    )


def _http_url(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None or not isinstance(value, str):
        return
    problem = InvalidOption(attribute.name, "must be an http:// or https:// URL with a host")
    if any(c.isspace() or not c.isprintable() for c in value):
        raise problem
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - parsing the port is what validates it
    except ValueError:
        raise problem from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise problem


def _url_repr(value: object) -> str:
    return repr(redact.url(value)) if isinstance(value, str) and value else repr(value)


def url_field(**kwargs: Any) -> Any:
    """An options field that holds an endpoint URL: http or https with a host, else refused.

    Its repr goes through :func:`taskhub.redact.url`, so ``user:password@`` and secret query
    parameters (``?key=``, ``?client_secret=`` ...) never show.
    """
    extra = kwargs.pop("validator", None)
    validators = [_http_url, *([extra] if extra is not None else [])]
    return attrs.field(repr=_url_repr, validator=validators, **kwargs)


def finite_positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    # ``not value > 0`` on its own would let inf through, and ``value <= 0`` lets nan through.
    if not (math.isfinite(value) and value > 0):
        raise InvalidOption(attribute.name, "must be a finite number greater than 0")


def _not_negative(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 0:
        raise InvalidOption(attribute.name, "must not be negative")


@attrs.frozen(kw_only=True)
class Options:
    """Options every adapter takes. Vendors subclass this (kw_only) and add their own."""

    #: Seconds to wait for the server's answer.
    timeout: float = attrs.field(default=30.0, validator=finite_positive)
    #: Seconds to wait for a connection.
    connect_timeout: float = attrs.field(default=5.0, validator=finite_positive)
    #: How many times a failed request may be retried (where retrying is safe).
    max_retries: int = attrs.field(default=4, validator=_not_negative)
    #: The longest time, in seconds, retries of one request may take: no retry, its wait
    #: included, ends later than this after the call started.
    max_retry_time: float = attrs.field(default=60.0, validator=finite_positive)
    #: Seconds one call may take in all: connect, every read and every retry. Enforced on
    #: the socket, so a server that drips its answer a byte at a time cannot hold a call.
    deadline: float = attrs.field(default=120.0, validator=finite_positive)
    #: The largest API answer, in decoded bytes, taskhub reads (default 16 MiB, far above any
    #: real answer); a larger one, or a gzip body that inflates past it, is ResponseTooLarge.
    max_response_bytes: int = attrs.field(
        default=16 * 1024 * 1024, validator=attrs.validators.gt(0)
    )
    #: Requests per second to this backend from the whole process (None: no limit); a 429
    #: pauses every caller of the backend for its Retry-After either way.
    max_requests_per_second: float | None = attrs.field(
        default=None, validator=attrs.validators.optional(finite_positive)
    )
    #: How many reads run at once for a vendor that has no batch read (Vionlabs).
    max_concurrency: int = attrs.field(default=8, validator=attrs.validators.gt(0))
    #: The most pages one listing walk follows before it stops with MalformedResponse.
    max_pages: int = attrs.field(default=10_000, validator=attrs.validators.gt(0))
    #: Verify TLS certificates. Turning this off warns once per hub.
    verify: bool = True
    #: First wait, in seconds, between polls by ``wait``/``watch`` (default: the vendor's).
    poll_interval: float | None = attrs.field(
        default=None, validator=attrs.validators.optional(finite_positive)
    )
    #: Longest wait between polls (default: the vendor's).
    poll_max: float | None = attrs.field(
        default=None, validator=attrs.validators.optional(finite_positive)
    )
    #: Seconds without any change after which ``wait`` reports a task as stale.
    stale_after: float | None = attrs.field(
        default=None, validator=attrs.validators.optional(finite_positive)
    )

    def secrets(self) -> list[str]:
        """The values of every secret field, for redaction."""
        return [
            value
            for a in attrs.fields(type(self))
            if a.metadata.get("secret")
            and isinstance(value := getattr(self, a.name), str)
            and value
        ]
