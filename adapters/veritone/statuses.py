"""Veritone aiWARE ``TaskStatus``: the words of ``Task.status`` and of ``Job.status``."""

from __future__ import annotations

from taskhub.states import State
from taskhub.statuses import Hints, Rule, StatusTable


def _refine(rule: Rule | None, hints: Hints) -> Rule | None:
    # failureReason (internal_error, url_not_found ...) is the best reason a failed task has.
    if rule is not None and rule.state is State.FAILED and rule.reason is None and hints.reason:
        return Rule(State.FAILED, hints.reason, rule.retryable)
    return rule


# Job.status is typed TaskStatus, so both vocabularies are the same words.
_TASK_STATUS: dict[str, Rule | State] = {
    "pending": State.PENDING,
    "standby_pending": Rule(State.PENDING, "standby"),
    "accepted": State.QUEUED,
    "queued": State.QUEUED,
    "waiting": State.QUEUED,
    "running": State.RUNNING,
    "resuming": State.RUNNING,
    "paused": State.PAUSED,
    "complete": State.SUCCEEDED,
    "failed": State.FAILED,
    "aborted": Rule(State.FAILED, "aborted"),
    "cancelled": State.CANCELLED,
}

STATUSES = StatusTable(
    "veritone",
    {"task": _TASK_STATUS, "job": _TASK_STATUS},
    refine=_refine,
    refine_states=frozenset({State.FAILED}),
    report={State.RUNNING: "running", State.SUCCEEDED: "complete", State.FAILED: "failed"},
    notes=("A failed task's `failureReason` (e.g. `url_not_found`) becomes its reason.",),
)
