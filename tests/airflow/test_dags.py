"""End to end with ``dag.test()``: a temporary AIRFLOW_HOME, SQLite, the simulators on
loopback, the connection given as an ``AIRFLOW_CONN_…`` variable in JSON form."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from taskhub.adapters.livepeer.hub import LivepeerHub
from taskhub.adapters.livepeer.simulator import LivepeerSimulator
from taskhub.testing import Simulation, simulate

from .conftest import FAST, VENDORS, connection, prepare
from .dagrun import run_dag

#: The Livepeer simulation, typed.
Livepeer = Simulation[LivepeerSimulator, LivepeerHub]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


pytestmark = pytest.mark.usefixtures("airflow_db")


def posts(sim: Simulation) -> int:
    return len([r for r in sim.requests if r.method == "POST"])


SUBMIT = """
with DAG("{dag_id}", schedule=None, start_date=datetime(2024, 1, 1), default_args=ARGS) as dag:
    TaskHubSubmitOperator(task_id="media", {args})
"""


def submit_dag(dag_id: str, args: str) -> str:
    return SUBMIT.format(dag_id=dag_id, args=args)


def test_a_deferrable_submit_succeeds_and_pushes_the_tasks_dict(livepeer: Livepeer) -> None:
    spec = {"kind": "upload", "url": "https://media.example.com/in.mp4", "name": "in.mp4"}
    run = run_dag("ok", submit_dag("ok", f"spec={spec!r}, deferrable=True"))
    assert run.tasks == {"media": "success"}, run.failures
    task = run.xcom("media")
    assert task["status"]["state"] == "succeeded" and task["status"]["raw"] == "completed"
    assert run.xcom("media", "taskhub_ref") == task["ref"]
    assert livepeer.options["api_key"] not in json.dumps(list(run.xcoms.values()))
    assert posts(livepeer) == 1


def test_a_failed_vendor_task_fails_the_airflow_task_with_its_message(
    livepeer: Livepeer,
) -> None:
    spec = {"kind": "upload", "url": "https://media.example.com/fail-fatal.mp4", "name": "x"}
    run = run_dag("fails", submit_dag("fails", f"spec={spec!r}, deferrable=True"))
    assert run.tasks == {"media": "failed"}
    ((_, _, message),) = run.failures
    ref = run.xcom("media", "taskhub_ref")
    assert message.startswith(f"{ref} failed (vendor status 'failed')")
    with livepeer.connect() as hub:
        vendor_message = hub.get(ref).status.message
    assert vendor_message and vendor_message in message


def test_a_timeout_fails_the_task_while_the_vendor_task_keeps_running(
    livepeer: Livepeer,
) -> None:
    spec = {"kind": "upload", "url": "https://media.example.com/stuck.mp4", "name": "x"}
    run = run_dag("slow", submit_dag("slow", f"spec={spec!r}, deferrable=True, timeout=1"))
    assert run.tasks == {"media": "failed"}
    ((_, _, message),) = run.failures
    assert "still queued at the operator's timeout" in message and "'waiting'" in message


def test_a_retry_resumes_the_submitted_task_instead_of_submitting_again(
    use_connection: Any,
) -> None:
    with simulate("livepeer", speed=2.5) as sim:  # 5 simulated seconds: 2 real ones
        use_connection(connection(sim))
        run = run_dag(
            "retried",
            submit_dag("retried", 'job="ingest", deferrable=True, timeout=0.5, retries=8'),
        )
        assert run.tasks == {"media": "success"}
        assert run.tries["media"] >= 2  # at least one timeout, then a retry
        assert posts(sim) == 1


PRE_STATE_STORE = """
from taskhub.airflow.state import VariableState


class PreStateStore(TaskHubSubmitOperator):
    \"\"\"The operator as it runs on Airflow 3.0-3.2, whose context has no task_state_store.\"\"\"

    def _state(self, context):
        return VariableState.of(context["ti"]), True


with DAG("{dag_id}", schedule=None, start_date=datetime(2024, 1, 1), default_args=ARGS) as dag:
    PreStateStore(task_id="media", {args})
