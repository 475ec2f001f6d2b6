"""How a finished wait ends the Airflow task: success with the task's dict, skip, or failure
with the vendor's message and status word (shared by the operator and the sensor)."""

from __future__ import annotations

import logging
from typing import Any, NoReturn

from taskhub.airflow import events
from taskhub.airflow._compat import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
)
from taskhub.errors import (
    AuthError,
    ConfigError,
    InvalidRequest,
    InvalidTransition,
    TaskhubError,
    TaskNotFound,
    UnsupportedOperation,
)

log = logging.getLogger("taskhub.airflow")

#: Errors no retry can mend: the Airflow task fails without retrying.
FINAL = (
    AuthError,
    ConfigError,
    InvalidRequest,
    InvalidTransition,
    TaskNotFound,
    UnsupportedOperation,
)
_FINAL_NAMES = frozenset({*(e.__name__ for e in FINAL), "AirflowFailException", "OriginRefused"})


def finish(payload: dict[str, Any], *, sensor: bool = False, soft_fail: bool = False) -> Any:
    """The task's dict when ``payload`` says it succeeded; otherwise raise what Airflow should
    see. Failed with ``retryable=False`` and cancelled fail without retry (a retry would only
    repeat it, or undo someone's decision); failed otherwise, ``timeout`` and ``stale`` let
    Airflow's retries run (a retry resumes waiting for the same task)."""
    outcome = payload.get("outcome")
    text = events.explain(payload)
    if outcome == "succeeded":
        log.info("%s", text)
        return payload.get("task")
    if outcome == "skipped":
        raise AirflowSkipException(text)
    if outcome in (events.TIMEOUT, events.STALE) and sensor:
        if soft_fail:
            raise AirflowSkipException(text)
        raise AirflowSensorTimeout(text)
    if outcome == "cancelled" or (outcome == "failed" and payload.get("retryable") is False):
        raise AirflowFailException(text)
    if outcome == events.ERROR and payload.get("error") in _FINAL_NAMES:
        raise AirflowFailException(text)
    raise AirflowException(text)


def fail(error: TaskhubError, doing: str) -> NoReturn:
    """Raise a taskhub error as the Airflow exception it calls for."""
    text = f"{doing}: {error}"
    if isinstance(error, FINAL):
        raise AirflowFailException(text) from error
    raise AirflowException(text) from error
