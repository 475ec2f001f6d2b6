"""Veritone aiWARE Edge ``JobStatusEnum`` / ``TaskStatusEnum`` (the same nine words)."""

from __future__ import annotations

from taskhub.normalize import Rule, StatusTable
from taskhub.states import State

_WORDS: dict[str, Rule | State] = {
    "scheduled": State.PENDING,
    "pending": State.PENDING,
    "queued": State.QUEUED,
    "running": State.RUNNING,
    "reprocessing": Rule(State.RUNNING, "reprocessing"),
    "complete": State.SUCCEEDED,
    "failed": State.FAILED,
    "aborted": Rule(State.FAILED, "aborted"),
    "rejected": Rule(State.FAILED, "rejected", False),
}

STATUSES = StatusTable(
    "veritone-edge",
    {"job": _WORDS, "task": _WORDS},
    # What POST /proc/tasks/update_status takes (TaskStatusEnum), by normalized state.
    report={
        State.PENDING: "pending",
        State.QUEUED: "queued",
        State.RUNNING: "running",
        State.SUCCEEDED: "complete",
        State.FAILED: "failed",
    },
)
