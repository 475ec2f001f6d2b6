"""Cognite execution and task-execution JSON -> Task."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from taskhub.errors import parsing
from taskhub.model import Task, parse_time

from .statuses import STATUSES

VENDOR = "cognite"


def parse_execution(payload: Any, backend: str) -> Task:
    """An execution (list item, run/cancel/retry answer or detailed execution) as a Task."""
    with parsing(VENDOR, "Cognite workflow execution"):
        return _execution(payload, backend)


#: The vendor's pure parser (``CogniteAdapter.parser``): one execution, its executed tasks as
#: subtasks.
parse_payload = parse_execution


def parse_task(payload: Any, backend: str, parent_id: str | None = None) -> Task:
    """A task execution (``executedTasks[]`` element or task-update answer) as a Task."""
    with parsing(VENDOR, "Cognite task execution"):
        return _task(payload, backend, parent_id)


def _required_str(payload: dict[str, Any], key: str) -> str:
    value = payload[key]
    if not isinstance(value, str) or not value:
        raise TypeError(f"{key} must be a non-empty string")
    return value


def _execution(payload: Any, backend: str) -> Task:
    if not isinstance(payload, dict):
        raise TypeError(f"expected an object, got {type(payload).__name__}")
    execution_id = _required_str(payload, "id")
    workflow = _required_str(payload, "workflowExternalId")
    created = parse_time(payload["createdTime"])
    started, ended = parse_time(payload.get("startTime")), parse_time(payload.get("endTime"))
    executed = payload.get("executedTasks")
    subtasks = tuple(
        _task(item, backend, execution_id)
        for item in (executed if isinstance(executed, list) else [])
    )
    updated = _latest([created, started, ended, *(t.updated_at for t in subtasks)])
    status = STATUSES.normalize(
        payload["status"],
        "execution",
        message=_text(payload.get("reasonForIncompletion")),
        updated_at=updated,
    )
    params: dict[str, Any] = {"workflow": workflow, "version": payload.get("version")}
    for key in ("input", "metadata"):
        if payload.get(key) is not None:
            params[key] = payload[key]
    return Task(
        backend=backend,
        vendor=VENDOR,
        id=execution_id,
        status=status,
        kind="execution",
        subtasks=subtasks,
        params=params,
        created_at=created,
        started_at=started,
        updated_at=updated,
        finished_at=ended,
        raw=payload,
    )


def _task(payload: Any, backend: str, parent_id: str | None) -> Task:
    if not isinstance(payload, dict):
        raise TypeError(f"expected an object, got {type(payload).__name__}")
    task_id = _required_str(payload, "id")
    started, ended = parse_time(payload.get("startTime")), parse_time(payload.get("endTime"))
    updated = _latest([started, ended])
    status = STATUSES.normalize(
        payload["status"],
        "task",
        message=_text(payload.get("reasonForIncompletion")),
        updated_at=updated,
    )
    task_input = payload.get("input")
    params: dict[str, Any] = {"external_id": payload.get("externalId")}
    if task_input is not None:
        params["input"] = task_input
    if payload.get("parentTaskExternalId"):
        params["parent_task"] = payload["parentTaskExternalId"]
    kind = payload.get("taskType")
    return Task(
        backend=backend,
        vendor=VENDOR,
        id=task_id,
        status=status,
        kind=kind if isinstance(kind, str) else None,
        parent_id=parent_id,
        params=params,
        output=payload.get("output"),
        started_at=started,
        updated_at=updated,
        finished_at=ended,
        raw=payload,
    )


def _latest(times: list[datetime | None]) -> datetime | None:
    known = [t for t in times if t is not None]
    return max(known) if known else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
