"""Verifying and parsing Livepeer webhook deliveries.

``Livepeer-Signature: t=<ms>,v1=<hex>`` where ``<hex>`` is the HMAC-SHA256 of the raw body keyed
with the webhook's shared secret. ``t`` is not signed; the body's ``timestamp`` is, so that is
what the replay window is checked against.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import attrs

from taskhub.errors import MalformedResponse, WebhookRejected
from taskhub.model import Task

from .parse import VENDOR, parse_task

HEADER = "Livepeer-Signature"
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
    seen: SeenEvents | None = None,
    backend: str = VENDOR,
) -> WebhookEvent:
    """Verify one delivery and return its event; raise WebhookRejected with a reason if not.

    ``tolerance`` is the replay window in seconds around the signed body ``timestamp``;
    ``seen`` de-duplicates redeliveries by event id.
    """
    if not isinstance(body, (bytes, bytearray)):
        raise WebhookRejected("the body must be the raw bytes received", reason="malformed")
    if not secret:
        raise WebhookRejected("no webhook secret configured", reason="no_secret")
    header = _header(headers)
    if header is None:
        raise WebhookRejected(f"no {HEADER} header", reason="missing_signature")
    signatures = [v for k, v in _pairs(header) if k == "v1"]
    if not signatures:
        raise WebhookRejected(f"{HEADER} has no v1 signature", reason="missing_signature")
    expected = hmac.new(secret.encode(), bytes(body), hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, s.lower()) for s in signatures):
        raise WebhookRejected("the signature does not match the body", reason="bad_signature")
    try:
        data = json.loads(body)
    except ValueError:
        raise WebhookRejected("the body is not JSON", reason="malformed") from None
    if not isinstance(data, dict):
        raise WebhookRejected("the body is not a JSON object", reason="malformed")
    timestamp = data.get("timestamp")
    if not isinstance(timestamp, (int, float)) or isinstance(timestamp, bool):
        raise WebhookRejected("the body has no numeric timestamp", reason="malformed")
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


def _header(headers: Mapping[str, str]) -> str | None:
    for key, value in headers.items():
        if key.lower() == HEADER.lower():
            return value
    return None


def _pairs(header: str) -> list[tuple[str, str]]:
    pairs = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if sep:
            pairs.append((key.strip(), value.strip()))
    return pairs


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
