"""Veritone aiWARE Edge JobDetail and TaskDetail JSON -> Task."""

from __future__ import annotations

from typing import Any

from taskhub.errors import parsing
from taskhub.http import parse_json
from taskhub.model import Task, parse_time

from .statuses import STATUSES

VENDOR = "veritone-edge"


def parse_payload(payload: Any, backend: str) -> Task:
    """A ``JobDetail`` (its ``tasks`` become subtasks); the vendor's pure parser
    (``EdgeAdapter.parser``)."""
    with parsing(VENDOR, "Edge JobDetail"):
        return _job(payload, backend)


def parse_task(payload: Any, backend: str) -> Task:
    """A ``TaskDetail``."""
    with parsing(VENDOR, "Edge TaskDetail"):
        return _task(payload, backend)


def _job(payload: Any, backend: str) -> Task:
    job_id = _str(payload, "internalJobID")
    tasks = payload.get("tasks") or []
    if not isinstance(tasks, list):
        raise TypeError("tasks must be a list")
    subtasks = tuple(_task(t, backend) for t in tasks)
    updated = parse_time(payload.get("modifiedDateTime"))
    status = STATUSES.normalize(payload.get("jobStatus"), "job", updated_at=updated)
    params = {
        k: payload[k]
        for k in ("internalOrganizationID", "priority", "jobConfigJSON")
        if payload.get(k) not in (None, "")
    }
    return Task(
        backend=backend,
        vendor=VENDOR,
        id=job_id,
        status=status,
        kind="job",
        subtasks=subtasks,
        params=params,
        created_at=parse_time(payload.get("createdDateTime")),
        started_at=parse_time(payload.get("startedDateTime")),
        updated_at=updated,
        finished_at=parse_time(payload.get("completedDateTime") or payload.get("abortedDateTime"))
        or (
            max((t.finished_at for t in subtasks if t.finished_at), default=None)
            if status.state.terminal
            else None
        ),
        raw=payload,
    )


def _task(payload: Any, backend: str) -> Task:
    task_id = _str(payload, "internalTaskID")
    updated = parse_time(payload.get("modifiedDateTime"))
    # A field without a value may come absent, empty or null (the spec types them as
    # non-nullable strings); FailureReasonEnum's "none" is no reason either.
    reason = payload.get("failureReason")
    status = STATUSES.normalize(
        payload.get("taskStatus"),
        "task",
        reason=reason if reason and reason != "none" else None,
        message=payload.get("failureDetail") or None,
        updated_at=updated,
    )
    params: dict[str, Any] = {}
    for key, name in (("payloadJSON", "payload"), ("taskPayloadJSON", "task_payload")):
        if payload.get(key):
            params[name] = maybe_json(payload[key])
    if payload.get("engineName"):
        params["engine_name"] = payload["engineName"]
    # The spec spells the output field taskOutputSON; accept the obvious spelling too.
    output = payload.get("taskOutputSON", payload.get("taskOutputJSON"))
    return Task(
        backend=backend,
        vendor=VENDOR,
        id=task_id,
        status=status,
        kind=payload.get("engineID") or None,
        parent_id=payload.get("internalJobID"),
        params=params,
        output=maybe_json(output) if output else None,
        created_at=parse_time(payload.get("createdDateTime")),
        started_at=parse_time(payload.get("startedDateTime")),
        updated_at=updated,
        finished_at=parse_time(payload.get("completedDateTime") or payload.get("abortedDateTime")),
        raw=payload,
    )


def _str(payload: Any, key: str) -> str:
    if not isinstance(payload, dict):
        raise TypeError(f"expected an object, got {type(payload).__name__}")
    value = payload[key]
    if not isinstance(value, str) or not value:
        raise TypeError(f"{key} must be a non-empty string")
    return value


def maybe_json(value: Any) -> Any:
    """A string field that holds JSON, decoded; anything else as it is."""
    if isinstance(value, str):
        try:
            return parse_json(value.encode("utf-8", "surrogatepass"))
        except ValueError:
            return value
    return value
