"""What the store's writer and reader share: a committed transition, and rows read back."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import attrs

from taskhub.model import CUT, Status, Task
from taskhub.states import State

from .schema import SUBTASK, TASK

UTC = timezone.utc

#: A row of ``taskhub_counts``: (backend, vendor, level, state).
CountKey = tuple[str, str, str, str]


@attrs.frozen
class Recorded:
    """A transition the store committed (what metrics count)."""

    ref: str
    backend: str
    vendor: str
    before: State | None
    after: State
    at: datetime
    seq: int
    #: Seconds from the task's creation (or first sighting) to ``at``, for a terminal state.
    duration: float | None
    #: ``"task"`` for a unit of work, ``"subtask"`` for one of its parts.
    level: str = TASK


def level_of(parent_id: str | None) -> str:
    """A task's level: a unit of work has no parent."""
    return TASK if parent_id is None else SUBTASK


def utc(value: datetime | None) -> datetime | None:
    """``value`` as an aware UTC datetime: SQLite gives back naive ones (that are UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    """The one textual form of a stored time."""
    value = utc(value)
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def loaded_status(row: Any) -> Status:
    """The Status a ``taskhub_tasks`` row keeps."""
    return Status(
        state=State.parse(row.state),
        raw=row.raw,
        vendor=row.vendor,
        reason=row.reason,
        message=row.message,
        retryable=row.retryable,
        progress=row.progress,
        retries=row.retries,
        updated_at=utc(row.status_updated_at),
    )


#: A listing row shows this much of a message (the task's own read shows all it keeps).
BRIEF_MESSAGE = 500
#: A listing row whose task JSON is larger keeps its first :data:`BRIEF_ITEMS` inputs and
#: outputs and drops its params and output (``"truncated": true``).
BRIEF_SIZE = 16 * 1024
BRIEF_ITEMS = 10


def brief(row: Any) -> dict[str, Any]:
    """A row's task JSON as a listing shows it: bounded, so a page of a thousand rows stays
    small whatever one vendor answered. Subtasks are rows of their own (``parent=REF``)."""
    data = row_json(row)
    status = data.get("status") or {}
    message = status.get("message")
    if isinstance(message, str) and len(message) > BRIEF_MESSAGE:
        status["message"] = message[: BRIEF_MESSAGE - len(CUT)] + CUT
    data["subtasks"] = []
    if row.task_json and len(row.task_json) > BRIEF_SIZE:
        data["inputs"] = data.get("inputs", [])[:BRIEF_ITEMS]
        data["outputs"] = data.get("outputs", [])[:BRIEF_ITEMS]
        data["params"], data["output"], data["truncated"] = {}, None, True
    return data


def row_json(row: Any) -> dict[str, Any]:
    """The task JSON a row keeps (the masked ``Task.to_dict()``)."""
    if row.task_json:
        data: dict[str, Any] = json.loads(row.task_json)
        return data
    # A row written by schema version 1.
    return Task(row.backend, row.vendor, row.task_id, loaded_status(row), kind=row.kind).to_dict()
