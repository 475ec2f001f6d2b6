"""Data-aware scheduling: a submit operator with an asset alias among its ``outlets`` records
an Airflow asset event per output the vendor produced, whose URIs are known only when the
task finished, and a DAG scheduled on the alias is then due."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from taskhub.testing import simulate

from .conftest import connection
from .dagrun import run_dag

ALIAS = "media-outputs"


pytestmark = pytest.mark.usefixtures("airflow_db")


def recorded(alias: str) -> list[tuple[str, dict[str, Any]]]:
    """The asset events recorded through ``alias``: (URI, extra)."""
    from airflow.models.asset import AssetAliasModel, AssetEvent
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        events = session.scalars(
            select(AssetEvent).where(AssetEvent.source_aliases.any(AssetAliasModel.name == alias))
        ).all()
        return sorted((e.uri, dict(e.extra)) for e in events)


def due() -> set[str]:
    """The DAGs the scheduler would create a run for now."""
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session

    with create_session() as session:
        query, _ = DagModel.dags_needing_dagruns(session)
        return {dag.dag_id for dag in query}


PRODUCER_AND_CONSUMER = """
from airflow.sdk import AssetAlias

with DAG("{producer}", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    TaskHubSubmitOperator(
        task_id="media", spec={spec!r}, deferrable={deferrable}, outlets=[AssetAlias("{alias}")]
    )

with DAG("{consumer}", schedule=AssetAlias("{alias}"), start_date=datetime(2024, 1, 1)):
    TaskHubSensor(task_id="noop", ref="livepeer:unused")
"""


def test_an_upload_records_the_asset_it_made_and_the_consumer_is_due(
    use_connection: Any,
) -> None:
    spec = {"kind": "upload", "url": "https://media.example.com/in.mp4", "name": "in"}
    with simulate("livepeer", speed=20) as sim:
        use_connection(connection(sim))
        source = PRODUCER_AND_CONSUMER.format(
            producer="produce_up", consumer="consume_up", spec=spec, deferrable=True, alias=ALIAS
        )
        assert "consume_up" not in due()
        run = run_dag("produce_up", source)
        api = urlsplit(sim.url).netloc
    assert run.tasks == {"media": "success"}, run.failures
    task = run.xcom("media")
    asset = task["outputs"][0]["id"]
    assert recorded(ALIAS) == [
        (
            f"livepeer://{api}/asset/{asset}",
            {"ref": task["ref"], "vendor": "livepeer", "kind": "asset"},
        )
    ]
    assert "consume_up" in due()


def test_a_transcode_records_each_output_uri_without_its_credentials(
    use_connection: Any,
) -> None:
    storage = {
        "type": "s3",
        "endpoint": "https://storage.example",
        "bucket": "out",
        "credentials": {"accessKeyId": "AKOUT", "secretAccessKey": "out-s3cret"},
    }
    spec = {
        "kind": "transcode-file",
        "input": {"url": "https://media.example.com/in.mp4"},
        "storage": storage,
        "outputs": {"hls": {"path": "/hls"}, "mp4": {"path": "/mp4"}},
    }
    with simulate("livepeer", speed=20) as sim:
        use_connection(connection(sim))
        source = PRODUCER_AND_CONSUMER.format(
            producer="produce_tc", consumer="consume_tc", spec=spec, deferrable=False, alias="tc"
        )
        run = run_dag("produce_tc", source)
    assert run.tasks == {"media": "success"}, run.failures
    ref = run.xcom("media", "taskhub_ref")
    assert recorded("tc") == [
        (
            "s3+https://storage.example/out/hls/index.m3u8",
            {"ref": ref, "vendor": "livepeer", "kind": "hls"},
        ),
        (
            "s3+https://storage.example/out/mp4/static720p0.mp4",
            {"ref": ref, "vendor": "livepeer", "kind": "mp4"},
        ),
    ]
    assert "consume_tc" in due()


def test_a_failed_task_records_no_asset_event(use_connection: Any) -> None:
    spec = {"kind": "upload", "url": "https://media.example.com/fail-fatal.mp4", "name": "x"}
    with simulate("livepeer", speed=20) as sim:
        use_connection(connection(sim))
        source = PRODUCER_AND_CONSUMER.format(
            producer="produce_no", consumer="consume_no", spec=spec, deferrable=True, alias="no"
        )
        run = run_dag("produce_no", source)
    assert run.tasks == {"media": "failed"}
    assert recorded("no") == []
    assert "consume_no" not in due()
