"""Cognite Data Fusion workflow statuses: task executions and executions."""

from __future__ import annotations

from taskhub.states import State
from taskhub.statuses import Rule, StatusTable

STATUSES = StatusTable(
    "cognite",
    {
        "task": {
            "SCHEDULED": State.QUEUED,
            "IN_PROGRESS": State.RUNNING,
            "COMPLETED": State.SUCCEEDED,
            "COMPLETED_WITH_ERRORS": Rule(State.SUCCEEDED, "completed_with_errors"),
            "FAILED": Rule(State.FAILED, None, True),
            "FAILED_WITH_TERMINAL_ERROR": Rule(State.FAILED, "terminal_error", False),
            "TIMED_OUT": Rule(State.FAILED, "timed_out"),
            # The API spells it with one L; the Python SDK's type hint with two.
            "CANCELED": State.CANCELLED,
            "CANCELLED": State.CANCELLED,
            "SKIPPED": State.SKIPPED,
        },
        "execution": {
            "RUNNING": State.RUNNING,
            "COMPLETED": State.SUCCEEDED,
            "FAILED": State.FAILED,
            "TIMED_OUT": Rule(State.FAILED, "timed_out"),
            "TERMINATED": State.CANCELLED,
        },
    },
    report={
        State.SUCCEEDED: "COMPLETED",
        State.FAILED: "FAILED",  # FAILED_WITH_TERMINAL_ERROR when retryable is False
    },
    notes=("`report(..., State.FAILED, retryable=False)` sends `FAILED_WITH_TERMINAL_ERROR`.",),
)
