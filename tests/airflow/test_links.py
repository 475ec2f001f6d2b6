"""The "<Vendor> console" extra links, as Airflow's API serves them after a ``dag.test()``
run: the vendor's own page for the task, or none; a connection's ``console_url`` overrides
the page and is checked when the connection is read."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from taskhub import ConfigError, State
from taskhub.airflow.connection import open_hub
from taskhub.airflow.console import CONSOLES, url_for
from taskhub.airflow.links import LINKS
from taskhub.model import Asset, Status, Task
from taskhub.testing import simulate

from .conftest import connection, prepare
from .dagrun import Run, run_dag

NAMES = sorted(link.name for link in LINKS)


pytestmark = pytest.mark.usefixtures("airflow_db")


def served_links(run: Run, task_id: str) -> dict[str, str | None]:
    """What Airflow's REST API answers for the task's extra links (its route, called as the
    API server calls it, on the DAG as the metadata database keeps it)."""
    from airflow.api_fastapi.core_api.routes.public.extra_links import get_extra_links
    from airflow.models.dagbag import DBDagBag
    from airflow.utils.session import create_session

    with create_session() as session:
        answer = get_extra_links(
            run.dag_id, run.run_id, task_id, session=session, dag_bag=DBDagBag()
        )
    return dict(answer.extra_links)


SUBMIT = """
with DAG("{dag_id}", schedule=None, start_date=datetime(2024, 1, 1), default_args=ARGS) as dag:
    TaskHubSubmitOperator(task_id="media", job="ingest", deferrable=True)
"""


def expected(vendor: str, sim: Any, task: dict[str, Any]) -> str:
    """The vendor's page for ``task`` (a task dict), from what the simulator holds."""
    if vendor == "livepeer":
        project = sim.simulator.project
        (asset,) = [a["id"] for a in task["outputs"] if a["kind"] == "asset"]
        return f"https://livepeer.studio/dashboard/projects/{project}/assets/{asset}"
    if vendor == "veritone":
        return f"https://cms.veritone.com/#/media-details/{task['params']['targetId']}"
    assert vendor == "cognite"
    project = sim.options["project"]
    cluster = urlsplit(sim.url).hostname
    return f"https://fusion.cognite.com/{project}/data-workflows/taskhub-auto?cluster={cluster}"


@pytest.mark.parametrize("vendor", sorted(CONSOLES))
def test_after_a_run_the_console_link_opens_the_vendors_page(
    vendor: str, use_connection: Any
) -> None:
    with simulate(vendor, speed=20) as sim:
        use_connection(connection(sim))
        run = run_dag(f"link_{vendor}", SUBMIT.format(dag_id=f"link_{vendor}"))
        page = expected(vendor, sim, run.xcom("media"))
    assert run.tasks == {"media": "success"}, run.failures
    links = served_links(run, "media")
    assert sorted(links) == NAMES
    assert links == {name: page if name == CONSOLES[vendor].name else None for name in NAMES}


@pytest.mark.parametrize("vendor", ["vionlabs", "veritone-edge"])
def test_a_vendor_without_a_page_per_task_gets_no_link(vendor: str, use_connection: Any) -> None:
    with simulate(vendor, speed=20) as sim:
        prepare(sim)
        use_connection(connection(sim))
        run = run_dag("link_none", SUBMIT.format(dag_id="link_none"))
    assert run.tasks == {"media": "success"}, run.failures
    assert served_links(run, "media") == dict.fromkeys(NAMES)


def test_the_connection_can_point_the_link_elsewhere(use_connection: Any) -> None:
    template = "https://studio.example.com/p/{project}/a/{asset}?from=airflow"
    with simulate("livepeer", speed=20) as sim:
        use_connection(connection(sim, console_url=template))
        body = """
        with DAG("link_own", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
            media = TaskHubSubmitOperator(task_id="media", job="ingest", deferrable=False)
            media >> TaskHubSensor(
                task_id="sensed",
                ref="{{ ti.xcom_pull(task_ids='media', key='taskhub_ref') }}",
                poke_interval=0.1,
            )
        """
        run = run_dag("link_own", body)
        project = sim.simulator.project
    asset = run.xcom("media")["outputs"][0]["id"]
    page = f"https://studio.example.com/p/{project}/a/{asset}?from=airflow"
    assert run.tasks == {"media": "success", "sensed": "success"}, run.failures
    for task_id in ("media", "sensed"):  # the sensor links to the task it waited for
        assert served_links(run, task_id)["Livepeer Studio console"] == page


