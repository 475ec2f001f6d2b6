"""The operators, the sensor and the hook as units: defaults, arguments, how an outcome
ends the Airflow task."""

from __future__ import annotations

from typing import Any

import pytest

from taskhub.airflow import (
    TaskHubHook,
    TaskHubReportOperator,
    TaskHubSensor,
    TaskHubSubmitOperator,
)
from taskhub.airflow._compat import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
)
from taskhub.airflow.outcome import finish
from taskhub.testing import simulate

from .conftest import connection


def payload(outcome: str, **fields: Any) -> dict[str, Any]:
    return {
        "outcome": outcome,
        "ref": "media:t1",
        "state": outcome if outcome in ("succeeded", "failed", "cancelled", "skipped") else None,
        "raw": fields.pop("raw", "WORD"),
        "reason": None,
        "message": fields.pop("message", "the vendor says no"),
        "retryable": fields.pop("retryable", None),
        "task": {"ref": "media:t1"},
        "error": fields.pop("error", None),
    }


def test_deferrable_follows_airflows_default_deferrable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert TaskHubSubmitOperator(task_id="a", job="j").deferrable is False
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "True")
    assert TaskHubSubmitOperator(task_id="b", job="j").deferrable is True
    assert TaskHubSensor(task_id="c", ref="media:t1").deferrable is True
    assert TaskHubSubmitOperator(task_id="d", job="j", deferrable=False).deferrable is False


def test_the_submit_operator_takes_a_job_or_a_spec() -> None:
    with pytest.raises(ValueError, match=r"give job= .* or spec="):
        TaskHubSubmitOperator(task_id="a")
    with pytest.raises(ValueError, match="not both"):
        TaskHubSubmitOperator(task_id="b", job="j", spec={"x": 1})
    with pytest.raises(ValueError, match="job_params"):
        TaskHubSubmitOperator(task_id="c", spec={"x": 1}, job_params={"url": "u"})


def test_the_templated_fields() -> None:
    assert set(TaskHubSubmitOperator.template_fields) == {"conn_id", "job", "job_params", "spec"}
    assert set(TaskHubSensor.template_fields) == {"conn_id", "ref"}
    assert set(TaskHubReportOperator.template_fields) == {
        "conn_id", "task_ref", "state", "result", "fields"
    }  # fmt: skip


def test_how_each_outcome_ends_the_airflow_task() -> None:
    assert finish(payload("succeeded")) == {"ref": "media:t1"}
    with pytest.raises(AirflowSkipException):
        finish(payload("skipped"))
    with pytest.raises(AirflowException) as retried:
        finish(payload("failed", raw="error", message="codec not supported"))
    assert not isinstance(retried.value, AirflowFailException)
    assert str(retried.value) == "media:t1 failed (vendor status 'error'): codec not supported"
    with pytest.raises(AirflowFailException):  # a retry would only fail again
        finish(payload("failed", retryable=False))
    with pytest.raises(AirflowFailException):  # someone stopped it on purpose
        finish(payload("cancelled"))
    for outcome in ("timeout", "stale"):
        with pytest.raises(AirflowException) as stopped:
            finish(payload(outcome))
        assert not isinstance(stopped.value, AirflowFailException)
        with pytest.raises(AirflowSensorTimeout):
            finish(payload(outcome), sensor=True)
        with pytest.raises(AirflowSkipException):
            finish(payload(outcome), sensor=True, soft_fail=True)
    with pytest.raises(AirflowFailException):
        finish(payload("error", error="TaskNotFound"))
    with pytest.raises(AirflowException):
        finish(payload("error", error="VendorUnavailable"))


def test_a_skipped_event_skips_the_operator() -> None:
    operator = TaskHubSubmitOperator(task_id="a", job="j")
    with pytest.raises(AirflowSkipException, match="media:t1 skipped"):
        operator.execute_complete({}, payload("skipped"))
    with pytest.raises(AirflowException, match="no event"):
        operator.execute_complete({}, None)


def test_the_hook_opens_a_hub_and_tests_the_connection(use_connection: Any) -> None:
    assert (TaskHubHook.conn_type, TaskHubHook.default_conn_name) == ("taskhub", "taskhub_default")
    with simulate("cognite", speed=20) as sim:
        use_connection(connection(sim))
        hook = TaskHubHook()
        with hook.get_hub() as hub:
            assert (hub.vendor, hub.backend) == ("cognite", "cognite")
        assert hook.test_connection() == (True, "cognite: connected")
    use_connection({"conn_type": "taskhub", "extra": {"vendor": "nope"}}, "bad")
    with pytest.raises(AirflowFailException, match="Airflow connection 'bad': unknown vendor"):
        TaskHubHook("bad").get_hub()
    ok, message = TaskHubHook("bad").test_connection()
    assert not ok and "unknown vendor" in message
