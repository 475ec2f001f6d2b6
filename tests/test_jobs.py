"""Named jobs with parameters, and backends whose environment is read only when opened."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import taskhub
from taskhub import ConfigError, config
from taskhub.testing import Simulation, simulate


@pytest.fixture
def sim() -> Iterator[Simulation]:
    with simulate("livepeer") as running:
        yield running


def _config(sim: Simulation) -> dict[str, object]:
    return {
        "default": "media",
        "backends": {
            "media": {"vendor": "livepeer", "api_key": "${LP_KEY}", "base_url": sim.url},
            "archive": {"vendor": "cognite", "project": "p", "base_url": "https://x.example",
                        "token": "${COGNITE_TOKEN}"},
        },
        "jobs": {
            "ingest": {
                "backend": "media",
                "spec": {"kind": "upload", "url": "${url}", "name": "${name:-input.mp4}"},
            },
            "archive": {"backend": "archive", "spec": {"workflow": "w", "version": "1"}},
        },
    }  # fmt: skip


def test_one_job_serves_every_input(sim: Simulation) -> None:
    cfg = config.parse(_config(sim), environ={"LP_KEY": sim.options["api_key"]})
    with taskhub.connect("media", config=cfg) as hub:
        first = hub.submit_job("ingest", url="https://in.example/1.mp4")
        second = hub.submit_job("ingest", url="https://in.example/2.mp4", name="two.mp4")
    assert first.id != second.id
    bodies = [r.json() for r in sim.requests if r.method == "POST"]
    assert bodies == [
        {"url": "https://in.example/1.mp4", "name": "input.mp4"},
        {"url": "https://in.example/2.mp4", "name": "two.mp4"},
    ]


def test_the_environment_fills_what_the_call_does_not(sim: Simulation) -> None:
    env = {"LP_KEY": sim.options["api_key"], "url": "https://in.example/env.mp4"}
    cfg = config.parse(_config(sim), environ=env)
    with taskhub.connect("media", config=cfg) as hub:
        hub.submit_job("ingest")
        hub.submit_job("ingest", url="https://in.example/call.mp4")
    urls = [r.json()["url"] for r in sim.requests if r.method == "POST"]
    assert urls == ["https://in.example/env.mp4", "https://in.example/call.mp4"]


def test_an_unfilled_placeholder_names_itself_and_the_job(sim: Simulation) -> None:
    cfg = config.parse(_config(sim), environ={"LP_KEY": sim.options["api_key"]})
    with taskhub.connect("media", config=cfg) as hub:
        with pytest.raises(ConfigError, match=r"placeholder \$\{url\} of job 'ingest'") as info:
            hub.submit_job("ingest")
        assert info.value.path == "jobs.ingest.spec.url"
        with pytest.raises(ConfigError, match="unknown parameter 'ulr'; did you mean 'url'"):
            hub.submit_job("ingest", ulr="https://x")
        with pytest.raises(ConfigError, match="runs on backend 'archive'"):
            hub.submit_job("archive")
    assert sim.requests == []


def test_a_job_placeholder_may_take_a_value_of_any_type() -> None:
    job = config.Job("j", None, {"size": "${n}", "label": "n=${n}"})
    assert job.resolve({"n": 3}) == {"size": 3, "label": "n=3"}
    assert job.placeholders() == ["n"]


def test_another_backends_unset_secret_does_not_stop_this_one(sim: Simulation) -> None:
    cfg = config.parse(_config(sim), environ={"LP_KEY": sim.options["api_key"]})
    with taskhub.connect("media", config=cfg) as hub:
        assert hub.backend == "media"
    with pytest.raises(ConfigError, match="COGNITE_TOKEN is not set") as info:
        taskhub.connect("archive", config=cfg)
    assert "backends.archive.token" in str(info.value)
    with taskhub.connect("archive", config=cfg, token="t" * 20) as archive:
        assert archive.vendor == "cognite"


def test_the_whole_structure_is_still_checked_at_load(sim: Simulation) -> None:
    bad = _config(sim)
    bad["backends"]["archive"]["tiemout"] = 5  # type: ignore[index]
    with pytest.raises(ConfigError, match=r"backends\.archive: unknown option 'tiemout'"):
        config.parse(bad, environ={})
    bad = _config(sim)
    bad["backends"]["archive"]["timeout"] = "soon"  # type: ignore[index]
    with pytest.raises(ConfigError, match=r"backends\.archive\.timeout"):
        config.parse(bad, environ={"COGNITE_TOKEN": "t" * 20})


def _ignoring(sim: Simulation, ignore: object) -> config.Config:
    data = _config(sim)
    data["jobs"]["ingest"]["ignore"] = ignore  # type: ignore[index]
    return config.parse(data, environ={"LP_KEY": sim.options["api_key"]})


def test_a_job_accepts_and_drops_the_parameters_it_declares_ignored(sim: Simulation) -> None:
    """One pipeline passes the same parameters to every vendor's job: Livepeer's ingest has no
    ${file_id}, and says it takes it anyway."""
    cfg = _ignoring(sim, ["file_id"])
    assert cfg.job("ingest").ignore == ("file_id",)
    with taskhub.connect("media", config=cfg) as hub:
        hub.submit_job("ingest", url="https://in.example/1.mp4", file_id=42)
        # A parameter neither used nor ignored is still a mistake, named with a did-you-mean.
        with pytest.raises(ConfigError, match="unknown parameter 'file_ld'; did you mean 'fil"):
            hub.submit_job("ingest", url="https://in.example/1.mp4", file_ld=42)
    bodies = [r.json() for r in sim.requests if r.method == "POST"]
    assert bodies == [{"url": "https://in.example/1.mp4", "name": "input.mp4"}]


@pytest.mark.parametrize(
    ("ignore", "says"),
    [
        ("file_id", "expected a list of parameter names"),
        ([42], "expected a list of parameter names"),
        (["url"], "'url' is both ignored and used by the spec"),
    ],
)
def test_an_ignore_list_is_checked_at_load(sim: Simulation, ignore: object, says: str) -> None:
    with pytest.raises(ConfigError, match=says) as info:
        _ignoring(sim, ignore)
    assert info.value.path == "jobs.ingest.ignore"
