"""docs/airflow.md's DAG files (its ```py blocks; its ```python blocks need no Airflow and
run in the main suite's tests/test_doc_samples.py) run with ``dag.test()``, its advice on
testing a DAG offline (the ```py title="..." files and the ```sh commands) works as written
in a fresh directory, and its connection forms open the hubs they say."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
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
#: The files of the offline-testing advice, by the path the page gives them.
TEST_FILES = dict(re.findall(r'```py title="([^"]+)"\n(.*?)```', PAGE.read_text(), re.S))
#: Its commands for running the DAG file as a script.
(SCRIPT,) = [
    block
    for block in re.findall(r"```sh\n(.*?)```", PAGE.read_text(), re.S)
    if "airflow db migrate" in block
]


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
    "transcode": (
        "livepeer",
        {
            "transcode": {
                "spec": {
                    "kind": "transcode-file",
                    "input": {"url": "https://media.example.com/in.mp4"},
                    "storage": {"type": "web3.storage", "credentials": {"proof": "ucan-proof"}},
                    "outputs": {"hls": {"path": "/hls"}},
                }
            }
        },
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


pytestmark = pytest.mark.usefixtures("airflow_db")


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


def _project(root: Path) -> Path:
    """A fresh project directory holding the page's example DAG as dags/media_ingest.py."""
    (root / "dags").mkdir()
    (ingest,) = [source for source in DAG_FILES if dag_id(source) == "media_ingest"]
    (root / "dags" / "media_ingest.py").write_text(ingest)
    return root


def _environment(**extra: str) -> dict[str, str]:
    """This process's environment without its Airflow settings (the advice sets its own),
    with this virtual environment's commands (``airflow``, ``python``) first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PYTEST"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return {**env, **extra}


def test_the_offline_test_advice_works_as_written(tmp_path: Path) -> None:
    project = _project(tmp_path)
    assert sorted(TEST_FILES) == ["tests/conftest.py", "tests/test_media_ingest.py"]
    for name, source in TEST_FILES.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(source)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "1 passed" in done.stdout


def test_the_dag_file_runs_as_a_script_as_the_page_says(tmp_path: Path) -> None:
    project = _project(tmp_path)
    with simulate("livepeer", speed=20) as sim:
        conn = connection(sim)
        conn["extra"]["jobs"] = SETUP["media_ingest"][1]
        done = subprocess.run(
            ["bash", "-e", "-c", SCRIPT],
            cwd=project,
            env=_environment(AIRFLOW_CONN_TASKHUB_DEFAULT=json.dumps(conn)),
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    with sqlite3.connect(project / ".airflow" / "airflow.db") as db:
        runs = db.execute("SELECT state FROM dag_run WHERE dag_id = 'media_ingest'").fetchall()
    assert runs == [("success",)]


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