def test_a_bad_console_url_fails_the_task_at_once_naming_the_extra(
    use_connection: Any,
) -> None:
    with simulate("livepeer", speed=20) as sim:
        use_connection(connection(sim, console_url="https://studio.example.com/{asset_id}"))
        run = run_dag("link_bad", SUBMIT.format(dag_id="link_bad").replace(")\n", ", retries=2)\n"))
        sent = list(sim.requests)
    assert run.tasks == {"media": "failed"} and run.tries["media"] == 1
    ((_, _, message),) = run.failures
    assert message.startswith("Airflow connection 'taskhub_default': extra console_url: ")
    assert "unknown placeholder {asset_id}" in message and "{asset}" in message
    assert sent == []


def test_the_provider_declares_the_links_airflow_imports() -> None:
    from taskhub.airflow.provider import get_provider_info

    declared = get_provider_info()["extra-links"]
    assert declared == [f"{type(link).__module__}.{type(link).__name__}" for link in LINKS]


# -- the template, checked when the connection is read (no Airflow run) -------------------------

SECRET = "lp-key-0123456789"

BAD_TEMPLATES: dict[str, tuple[str, Any, str]] = {
    "unknown placeholder": (
        "livepeer",
        "https://livepeer.studio/dashboard/assets/{assetid}",
        "unknown placeholder {assetid}; livepeer has {id}, {project}, {asset}",
    ),
    "a conversion": ("livepeer", "https://x.example/{asset!r}", "take no format spec"),
    "not a URL": ("livepeer", "livepeer.studio/{asset}", "expected an absolute http(s) URL"),
    "credentials": ("livepeer", "https://me:pw@x.example/{asset}", "must not carry credentials"),
    "a key in the query": ("livepeer", "https://x.example/{asset}?api_key=abc", "a secret"),
    "a signed query": (
        "livepeer",
        "https://x.example/{asset}?X-Amz-Signature=abcdef",
        "must not carry a secret",
    ),
    "the connection's secret": (
        "livepeer",
        f"https://x.example/{SECRET}/{{asset}}",
        "must not carry a secret",
    ),
    "no console": (
        "vionlabs",
        "https://x.example/{id}",
        "vionlabs has no console page per task (only cognite, livepeer, veritone do)",
    ),
    "not a string": ("livepeer", ["https://x.example/{asset}"], "expected a URL template"),
}


@pytest.mark.parametrize("case", sorted(BAD_TEMPLATES))
def test_a_bad_console_url_is_refused_when_the_connection_is_read(case: str) -> None:
    vendor, template, words = BAD_TEMPLATES[case]
    extra = {"vendor": vendor, "base_url": "https://api.example", "console_url": template}
    with pytest.raises(ConfigError) as caught:
        open_hub("lp", extra=extra, password=SECRET)
    text = str(caught.value)
    assert text.startswith("Airflow connection 'lp': extra console_url: "), text
    assert words in text
    assert SECRET not in text and "abcdef" not in text


def test_a_link_quotes_each_value_and_is_none_where_a_value_is_missing() -> None:
    extra = {"vendor": "veritone", "base_url": "https://api.example"}
    with open_hub("v", extra=extra, password=SECRET) as hub:

        def job(*inputs: Asset) -> Task:
            status = Status(State.SUCCEEDED, raw="complete", vendor="veritone")
            return Task(backend="v", vendor="veritone", id="j1", status=status, inputs=inputs)

        tdo = Asset(id="12/34?x#y", kind="tdo")
        assert url_for(hub, job(tdo)) == "https://cms.veritone.com/#/media-details/12%2F34%3Fx%23y"
        assert url_for(hub, job()) is None  # a job with no target: no page to open
        # a value that is the connection's own secret: no link rather than a leak
        assert url_for(hub, job(Asset(id=SECRET, kind="tdo"))) is None
