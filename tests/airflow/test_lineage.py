"""OpenLineage: what the provider's HTTP transport sends during ``dag.test()`` runs against
the simulators — datasets named after the task's assets (never a signed query), and the
``taskhub`` run facet with vendor, backend, ref, the vendor's word and the state."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from taskhub.airflow.datasets import Named, named
from taskhub.testing import simulate

from .conftest import connection
from .dagrun import run_dag
from .lineage_sink import LineageSink

pytestmark = pytest.mark.usefixtures("airflow_db")


def by_type(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The last event of each type (START, COMPLETE, FAIL, ...)."""
    return {e["eventType"]: e for e in events}


def datasets(event: dict[str, Any], key: str) -> list[tuple[str, str]]:
    return sorted((d["namespace"], d["name"]) for d in event[key])


SIGNATURE = "Zm9vYmFyYmF6c2lnbmF0dXJl"
SIGNED_INPUT = (
    "https://media.example.com/in/film.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    f"&X-Amz-Credential=AKIAEXAMPLE%2F20261201&X-Amz-Signature={SIGNATURE}"
)
S3_SECRET = "s3-secret-value-42"


def test_a_livepeer_upload_reports_its_input_and_the_asset_it_made(
    lineage: LineageSink, use_connection: Any
) -> None:
    spec = {"kind": "upload", "url": SIGNED_INPUT, "name": "film"}
    with simulate("livepeer", speed=20) as sim:
        use_connection(connection(sim))
        body = f"""
        with DAG("lineage_up", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
            TaskHubSubmitOperator(task_id="media", spec={spec!r}, deferrable=True)
        """
        run = run_dag("lineage_up", body)
        api_host = urlsplit(sim.url).netloc
        key = sim.options["api_key"]
    assert run.tasks == {"media": "success"}, run.failures
    task = run.xcom("media")
    asset = task["outputs"][0]["id"]
    events = by_type(lineage.events("lineage_up.media"))
    assert {"START", "COMPLETE"} <= set(events)
    done = events["COMPLETE"]
    assert datasets(done, "inputs") == [("https://media.example.com", "/in/film.mp4")]
    assert datasets(done, "outputs") == [(f"livepeer://{api_host}", f"/asset/{asset}")]
    facet = done["run"]["facets"]["taskhub"]
    assert {k: v for k, v in facet.items() if not k.startswith("_")} == {
        "vendor": "livepeer",
        "backend": "livepeer",
        "ref": task["ref"],
        "raw": "completed",
        "state": "succeeded",
    }
    start = events["START"]["run"]["facets"]["taskhub"]
    assert (start["vendor"], start["backend"], start.get("ref")) == ("livepeer", "livepeer", None)
    sent = lineage.text()
    assert SIGNATURE not in sent and "X-Amz" not in sent and key not in sent


def test_a_transcode_names_its_outputs_without_credentials_or_signatures(
    lineage: LineageSink, use_connection: Any
) -> None:
    storage = {
        "type": "s3",
        "endpoint": "https://storage.example",
        "bucket": "out",
        "credentials": {"accessKeyId": "AKOUT", "secretAccessKey": S3_SECRET},
    }
    spec = {
        "kind": "transcode-file",
        "input": {"url": SIGNED_INPUT},
        "storage": storage,
        "outputs": {"hls": {"path": "/hls"}, "mp4": {"path": "/mp4"}},
    }
    with simulate("livepeer", speed=20) as sim:
        use_connection(connection(sim))
        body = f"""
        with DAG("lineage_tc", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
            TaskHubSubmitOperator(task_id="media", spec={spec!r}, deferrable=False)
        """
        run = run_dag("lineage_tc", body)
    assert run.tasks == {"media": "success"}, run.failures
    done = by_type(lineage.events("lineage_tc.media"))["COMPLETE"]
    assert datasets(done, "inputs") == [("https://media.example.com", "/in/film.mp4")]
    assert datasets(done, "outputs") == [
        ("s3+https://storage.example", "/out/hls/index.m3u8"),
        ("s3+https://storage.example", "/out/mp4/static720p0.mp4"),
    ]
    sent = lineage.text()
    assert SIGNATURE not in sent and S3_SECRET not in sent and "AKOUT" not in sent


def test_a_cognite_execution_reports_its_ref_and_the_vendors_word(
    lineage: LineageSink, use_connection: Any
) -> None:
    with simulate("cognite", speed=20) as sim:
        use_connection(connection(sim))
        body = """
        with DAG("lineage_cdf", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
            TaskHubSubmitOperator(task_id="flow", job="ingest", deferrable=True)
        """
        run = run_dag("lineage_cdf", body)
        token = sim.options["token"]
    assert run.tasks == {"flow": "success"}, run.failures
    done = by_type(lineage.events("lineage_cdf.flow"))["COMPLETE"]
    facet = done["run"]["facets"]["taskhub"]
    assert (facet["vendor"], facet["backend"], facet["ref"]) == (
        "cognite",
        "cognite",
        run.xcom("flow", "taskhub_ref"),
    )
    assert (facet["raw"], facet["state"]) == ("COMPLETED", "succeeded")
    assert done["inputs"] == [] and done["outputs"] == []  # an execution names no assets
    assert token not in lineage.text()


def test_a_failed_task_reports_how_the_vendor_task_ended(
    lineage: LineageSink, use_connection: Any
) -> None:
    spec = {"kind": "upload", "url": "https://media.example.com/fail-fatal.mp4", "name": "x"}
    with simulate("livepeer", speed=20) as sim:
        use_connection(connection(sim))
        body = f"""
        with DAG("lineage_fail", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
            TaskHubSubmitOperator(task_id="media", spec={spec!r}, deferrable=True)
        """
        run = run_dag("lineage_fail", body)
    assert run.tasks == {"media": "failed"}
    failed = by_type(lineage.events("lineage_fail.media"))["FAIL"]
    facet = failed["run"]["facets"]["taskhub"]
    assert (facet["raw"], facet["state"]) == ("failed", "failed")
    assert facet["ref"] == run.xcom("media", "taskhub_ref")
    assert datasets(failed, "inputs") == [("https://media.example.com", "/fail-fatal.mp4")]


# -- naming (no Airflow run) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asset", "expected"),
    [
        (
            {"uri": SIGNED_INPUT, "kind": "media"},
            ("https://media.example.com/in/film.mp4", "https://media.example.com", "/in/film.mp4"),
        ),
        (
            {"uri": "s3+https://***:***@storage.example:9000/out/a.mp4#t=1", "kind": "mp4"},
            (
                "s3+https://storage.example:9000/out/a.mp4",
                "s3+https://storage.example:9000",
                "/out/a.mp4",
            ),
        ),
        (
            {"uri": "gs://bucket/x.mp4?X-Goog-Signature=abc", "kind": None},
            ("gs://bucket/x.mp4", "gs://bucket", "/x.mp4"),
        ),
        (
            {"id": "tdo 7/8", "kind": "tdo"},
            (
                "veritone://api.example/tdo/tdo%207%2F8",
                "veritone://api.example",
                "/tdo/tdo%207%2F8",
            ),
        ),
        ({"uri": "not a uri", "id": None, "kind": "media"}, None),
    ],
)
def test_an_asset_is_named_by_scheme_host_and_path_only(
    asset: dict[str, Any], expected: tuple[str, str, str] | None
) -> None:
    found = named(asset, vendor="veritone", api="https://user:pw@api.example/v3")
    if expected is None:
        assert found is None
    else:
        assert found == Named(*expected, kind=asset["kind"])
        assert "abc" not in json.dumps([found.uri, found.namespace, found.name])
