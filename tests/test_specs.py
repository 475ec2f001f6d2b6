"""Typed vendor specs, the vendor hubs and their ``ex_`` surface, and ``connect``'s types."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import taskhub
from taskhub import Asset, ConfigError, InvalidRequest, State, redact
from taskhub.adapters.cognite.hub import CogniteHub
from taskhub.adapters.cognite.specs import Run
from taskhub.adapters.livepeer.hub import LivepeerHub
from taskhub.adapters.livepeer.specs import Clip, Transcode, Upload
from taskhub.adapters.veritone import specs as veritone
from taskhub.adapters.veritone.hub import VeritoneHub
from taskhub.adapters.veritone_edge import specs as edge
from taskhub.adapters.veritone_edge.hub import EdgeHub
from taskhub.adapters.vionlabs.adapter import VionlabsAdapter
from taskhub.adapters.vionlabs.hub import VionlabsHub
from taskhub.adapters.vionlabs.specs import Analysis
from taskhub.spec import Spec
from taskhub.testing import Simulation, simulate

ROOT = Path(__file__).resolve().parent.parent


def _specs(sim: Simulation) -> Spec:
    """The simulator's demo work, written as the vendor's typed spec."""
    vendor = sim.vendor
    if vendor == "livepeer":
        return Upload(url="https://media.example.com/a.mp4", name="a.mp4")
    if vendor == "cognite":
        return Run(workflow="taskhub-demo", version="1", input={"fileId": 123})
    if vendor == "veritone":
        demo = sim.simulator.demo_spec()
        assert demo is not None
        return veritone.Job(
            tasks=demo["tasks"],
            target={"startDateTime": 1700000000, "stopDateTime": 1700000060, "name": "a"},
        )
    if vendor == "veritone-edge":
        demo = sim.simulator.demo_spec()
        assert demo is not None
        return edge.Job(tasks=demo["tasks"])
    sim.simulator.demo_spec()  # puts the demo film in the catalog
    return Analysis(inventory_id="demo-film", product="markers", version="1.0.1", priority="high")


HUBS: dict[str, type[taskhub.TaskHub]] = {
    "livepeer": LivepeerHub,
    "cognite": CogniteHub,
    "veritone": VeritoneHub,
    "veritone-edge": EdgeHub,
    "vionlabs": VionlabsHub,
}


@pytest.mark.parametrize("vendor", sorted(HUBS))
def test_each_vendor_takes_its_typed_spec_as_it_takes_the_same_fields(vendor: str) -> None:
    with simulate(vendor) as sim, sim.connect() as hub:
        assert type(hub) is HUBS[vendor]
        spec = _specs(sim)
        typed = hub.submit(spec)
        assert typed.state in (State.PENDING, State.RUNNING, State.QUEUED)
        body = sim.requests[-1].body if vendor == "livepeer" else None
        untyped = hub.submit(**spec.fields())
        assert untyped.kind == typed.kind
        assert untyped.params.keys() == typed.params.keys()
        if body is not None:
            assert sim.requests[-1].body == body


def test_a_spec_is_checked_when_it_is_made_naming_the_field() -> None:
    cases: list[tuple[Callable[[], Spec], str, str]] = [
        (lambda: Upload(url="ftp://in/a.mp4", name="a"), "url", "must start with"),
        (lambda: Upload(url="https://in/a.mp4", name=" "), "name", "must not be empty"),
        (
            lambda: Upload(url="https://in/a.mp4", name="a", extra={"url": "x"}),
            "extra.url",
            "no field",
        ),
        (lambda: Clip(playback_id="abc", start_time=10, end_time=5), "end_time", "later"),
        (lambda: Clip(playback_id="abc", start_time=True), "start_time", "number"),
        (lambda: Run(workflow="w", version=""), "version", "must not be empty"),
        (lambda: Run(workflow="w", version="1", input=[1]), "input", "JSON object"),  # type: ignore[arg-type]
        (lambda: veritone.Job(tasks=[], target_id="1"), "tasks", "non-empty list"),
        (lambda: veritone.Job(tasks=[{"payload": {}}], target_id="1"), "tasks[0]", "engineId"),
        (lambda: veritone.Job(tasks=[{"engineId": "e"}]), "target_id", "exactly one"),
        (lambda: edge.Job(tasks=["e"]), "tasks[0]", "JSON object"),  # type: ignore[list-item]
        (lambda: Analysis(inventory_id="f", product="nope", version="1"), "product", "one of"),  # type: ignore[arg-type]
        (lambda: Analysis("f", "markers", "1", priority="urgent"), "priority", "one of"),  # type: ignore[arg-type]
    ]
    for make, field, words in cases:
        with pytest.raises(InvalidRequest, match=words) as info:
            make()
        assert info.value.field == field
        assert info.value.operation == "submit"


def test_a_spec_of_another_vendor_or_mixed_with_fields_is_refused_before_any_request() -> None:
    with simulate("cognite") as sim, sim.connect() as hub:
        before = len(sim.requests)
        with pytest.raises(InvalidRequest, match="is a livepeer spec; this hub is cognite"):
            hub.submit(Upload(url="https://in/a.mp4", name="a"))
        with pytest.raises(InvalidRequest, match="not both"):
            hub.submit(Run(workflow="w", version="1"), input={})
        with pytest.raises(InvalidRequest, match="expected a taskhub spec"):
            hub.submit({"workflow": "w"})  # type: ignore[arg-type]
        assert len(sim.requests) == before


def test_a_transcode_spec_shows_no_storage_credential() -> None:
    spec = Transcode(
        input={"url": "https://in.example/a.mp4"},
        storage={
            "type": "s3",
            "endpoint": "https://s3.example",
            "bucket": "b",
            "credentials": {"accessKeyId": "AKIAEXAMPLE", "secretAccessKey": "s3cr3t-value"},
        },
        outputs={"hls": {"path": "/out"}},
    )
    assert "s3cr3t-value" not in repr(spec)
    assert "AKIAEXAMPLE" not in repr(spec)


def test_the_livepeer_hub_reads_and_deletes_the_asset_a_task_makes() -> None:
    with simulate("livepeer") as sim, taskhub.connect("livepeer", **sim.options) as hub:
        task = hub.submit(Upload(url="https://media.example.com/b.mp4", name="b.mp4"))
        asset = task.outputs[0]
        assert hub.ex_asset(asset).id == asset.id
        hub.ex_delete_asset(asset)
        with pytest.raises(taskhub.TaskNotFound):
            hub.ex_asset(asset.id)


def test_the_vionlabs_hub_puts_an_item_in_the_catalog_before_its_analysis() -> None:
    with simulate("vionlabs") as sim, taskhub.connect("vionlabs", **sim.options) as hub:
        item = hub.ex_upsert_item("film-7", "standalone", "Film 7", "s3://b/film-7.mp4")
        assert item.id == "film-7"
        assert hub.ex_item("standalone", "film-7").id == "film-7"
        assert "film-7" in [i.id for i in hub.ex_items()]
        task = hub.submit(Analysis(inventory_id="film-7", product="markers", version="1.0.1"))
        assert task.ref == "vionlabs:film-7/markers/1.0.1"


def test_an_ex_call_runs_under_its_hubs_redaction_a_generators_every_step_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = taskhub.connect("vionlabs", api_key="k-0123456789", base_url="https://v.example")
    assert isinstance(hub, VionlabsHub)
    seen: list[redact.Policy] = []

    def items(*, page_size: int = 500, allow_deleted: bool = False) -> Iterator[Asset]:
        for n in range(2):
            seen.append(redact.current())
            yield Asset(id=f"item-{n}")

    monkeypatch.setattr(hub.adapter, "items", items)
    outside: list[redact.Policy] = []
    for _ in hub.ex_items(page_size=2):
        outside.append(redact.current())
    assert seen == [hub.policy, hub.policy]  # the adapter's code ran under the hub's policy
    assert hub.policy not in outside  # and the caller's, between items, did not
    assert VionlabsHub.ex_items.__doc__ == VionlabsAdapter.items.__doc__


def test_the_edge_hub_lists_engines_and_reads_a_finished_jobs_outputs(tmp_path: Path) -> None:
    with simulate("veritone-edge") as sim, taskhub.connect("veritone-edge", **sim.options) as hub:
        assert hub.ex_engines()
        task = hub.submit(edge.Job(tasks=sim.simulator.demo_spec()["tasks"]))
        sim.clock.advance(600)
        done = hub.get(task)
        assert done.state is State.SUCCEEDED
        outputs = hub.ex_outputs(done)
        assert outputs
        name = outputs[0].name
        assert name is not None
        assert hub.ex_output(done.ref, name)
        saved = hub.ex_download_output(done, name, tmp_path)
        assert saved.read_bytes() == hub.ex_output(done.id, name)
        hub.ex_delete_job(done)
        with pytest.raises(taskhub.TaskNotFound):
            hub.get(done)


def test_the_veritone_hub_reads_the_assets_of_a_jobs_tdo() -> None:
    with simulate("veritone") as sim, taskhub.connect("veritone", **sim.options) as hub:
        task = hub.submit(_specs(sim))
        tdo = task.params.get("targetId") or task.inputs[0].id
        assert isinstance(tdo, str)
        assert isinstance(hub.ex_assets(tdo), list)


def test_a_backend_named_after_another_vendor_is_refused_at_load() -> None:
    config = {"backends": {"livepeer": {"vendor": "cognite", "project": "p", "token": "t"}}}
    with pytest.raises(ConfigError, match="named after the vendor 'livepeer'") as info:
        taskhub.connect("livepeer", config=config)
    assert info.value.path == "backends.livepeer.vendor"


def test_a_configured_backend_is_its_vendors_hub_class() -> None:
    with simulate("livepeer") as sim:
        config = {"backends": {"media": {"vendor": "livepeer", **sim.options}}}
        with taskhub.connect("media", config=config) as hub:
            assert isinstance(hub, LivepeerHub)
            assert hub.submit(Upload(url="https://media.example.com/c.mp4", name="c")).ref


TYPED = """
import taskhub
from taskhub.adapters.livepeer.specs import Upload

