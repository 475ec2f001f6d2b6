"""docs/airflow.md's DAG files (its ```py blocks; its ```python blocks need no Airflow and
run in the main suite's tests/test_doc_samples.py) run with ``dag.test()``, and its
connection forms open the hubs they say."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from taskhub.airflow import TaskHubHook
from taskhub.testing import simulate

from .conftest import connection
from .dagrun import run_dag

PAGE = Path(__file__).resolve().parents[2] / "docs" / "airflow.md"
DAG_FILES = re.findall(r"```py\n(.*?)```", PAGE.read_text(), re.S)


def dag_id(source: str) -> str:
    found = re.search(r'DAG\(\s*"(\w+)"', source)
    assert found is not None, source
    return found.group(1)


#: What the page's DAGs submit, per DAG id: the vendor, and the connection's jobs.
SETUP: dict[str, tuple[str, dict[str, Any]]] = {
    "media_ingest": (
        "livepeer",
        {"ingest": {"spec": {"kind": "upload", "url": "${url}", "name": "in.mp4"}}},
    ),
    "engine_step": (
        "veritone",
        {
            "external": {
                "spec": {
                    "tasks": [
                        {
                            # the simulator's engine that waits for updateTask
                            "engineId": "c0e55ab3-8a0c-4b8f-9c4b-0d1d2e3f4a5b",
                            "payload": {"url": "https://media.example.com/interview.mp4"},
                        }
                    ],
                    "target": {"startDateTime": 1700000000, "stopDateTime": 1700000060},
                }
            }
        },
    ),
}


@pytest.fixture(scope="module", autouse=True)
def airflow_db() -> None:
    from airflow.utils import db

    db.initdb()


def test_the_page_has_its_dags() -> None:
    assert sorted(dag_id(source) for source in DAG_FILES) == sorted(SETUP)


@pytest.mark.parametrize("source", DAG_FILES, ids=dag_id)
def test_each_dag_on_the_page_runs(source: str, use_connection: Any) -> None:
    name = dag_id(source)
    vendor, jobs = SETUP[name]
    with simulate(vendor, speed=20) as sim:
        conn = connection(sim)
        conn["extra"]["jobs"] = jobs
        use_connection(conn)
        run = run_dag(name, source, head=False)
    assert set(run.tasks.values()) == {"success"}, run.tasks
    assert run.state == "success"


def test_the_uri_form_opens_the_same_hub(
    use_connection: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with simulate("livepeer", speed=20) as sim:
        key, url = sim.options["api_key"], sim.options["base_url"]
        query = f"vendor=livepeer&timeout=20&base_url={quote(url, safe='')}"
        uri = f"taskhub://:{quote(key, safe='')}@/?{query}"
        monkeypatch.setenv("AIRFLOW_CONN_TASKHUB_DEFAULT", uri)
        with TaskHubHook().get_hub() as hub:
            assert hub.options.timeout == 20.0 and hub.options.base_url == url  # type: ignore[attr-defined]
            assert hub.get(hub.submit(kind="upload", url="https://m.example/a.mp4", name="a").id)
