"""Vionlabs task statuses, and the documented failure messages carried by ``error``."""

from __future__ import annotations

from taskhub.states import State
from taskhub.statuses import Hints, Rule, StatusTable

#: Documented failure messages (matched at their start, ignoring case) -> stable reasons.
#: Re-submitting cannot help with any of them until the asset itself is fixed.
FAILURES: dict[str, Rule] = {
    "asset not found": Rule(State.FAILED, "asset_not_found", False),
    "probe failed": Rule(State.FAILED, "probe_failed", False),
    "asset shorter than the minimum": Rule(State.FAILED, "asset_too_short", False),
}
_OTHER_FAILURE = Rule(State.FAILED, "error")


def failure_rule(message: str) -> Rule:
    """The rule for a non-empty ``error``: a documented reason, or plain ``error``."""
    text = message.strip().lower()
    for prefix, rule in FAILURES.items():
        if text.startswith(prefix):
            return rule
    return _OTHER_FAILURE


def _refine(rule: Rule | None, hints: Hints) -> Rule | None:
    # Vionlabs publishes no failure word: a non-empty error fails the task whatever the status.
    if hints.message and hints.message.strip():
        return failure_rule(hints.message)
    return rule


STATUSES = StatusTable(
    "vionlabs",
    {
        "task": {
            "pending": State.QUEUED,
            "processing": State.RUNNING,
            "done": State.SUCCEEDED,
            # Not published: the word after DELETE ("Deactivate Task"). taskhub accepts these.
            "deactivated": State.CANCELLED,
            "cancelled": State.CANCELLED,
            "canceled": State.CANCELLED,
        }
    },
    refine=_refine,
    notes=(
        "A non-empty `error` makes the task `failed` whatever its status word, with the error "
        "as message. Documented messages get stable reasons, none retryable: "
        + ", ".join(f'"{k}…" → `{r.reason}`' for k, r in FAILURES.items())
        + "; any other error → `error`.",
        "`deactivated`, `cancelled` and `canceled` are taskhub's reading of the unpublished "
        "word reported after DELETE (Deactivate Task).",
    ),
)
