"""What a wait ends with, as the plain JSON an Airflow TriggerEvent carries (no Airflow here).

The trigger builds one payload when it stops following a task; the operators, the sensor and
the worker-side wait read it back. A payload is::

    {"outcome": "succeeded" | "failed" | "cancelled" | "skipped"     # the task's end state
              | "timeout" | "stale" | "error",                      # or why waiting stopped
     "ref": "media:3f0c…", "state": "failed", "raw": "error", "reason": ..., "message": ...,
     "retryable": ..., "task": {...Task.to_dict(), masked...} or None, "error": "TaskNotFound"}

``task`` is the last task seen, rendered with the hub's redaction (no secret in it).
"""

from __future__ import annotations

from typing import Any

from taskhub import redact
from taskhub.hub import TaskHub
from taskhub.model import Task

#: Outcomes that are a task's end state; the others say why the wait stopped first.
FINISHED = ("succeeded", "failed", "cancelled", "skipped")
TIMEOUT, STALE, ERROR = "timeout", "stale", "error"


def task_dict(hub: TaskHub, task: Task) -> dict[str, Any]:
    """``task.to_dict()`` rendered with the policy of the hub that read it (this hub's, for
    a task rebuilt from JSON): its own secret values masked too."""
    return task.to_dict(policy=task.policy or hub.policy)


def finished(hub: TaskHub, task: Task) -> dict[str, Any]:
    """The payload for a task in its end state."""
    return {
        "outcome": task.state.value,
        **_status(task, hub.policy),
        "task": task_dict(hub, task),
        "error": None,
    }


def stopped(
    outcome: str,
    ref: str,
    message: str,
    *,
    hub: TaskHub | None = None,
    task: Task | None = None,
    error: BaseException | None = None,
) -> dict[str, Any]:
    """The payload for a wait that stopped before the task finished (``timeout``, ``stale``,
    ``error``); ``message`` says why, ``task`` is the last one seen (if any)."""
    policy = hub.policy if hub is not None else redact.current()
    status = _status(task, policy) if task is not None else {"ref": ref, "state": None, "raw": None}
    return {
        "outcome": outcome,
        **status,
        "reason": status.get("reason"),
        "message": policy.text(message),
        "retryable": status.get("retryable"),
        "task": task_dict(hub, task) if hub is not None and task is not None else None,
        "error": type(error).__name__ if error is not None else None,
    }


def _status(task: Task, policy: redact.Policy) -> dict[str, Any]:
    masked = task.policy or policy
    message = task.status.message
    return {
        "ref": task.ref,
        "state": task.state.value,
        "raw": task.status.raw,
        "reason": task.status.reason,
        "message": masked.text(message) if message else message,
        "retryable": task.status.retryable,
    }


def explain(payload: dict[str, Any]) -> str:
    """One line for the Airflow log and the task's failure: what happened, the vendor's word
    and the vendor's message."""
    ref = payload.get("ref") or "the task"
    outcome = payload.get("outcome")
    raw = payload.get("raw")
    word = f" (vendor status {raw!r})" if raw not in (None, "") else ""
    message = payload.get("message")
    if outcome in FINISHED:
        text = f"{ref} {outcome}{word}"
        if payload.get("reason"):
            text += f", reason {payload['reason']}"
        return f"{text}: {message}" if message else text
    state = payload.get("state")
    last = f"; last seen {state}{word}" if state else ""
    return f"{message}{last}" if message else f"{ref} {outcome}{last}"