"""


def _taskhub_variables() -> dict[str, str]:
    from airflow.models import Variable as VariableRow
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(select(VariableRow).where(VariableRow.key.like("taskhub/%")))
        return {row.key: row.val for row in rows}


def test_before_airflow_3_3_a_retry_resumes_through_variables_then_clears_them(
    use_connection: Any,
) -> None:
    """Airflow 3.0-3.2 keep no task state between tries and clear XCom when a try starts:
    the ref lives in a Variable of this task instance until the vendor's task finished."""
    with simulate("livepeer", speed=2.5) as sim:
        use_connection(connection(sim))
        args = 'job="ingest", deferrable=True, timeout=0.5, retries=8'
        run = run_dag("retried_pre33", PRE_STATE_STORE.format(dag_id="retried_pre33", args=args))
        assert run.tasks == {"media": "success"}, run.failures
        assert run.tries["media"] >= 2  # at least one timeout, then a retry
        assert posts(sim) == 1  # the retries resumed the one task
    assert _taskhub_variables() == {}  # deleted once the task succeeded


def test_a_variable_key_stays_within_airflows_limit_and_apart_per_task_instance() -> None:
    from taskhub.airflow.state import VariableState

    short = VariableState("dag", "manual__2026-12-01T17:00:00+00:00", "media", 3)
    assert short.key("taskhub_ref") == (
        "taskhub/dag/manual__2026-12-01T17:00:00+00:00/media/3/taskhub_ref"
    )
    long_a = VariableState("d" * 200, "run", "t" * 100)
    long_b = VariableState("d" * 200, "run", "t" * 99 + "u")
    assert len(long_a.key("taskhub_lookup")) <= 250
    assert long_a.key("taskhub_ref") != long_b.key("taskhub_ref")


def test_a_submit_with_no_answer_is_looked_up_not_sent_again(livepeer: Livepeer) -> None:
    livepeer.inject("drop", method="POST", path="/asset/upload/url", after_effect=True)
    run = run_dag("dropped", submit_dag("dropped", 'job="ingest", deferrable=True'))
    assert run.tasks == {"media": "success"}, run.failures
    assert posts(livepeer) == 1
    assert len(livepeer.simulator.tasks) == 1


def test_a_vendor_that_cannot_look_a_submit_up_fails_it_without_retry(
    use_connection: Any,
) -> None:
    with simulate("toy", speed=20) as sim:  # the test suite's toy vendor has no lookup
        extra = {"vendor": "toy", "base_url": sim.url, **FAST}
        use_connection({"conn_type": "taskhub", "password": sim.options["token"], "extra": extra})
        sim.inject("drop", method="POST", after_effect=True)
        run = run_dag("unanswered", submit_dag("unanswered", 'spec={"n": 1}, retries=3'))
        created = len(sim.simulator.tasks)  # type: ignore[attr-defined]  # the toy's
    assert run.tasks == {"media": "failed"} and run.tries["media"] == 1
    ((_, _, message),) = run.failures
    assert "gives no way to look it up" in message and "before clearing this task" in message
    assert created == 1


def test_waiting_in_the_worker_with_deferrable_false(livepeer: Livepeer) -> None:
    run = run_dag("worker", submit_dag("worker", 'job="ingest", deferrable=False'))
    assert run.tasks == {"media": "success"}
    assert run.xcom("media")["status"]["state"] == "succeeded"


def test_on_kill_cancels_the_vendor_task(use_connection: Any) -> None:
    with simulate("veritone", speed=20) as sim:
        use_connection(connection(sim))
        body = """
        from taskhub.adapters.veritone.simulator import EXTERNAL_ENGINE

        SPEC = {
            "tasks": [{"engineId": EXTERNAL_ENGINE, "payload": {"url": "https://m.example/a"}}],
            "target": {"startDateTime": 1700000000, "stopDateTime": 1700000060, "name": "a"},
        }
        START = datetime(2024, 1, 1)
        with DAG("killed", schedule=None, start_date=START, default_args=ARGS) as dag:
            TaskHubSubmitOperator(
                task_id="media",
                spec=SPEC,
                deferrable=False,
                execution_timeout=timedelta(seconds=2),
            )
        """
        run = run_dag("killed", body)
        ref = run.xcom("media", "taskhub_ref")
        with sim.connect() as hub:
            after = hub.get(ref)
    assert run.tasks == {"media": "failed"}
    assert after.state.value == "cancelled"


