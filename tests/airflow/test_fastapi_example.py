"""examples/fastapi_app.py, run for real: FastAPI is no taskhub dependency, but Airflow 3's
API server brings it (and httpx) into this virtual environment under the committed
constraints, so the asyncio example is served here, against a simulator."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from fastapi.testclient import TestClient

from taskhub.testing import SimClock, simulate

EXAMPLE = Path(__file__).resolve().parent.parent.parent / "examples" / "fastapi_app.py"


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fastapi_app", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    with simulate("livepeer", clock=SimClock(speed=40)) as sim:
        config = tmp_path / "taskhub.toml"
        config.write_text(
            'default = "media"\n[backends.media]\nvendor = "livepeer"\n'
            f'api_key = "{sim.options["api_key"]}"\nbase_url = "{sim.url}"\n'
            "poll_interval = 0.05\npoll_max = 0.1\n[jobs.ingest]\n"
            'spec = { kind = "upload", url = "https://example.com/in.mp4", name = "in.mp4" }\n'
            "[jobs.stuck]\n"  # the simulator keeps it waiting forever
            'spec = { kind = "upload", url = "https://example.com/stuck.mp4", name = "s" }\n'
        )
        monkeypatch.setenv("TASKHUB_CONFIG", str(config))
        monkeypatch.delenv("TASKHUB_BACKEND", raising=False)
        with TestClient(_example().app) as served:  # runs the lifespan: one AsyncTaskHub
            yield served


def test_the_example_service_submits_reads_and_waits(client: TestClient) -> None:
    made = client.post("/jobs/ingest")
    assert made.status_code == 201, made.text
    ref = made.json()["ref"]
    assert client.get(f"/tasks/{ref}").json()["ref"] == ref
    done = client.post(f"/tasks/{ref}/wait", params={"timeout": 30})
    assert done.status_code == 200 and done.json()["status"]["state"] == "succeeded"
    assert client.get("/tasks/media:a%0Ab").status_code == 400  # checked before any request
    missing = client.get("/tasks/media:00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert client.post("/jobs/nope").status_code == 400  # no such job: a ConfigError
    stuck = client.post("/jobs/stuck").json()["ref"]
    unfinished = client.post(f"/tasks/{stuck}/wait", params={"timeout": 0})
    assert unfinished.status_code == 202  # read once, still waiting: as last seen
    assert unfinished.json()["status"]["state"] == "queued"
