"""Veritone job and task JSON -> Task; asset JSON -> Asset."""

from __future__ import annotations

from typing import Any

from taskhub.errors import parsing
from taskhub.model import Asset, Task, parse_time

from .statuses import STATUSES

VENDOR = "veritone"


def parse_job(payload: Any, backend: str) -> Task:
    """A ``Job`` (with ``tasks.records`` when selected) as a Task of kind ``job``."""
    with parsing(VENDOR, "Veritone job"):
        return _job(payload, backend)


#: The vendor's pure parser (``VeritoneAdapter.parser``): one job, its ``tasks.records`` as
#: subtasks.
parse_payload = parse_job


def parse_task(payload: Any, backend: str) -> Task:
    """A ``Task`` as a Task whose kind is its engine id."""
    with parsing(VENDOR, "Veritone task"):
        return _task(payload, backend)


def parse_asset(payload: Any) -> Asset:
    """An ``Asset`` (``signedUri`` becomes ``uri``; it is a secret in every repr)."""
    with parsing(VENDOR, "Veritone asset"):
        return _asset(payload)


def _id(payload: Any) -> str:
    if not isinstance(payload, dict):
        raise TypeError(f"expected an object, got {type(payload).__name__}")
    value = payload["id"]
    if not isinstance(value, (str, int)) or isinstance(value, bool) or str(value) == "":
        raise TypeError("id must be a non-empty string")
    return str(value)


def _job(payload: Any, backend: str) -> Task:
    job_id = _id(payload)
    records = ((payload.get("tasks") or {}).get("records")) or []
    if not isinstance(records, list):
        raise TypeError("tasks.records must be a list")
    subtasks = tuple(_task(r, backend) for r in records)
    updated = parse_time(payload.get("modifiedDateTime"))
    status = STATUSES.normalize(payload.get("status"), "job", updated_at=updated)
    started = [t.started_at for t in subtasks if t.started_at is not None]
    finished = [t.finished_at for t in subtasks if t.finished_at is not None]
    params = {k: payload[k] for k in ("targetId", "clusterId") if payload.get(k) is not None}
    return Task(
        backend=backend,
        vendor=VENDOR,
        id=job_id,
        status=status,
        kind="job",
        subtasks=subtasks,
        params=params,
        created_at=parse_time(payload.get("createdDateTime")),
        started_at=min(started) if started else None,
        updated_at=updated,
        finished_at=max(finished) if status.state.terminal and finished else None,
        raw=payload,
    )


def _task(payload: Any, backend: str) -> Task:
    task_id = _id(payload)
    updated = parse_time(payload.get("modifiedDateTime"))
    reason = payload.get("failureReason")
    message = payload.get("failureMessage")
    output = payload.get("output")
    if not message and isinstance(output, dict) and isinstance(output.get("error"), str):
        message = output["error"]
    status = STATUSES.normalize(
        payload.get("status"),
        "task",
        reason=reason if isinstance(reason, str) else None,
        message=message if isinstance(message, str) else None,
        updated_at=updated,
    )
    engine = payload.get("engineId") or (payload.get("engine") or {}).get("id")
    params: dict[str, Any] = {}
    if payload.get("payload") is not None:
        params["payload"] = payload["payload"]
    if (payload.get("engine") or {}).get("name"):
        params["engine_name"] = payload["engine"]["name"]
    inputs = (Asset(id=str(payload["targetId"]), kind="tdo"),) if payload.get("targetId") else ()
    return Task(
        backend=backend,
        vendor=VENDOR,
        id=task_id,
        status=status,
        kind=str(engine) if engine else None,
        parent_id=str(payload["jobId"]) if payload.get("jobId") else None,
        inputs=inputs,
        params=params,
        output=output,
        created_at=parse_time(payload.get("createdDateTime")),
        started_at=parse_time(payload.get("startedDateTime")),
        updated_at=updated,
        finished_at=parse_time(payload.get("completedDateTime")),
        raw=payload,
    )


def _asset(payload: Any) -> Asset:
    asset_id = _id(payload)
    size = (payload.get("fileData") or {}).get("size")
    return Asset(
        id=asset_id,
        uri=payload.get("signedUri") or payload.get("uri"),
        content_type=payload.get("contentType"),
        kind=payload.get("type") or payload.get("assetType"),
        name=payload.get("name"),
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        created_at=parse_time(payload.get("createdDateTime")),
    )
