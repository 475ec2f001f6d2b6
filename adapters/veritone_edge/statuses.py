"""Veritone aiWARE Edge ``JobStatusEnum`` / ``TaskStatusEnum`` (the same nine words)."""

from __future__ import annotations

from taskhub.states import State
from taskhub.statuses import Hints, Rule, StatusTable

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


def _refine(rule: Rule | None, hints: Hints) -> Rule | None:
    # A failed task's failureReason (bad_data, not_found ...) is the best reason it has.
    if rule is not None and rule.state is State.FAILED and rule.reason is None and hints.reason:
        return Rule(State.FAILED, hints.reason, rule.retryable)
    return rule


STATUSES = StatusTable(
    "veritone-edge",
    {"job": _WORDS, "task": _WORDS},
    refine=_refine,
    refine_states=frozenset({State.FAILED}),
    notes=("A failed task's `failureReason` (e.g. `bad_data`) becomes its reason.",),
    # What POST /proc/tasks/update_status takes (TaskStatusEnum), by normalized state.
    report={
        State.PENDING: "pending",
        State.QUEUED: "queued",
        State.RUNNING: "running",
        State.SUCCEEDED: "complete",
        State.FAILED: "failed",
    },
)