hub = taskhub.connect("livepeer", api_key="k")
reveal_type(hub)
reveal_type(taskhub.connect("veritone-edge"))
reveal_type(taskhub.connect("media"))
hub.ex_delete_asset("a")
hub.submit(Upload(url="https://in/a.mp4", name="a"))
Upload(url="https://in/a.mp4")
taskhub.connect("cognite").ex_asset("a")
"""


def test_a_type_checker_outside_the_project_sees_the_vendor_hubs(tmp_path: Path) -> None:
    """What a user's mypy run says of their pipeline, from their own folder: the package is
    found after the README's editable install, connect is typed per vendor, a spec's missing
    field and another vendor's ``ex_`` call are errors."""
    mypy = shutil.which("mypy", path=str(Path(sys.executable).parent))
    if mypy is None:
        pytest.skip("mypy is not installed in this environment (it is in the dev extra)")
    (tmp_path / "pipeline.py").write_text(textwrap.dedent(TYPED))
    env = {**os.environ, "MYPYPATH": ""}
    result = subprocess.run(
        [mypy, "--strict", "--no-incremental", "--cache-dir", os.devnull, "pipeline.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    out = result.stdout
    assert 'Revealed type is "taskhub.adapters.livepeer.hub.LivepeerHub"' in out, out
    assert 'Revealed type is "taskhub.adapters.veritone_edge.hub.EdgeHub"' in out, out
    assert 'Revealed type is "taskhub.hub.TaskHub"' in out, out
    assert 'Missing positional argument "name" in call to "Upload"' in out, out
    assert '"CogniteHub" has no attribute "ex_asset"' in out, out
    assert out.count("error:") == 2, out


def test_an_unanswered_submit_is_found_through_the_hub_not_sent_again() -> None:
    with simulate("livepeer") as sim, sim.connect(max_retries=0, timeout=0.3) as hub:
        sim.inject("drop", method="POST", path="/asset/upload/url", after_effect=True)
        with pytest.raises(taskhub.OutcomeUnknown) as info:
            hub.submit(Upload(url="https://media.example.com/lost.mp4", name="lost"))
        found = hub.find_submitted(info.value)
        assert found is not None
        assert found.params["upload"]["url"] == "https://media.example.com/lost.mp4"
        assert hub.tracker.state(found.ref) is found.state  # the hub saw it
        assert len(sim.simulator.tasks) == 1


def test_a_vendor_with_no_lookup_says_so_instead_of_answering_not_created(
    toy: Simulation,
) -> None:
    with toy.connect() as hub, pytest.raises(taskhub.UnsupportedOperation, match="check"):
        hub.find_submitted({"n": 1})


def test_a_spec_shows_no_secret_in_its_repr() -> None:
    specs: list[Spec] = [
        Upload(url="https://s3.example.com/in.mp4?X-Amz-Signature=SIGVALUE1", name="x"),
        Upload(url="https://x.example/a", name="x", extra={"encryption": {"encryptedKey": "EK1"}}),
        veritone.Job(
            tasks=[
                {"engineId": "e", "payload": {"url": "https://s/x?sig=SIGVALUE2", "token": "TOK1"}}
            ],
            target_id="1",
        ),
        Run(workflow="w", version="1", input={"password": "PASSWORD1"}),
        edge.Job(tasks=[{"engineId": "e", "payload": {"apiKey": "APIKEY1"}}]),
    ]
    for spec in specs:
        shown = repr(spec)
        assert shown.startswith(type(spec).__name__ + "(")
        for secret in ("SIGVALUE1", "EK1", "SIGVALUE2", "TOK1", "PASSWORD1", "APIKEY1"):
            assert secret not in shown, shown


def _deep(levels: int) -> dict[str, object]:
    value: dict[str, object] = {}
    for _ in range(levels):
        value = {"a": value}
    return value


def test_what_json_cannot_carry_is_refused_in_the_spec_naming_where() -> None:
    url, name = "https://media.example.com/a.mp4", "a"
    cases: list[tuple[Callable[[], Spec], str, str]] = [
        (lambda: Upload(url=url, name=name, storage={"p": {1, 2}}), "storage.p", "set is not"),
        (lambda: Clip(playback_id="p", start_time=float("nan")), "start_time", "not a JSON"),
        (lambda: Clip(playback_id="p", start_time=1, end_time=float("inf")), "end_time", "JSON"),
        (lambda: Run(workflow="w", version="1", input={"x": [float("nan")]}), "input.x[0]", "JSON"),
        (lambda: Run(workflow="w", version="1", input=_deep(5000)), "input", "deeper than 100"),
        (lambda: Upload(url=url, name=name, storage={"p": {1: "a"}}), "storage.p", "key 1"),
        (lambda: veritone.Job(tasks=[{"engineId": "e", 1: 2}], target_id="1"), "tasks[0]", "key"),  # type: ignore[dict-item]
        (
            lambda: veritone.Job(tasks=[{"engineId": 5}], target_id="1"),
            "tasks[0].engineId",
            "string",
        ),
        (lambda: edge.Job(tasks=[{"engineId": ["x"]}]), "tasks[0].engineId", "string"),
        (lambda: Upload(url=url, name=name, extra={"bogus": 1}), "extra.bogus", "no field 'bogus'"),
        (
            lambda: edge.Job(tasks=[{"engineId": "e"}], extra={"taskRoutes": []}),
            "extra.taskRoutes",
            "no field",
        ),
        (lambda: Upload.from_fields(None), "spec", "must be a mapping"),  # type: ignore[arg-type]
    ]
    for make, field, words in cases:
        with pytest.raises(InvalidRequest, match=words) as info:
            make()
        assert info.value.field is not None and info.value.field.startswith(field.split(".")[0])
        assert field in str(info.value) or info.value.field == field


def test_a_config_jobs_unknown_field_is_named_before_any_request() -> None:
    with simulate("livepeer") as sim:
        config = {
            "backends": {"media": {"vendor": "livepeer", **sim.options}},
            "jobs": {
                "t": {
                    "spec": {
                        "kind": "transcode-file",
                        "input": {"url": "https://m.example/a.mp4"},
                        "storage": {"type": "web3.storage", "credentials": {"proof": "P"}},
                        "outputs": {"hls": {"path": "/h"}},
                        "bogus": 1,
                    }
                }
            },
        }
        with taskhub.connect("media", config=config) as hub:
            before = len(sim.requests)
            with pytest.raises(InvalidRequest, match="no field 'bogus'") as info:
                hub.submit_job("t")
            assert info.value.field == "bogus"
            assert len(sim.requests) == before
