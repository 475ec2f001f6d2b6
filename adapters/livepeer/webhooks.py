"""Verifying and parsing Livepeer webhook deliveries.

``Livepeer-Signature: t=<ms>,v1=<hex>`` where ``<hex>`` is the HMAC-SHA256 of the raw body keyed
with the webhook's shared secret. ``t`` is not signed; the body's ``timestamp`` is, so that is
what the replay window is checked against. The header comes from whoever sent the request, so
anything in it that is not that shape is refused as ``bad_signature``, never an exception of
another type.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import attrs

from taskhub.errors import MalformedResponse, WebhookRejected
from taskhub.http import parse_json
from taskhub.model import Task

from .parse import VENDOR, parse_task

HEADER = "Livepeer-Signature"
#: A real header is ~80 characters; anything far longer is not worth parsing.
MAX_HEADER_LENGTH = 1024
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}", re.ASCII)
#: Events that carry a task snapshot.
TASK_EVENTS = frozenset({"task.spawned", "task.updated", "task.completed", "task.failed"})


@attrs.frozen
class WebhookEvent:
    """One verified task event: its id (de-duplicate on it), its name and the task snapshot."""

    id: str
    event: str
    task: Task
    webhook_id: str | None
    created_at: int | None
    timestamp: int


class SeenEvents:
    """Remembers the last ``size`` event ids, so a redelivered event is refused once seen."""

    def __init__(self, size: int = 10_000) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def add(self, event_id: str) -> bool:
        """Record ``event_id``; False when it was already there."""
        with self._lock:
            if event_id in self._ids:
                self._ids.move_to_end(event_id)
                return False
            self._ids[event_id] = None
            if len(self._ids) > self._size:
                self._ids.popitem(last=False)
            return True

    def forget(self, event_id: str) -> None:
        """Drop ``event_id``, so a redelivery after your handler failed is accepted again."""
        with self._lock:
            self._ids.pop(event_id, None)

    def __contains__(self, event_id: object) -> bool:
        with self._lock:
            return event_id in self._ids

    def __len__(self) -> int:
        with self._lock:
            return len(self._ids)


#: What :func:`parse_webhook` de-duplicates with when the caller passes nothing. Livepeer event
#: ids are UUIDs, so one memory per process serves every webhook and secret.
DEFAULT_SEEN = SeenEvents()


def sign(body: bytes, secret: str, timestamp_ms: int) -> str:
    """The ``Livepeer-Signature`` header value for ``body``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"t={timestamp_ms},v1={digest}"


def parse_webhook(
    body: bytes,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: float = 300.0,
    now: float | None = None,
    seen: SeenEvents | None = DEFAULT_SEEN,
    backend: str = VENDOR,
) -> WebhookEvent:
    """Verify one delivery and return its event; raise WebhookRejected with a reason if not.

    ``tolerance`` is the replay window in seconds around the signed body ``timestamp``.

    Redeliveries are refused by default: ``seen`` remembers the ids of verified events (the
    last 10,000, in the process-wide :data:`DEFAULT_SEEN`) and a second delivery of one is
    ``WebhookRejected(reason="duplicate")``; answer it 2xx, you already have the event. Pass
    your own :class:`SeenEvents` to scope the memory, call ``seen.forget(event.id)`` when your
    handler fails so the vendor's redelivery gets through, or pass ``seen=None`` to turn
    de-duplication off (only when you de-duplicate on ``event.id`` yourself, e.g. across
    processes).

    A missing header is ``missing_signature``; a header that is not ``t=...,v1=<64 hex>``
    (empty, non-ASCII, oversized, a malformed ``v1``) or does not match is ``bad_signature``.
    """
    if not isinstance(body, (bytes, bytearray)):
        raise WebhookRejected("the body must be the raw bytes received", reason="malformed")
    if not secret:
        raise WebhookRejected("no webhook secret configured", reason="no_secret")
    header = _header(headers)
    if header is None:
        raise WebhookRejected(f"no {HEADER} header", reason="missing_signature")
    signatures = _signatures(header)
    if not signatures:
        raise WebhookRejected(f"{HEADER} has no v1 signature", reason="missing_signature")
    expected = hmac.new(secret.encode(), bytes(body), hashlib.sha256).hexdigest().encode()
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        raise WebhookRejected("the signature does not match the body", reason="bad_signature")
    try:
        data = parse_json(bytes(body))
    except ValueError:
        raise WebhookRejected("the body is not JSON", reason="malformed") from None
    if not isinstance(data, dict):
        raise WebhookRejected("the body is not a JSON object", reason="malformed")
    timestamp = _timestamp(data.get("timestamp"))
    current = time.time() if now is None else now
    age = current - timestamp / 1000
    if abs(age) > tolerance:
        raise WebhookRejected(
            f"the delivery is {age:.0f} s away from now (tolerance {tolerance:g} s)",
            reason="stale",
        )
    event_id, event = data.get("id"), data.get("event")
    if not isinstance(event_id, str) or not isinstance(event, str):
        raise WebhookRejected("the body has no event id or name", reason="malformed")
    if event not in TASK_EVENTS:
        raise WebhookRejected(f"{event!r} is not a task event", reason="not_a_task_event")
    task = _snapshot(data, backend)
    if seen is not None and not seen.add(event_id):
        raise WebhookRejected(f"event {event_id} was already received", reason="duplicate")
    created = data.get("createdAt")
    return WebhookEvent(
        id=event_id,
        event=event,
        task=task,
        webhook_id=data.get("webhookId") if isinstance(data.get("webhookId"), str) else None,
        created_at=created if isinstance(created, int) else None,
        timestamp=int(timestamp),
    )


def _header(headers: Mapping[str, str]) -> object:
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == HEADER.lower():
            return value
    return None


def _signatures(header: object) -> list[bytes]:
    """The ``v1`` signatures of ``header`` as ASCII bytes; [] when there is none.

    Everything else that is not the documented shape is refused here, before any comparison:
    ``hmac.compare_digest`` raises TypeError on non-ASCII text, and a huge header is work an
    unauthenticated sender should not get to make us do.
    """

    def bad(why: str) -> WebhookRejected:
        return WebhookRejected(f"{HEADER} is malformed: {why}", reason="bad_signature")

    if not isinstance(header, str):
        raise bad("not text")
    if len(header) > MAX_HEADER_LENGTH:
        raise bad(f"longer than {MAX_HEADER_LENGTH} characters")
    if not header.isascii() or not header.isprintable():
        raise bad("not printable ASCII")
    pairs = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep or not key.strip():
            raise bad("expected comma-separated key=value pairs")
        pairs.append((key.strip(), value.strip()))
    signatures = []
    for key, value in pairs:
        if key != "v1":
            continue
        value = value.lower()
        if not _HEX_SHA256.fullmatch(value):
            raise bad("v1 is not a hex SHA-256 digest")
        signatures.append(value.encode("ascii"))
    return signatures


def _timestamp(value: object) -> float:
    """The body's ``timestamp`` (epoch ms) as a finite number, or WebhookRejected."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if math.isfinite(number):
            return number
    raise WebhookRejected("the body has no finite numeric timestamp", reason="malformed")


def _snapshot(data: dict[str, Any], backend: str) -> Task:
    payload = data.get("payload")
    task = payload.get("task") if isinstance(payload, dict) else None
    snapshot = task.get("snapshot") if isinstance(task, dict) else None
    try:
        return parse_task(snapshot, backend)
    except MalformedResponse as exc:
        raise WebhookRejected(
            f"the task snapshot is malformed: {exc.message}", reason="malformed"
        ) from exc
