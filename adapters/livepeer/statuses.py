"""Livepeer Studio task phases (``status.phase``)."""

from __future__ import annotations

from taskhub.states import State
from taskhub.statuses import Hints, Rule, StatusTable


def _refine(rule: Rule | None, hints: Hints) -> Rule | None:
    # A waiting task with retries and an error message is between automatic attempts.
    if rule is not None and rule.state is State.QUEUED and hints.retries and hints.message:
        return Rule(State.QUEUED, "retrying", True)
    return rule


STATUSES = StatusTable(
    "livepeer",
    {
        "phase": {
            "pending": State.PENDING,
            "waiting": State.QUEUED,
            "running": State.RUNNING,
            "completed": State.SUCCEEDED,
            "failed": State.FAILED,
            "cancelled": State.CANCELLED,
        }
    },
    refine=_refine,
    refine_states=frozenset({State.QUEUED}),
    notes=(
        "`waiting` with `retries` > 0 and an `errorMessage` is queued with reason `retrying` "
        "(between automatic attempts).",
    ),
)
