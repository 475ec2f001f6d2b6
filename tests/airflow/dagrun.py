"""Run a DAG with ``dag.test()`` in this process, as the end-to-end tests do.

``dag.test()`` needs the DAG in the DAGs folder (it parses the folder into the metadata
database), and runs the tasks — and a deferred task's trigger, in an event loop of its own —
from the DAG object it is called on. So the source is written to the folder and also run
here; the callbacks of the copy run here record into its ``RESULTS`` list.
"""

from __future__ import annotations

import json
import os
import runpy
import textwrap
from pathlib import Path
from typing import Any

import attrs

#: The top of every test DAG file: imports and the callbacks that record what happened.
HEAD = """
from datetime import datetime, timedelta

from airflow.sdk import DAG

from taskhub.airflow import (
    TaskHubReportOperator,
    TaskHubSensor,
    TaskHubSubmitOperator,
)

RESULTS = []


def failed(context):
    RESULTS.append((context["ti"].task_id, context["ti"].try_number, str(context["exception"])))


ARGS = {"on_failure_callback": failed, "retry_delay": timedelta(seconds=0)}
"""


@attrs.frozen
class Run:
    """What a DAG run left: each task's state and tries, its XComs, the failures seen."""

    dag_id: str
    run_id: str
    state: str
    tasks: dict[str, str]
    tries: dict[str, int]
    xcoms: dict[tuple[str, str], Any]
    failures: list[tuple[str, int, str]]

    def xcom(self, task_id: str, key: str = "return_value") -> Any:
        return self.xcoms.get((task_id, key))


def run_dag(dag_id: str, body: str, *, head: bool = True) -> Run:
    """Write ``HEAD + body`` (or ``body`` alone: a whole DAG file) as a DAG file, run the
    ``dag`` it defines, report."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    folder = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    path = folder / f"{dag_id}.py"
    path.write_text((HEAD if head else "") + textwrap.dedent(body))
    try:
        namespace = runpy.run_path(str(path), run_name=f"dag_{dag_id}")
        dag = namespace["dag"]
        assert dag.dag_id == dag_id
        run = dag.test()
        tis = run.get_task_instances()
        with create_session() as session:
            rows = session.scalars(
                select(XComModel).where(XComModel.dag_id == dag_id, XComModel.run_id == run.run_id)
            ).all()
            xcoms = {(r.task_id, r.key): _value(r.value) for r in rows}
        return Run(
            dag_id=dag_id,
            run_id=run.run_id,
            state=str(run.state),
            tasks={ti.task_id: str(ti.state) for ti in tis},
            tries={ti.task_id: ti.try_number for ti in tis},
            xcoms=xcoms,
            failures=list(namespace.get("RESULTS", [])),
        )
    finally:
        path.unlink()


def _value(stored: Any) -> Any:
    while isinstance(stored, str):
        try:
            stored = json.loads(stored)
        except ValueError:
            break
    return stored