def test_a_sensor_waits_for_a_task_submitted_elsewhere(livepeer: Livepeer) -> None:
    with livepeer.connect() as hub:
        good = hub.submit(kind="upload", url="https://media.example.com/a.mp4", name="a").ref
        bad = hub.submit(kind="upload", url="https://media.example.com/fail-fatal.mp4", name="b")
    body = f"""
    with DAG("sensed", schedule=None, start_date=datetime(2024, 1, 1), default_args=ARGS) as dag:
        TaskHubSensor(task_id="deferred", ref="{good}", deferrable=True)
        TaskHubSensor(task_id="poking", ref="{good}", deferrable=False, poke_interval=0.2)
        TaskHubSensor(task_id="failing", ref="{bad.ref}", deferrable=True)
    """
    run = run_dag("sensed", body)
    assert run.tasks == {"deferred": "success", "poking": "success", "failing": "failed"}
    assert run.xcom("deferred")["ref"] == good == run.xcom("poking")["ref"]
    ((_, _, message),) = run.failures
    assert f"{bad.ref} failed" in message


def test_submit_report_and_sense_as_the_worker_role(use_connection: Any) -> None:
    with simulate("veritone", speed=20) as sim:
        use_connection(connection(sim))
        body = """
        from taskhub.adapters.veritone.simulator import EXTERNAL_ENGINE

        SPEC = {
            "tasks": [{"engineId": EXTERNAL_ENGINE, "payload": {"url": "https://m.example/a"}}],
            "target": {"startDateTime": 1700000000, "stopDateTime": 1700000060, "name": "a"},
        }
        START = datetime(2024, 1, 1)
        with DAG("worker_role", schedule=None, start_date=START, default_args=ARGS) as dag:
            submit = TaskHubSubmitOperator(task_id="submit", spec=SPEC, wait_for_completion=False)
            report = TaskHubReportOperator(
                task_id="report",
                task_ref="{{ ti.xcom_pull(task_ids='submit')['subtasks'][0]['id'] }}",
                state="succeeded",
                result={"transcript": "{{ dag_run.run_id }}"},
            )
            wait = TaskHubSensor(
                task_id="wait",
                ref="{{ ti.xcom_pull(task_ids='submit', key='taskhub_ref') }}",
                deferrable=True,
            )
            submit >> report >> wait
        """
        run = run_dag("worker_role", body)
    assert run.tasks == {"submit": "success", "report": "success", "wait": "success"}
    assert run.xcom("report")["status"]["state"] == "succeeded"
    assert run.xcom("wait")["status"]["state"] == "succeeded"


@pytest.mark.parametrize("vendor", VENDORS)
def test_the_same_dag_runs_on_every_vendor_by_changing_the_connection(
    vendor: str, use_connection: Any
) -> None:
    with simulate(vendor, speed=20) as sim:
        prepare(sim)
        use_connection(connection(sim))
        run = run_dag("same", submit_dag("same", 'job="ingest", deferrable=True'))
    assert run.tasks == {"media": "success"}, run.failures
    task = run.xcom("media")
    assert task["vendor"] == vendor and task["status"]["state"] == "succeeded"


def test_a_connection_to_a_config_files_backend(
    use_connection: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with simulate("livepeer", speed=20) as sim:
        monkeypatch.setenv("LIVEPEER_URL", sim.url)
        monkeypatch.setenv("POLL_INTERVAL", "0.05")
        use_connection(
            {
                "conn_type": "taskhub",
                "password": sim.options["api_key"],
                "extra": {"config": str(EXAMPLES / "livepeer.toml"), "backend": "media"},
            }
        )
        run = run_dag("from_config", submit_dag("from_config", 'job="pipeline"'))
    assert run.tasks == {"media": "success"}, run.failures
    assert run.xcom("media")["ref"].startswith("media:")


BAD = {
    "unknown vendor": ({"vendor": "livepeeer"}, "did you mean 'livepeer'?"),
    "missing secret": ({"vendor": "livepeer"}, "no secret: put the livepeer api_key"),
    "wrong option": ({"vendor": "livepeer", "timout": 5}, "unknown option 'timout'"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_connection_fails_the_task_at_once_before_any_request(
    case: str, livepeer: Livepeer, use_connection: Any
) -> None:
    extra, words = BAD[case]
    password = None if case == "missing secret" else livepeer.options["api_key"]
    use_connection({"conn_type": "taskhub", "password": password, "extra": extra})
    run = run_dag("bad", submit_dag("bad", 'job="ingest", deferrable=True, retries=3'))
    assert run.tasks == {"media": "failed"} and run.tries["media"] == 1
    ((_, _, message),) = run.failures
    assert message.startswith("Airflow connection 'taskhub_default': ") and words in message
    assert livepeer.requests == []
