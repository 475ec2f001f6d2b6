"""``taskhub submit`` through the installed command, on every vendor's simulator.

The simulators run in this process (so a test can break them and count what reached them);
the command is a real subprocess talking to them over loopback HTTP. Each vendor's jobs take
the same parameters, as a pipeline that swaps vendor by configuration passes them.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import jsonschema
import pytest

from taskhub import config
from taskhub.cli import parser
from taskhub.testing import SimClock, Simulation, simulate

ROOT = Path(__file__).parent.parent
SCHEMA = json.loads((ROOT / "docs" / "task.schema.json").read_text())
VENDORS = ("cognite", "livepeer", "veritone", "veritone-edge", "vionlabs")
VERITONE_ENGINE = "54525249-da68-4dbf-b6fe-aea9a1aefd4d"
EDGE_ENGINE = "1a2b3c4d-0000-4000-8000-00000000e001"
EDGE_WRITER = "8eccf9cc-6b6d-4d7d-8cb3-7ebf4950c5f3"
MEDIA = "https://media.example.com"

#: Each vendor's job: a spec template whose placeholders the command's parameters fill.
JOBS: dict[str, dict[str, Any]] = {
    "cognite": {"workflow": "${workflow}", "version": "1", "input": {"fileId": "${file_id}"}},
    "livepeer": {"kind": "upload", "url": "${url}", "name": "${name:-in.mp4}"},
    "veritone": {
        "tasks": [{"engineId": VERITONE_ENGINE, "payload": "${payload}"}],
        "target": {"startDateTime": 1700000000, "stopDateTime": 1700000060, "name": "cli"},
    },
    "veritone-edge": {
        "tasks": [
            {"engineId": EDGE_ENGINE, "correlationTaskId": "t", "payload": "${payload}"},
            {"engineId": EDGE_WRITER, "correlationTaskId": "writer"},
        ]
    },
    "vionlabs": {"inventory_id": "${item}", "product": "markers", "version": "1.0.1"},
}
#: The parameters each job does not use and accepts anyway.
IGNORED = {"livepeer": ["file_id"]}
#: A spec the vendor's typed spec refuses, and the words of the refusal.
BAD_SPECS: dict[str, tuple[dict[str, Any], str]] = {
    "cognite": ({"workflow": "w", "version": 1}, "version"),
    "livepeer": ({"kind": "upload", "url": 5, "name": "x"}, "url"),
    "veritone": ({"tasks": []}, "tasks"),
    "veritone-edge": ({"tasks": "none"}, "tasks"),
    "vionlabs": ({"inventory_id": "x", "product": "nosuch", "version": "1"}, "product"),
}
#: The request that creates the vendor's work (method, path pattern).
CREATES = {
    "cognite": "/run$",
    "livepeer": "/asset/upload/url$",
    "veritone": "/v3/graphql$",
    "veritone-edge": "/proc/job/create$",
    "vionlabs": "/tasks/",
}
_items = itertools.count()


@attrs.frozen
class Setup:
    """Running simulators and the configuration file that names them."""

    config: Path
    sims: dict[str, Simulation]


def params(vendor: str, sims: dict[str, Simulation], *, fail: bool = False) -> list[str]:
    """``--param`` arguments for ``vendor``'s job: work that succeeds, or fails."""
    if vendor == "cognite":
        return ["workflow=cli-fail" if fail else "workflow=taskhub-auto", "file_id=7"]
    if vendor == "livepeer":
        name = "fail-fatal" if fail else "ok"
        return [f"url={MEDIA}/{name}.mp4", "file_id=7"]  # file_id: accepted and ignored
    if vendor in ("veritone", "veritone-edge"):
        payload = {"simulate": "fail"} if fail else {"url": f"{MEDIA}/talk.mp4"}
        return [f"payload={json.dumps(payload)}"]  # a JSON value stays an object
    item = f"film-{next(_items)}"  # Vionlabs: one task per item, product and version
    sims["vionlabs"].simulator.add_item(  # type: ignore[attr-defined]
        {
            "id": item,
            "type": "standalone",
            "title": item,
            "asset_url": f"s3://bucket/{'corrupt' if fail else 'ok'}-{item}.mp4",
        }
    )
    return [f"item={item}"]


def inline(value: Any) -> str:
    """``value`` as a TOML inline value."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {inline(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(inline(v) for v in value) + "]"
    return json.dumps(value)


def write_config(path: Path, sims: dict[str, Simulation]) -> Path:
    lines = []
    for vendor, sim in sims.items():
        lines.append(f'[backends."{vendor}"]\nvendor = "{vendor}"')
        options = {**sim.options, "poll_interval": 0.05, "poll_max": 0.2}
        lines += [f"{key} = {json.dumps(value)}" for key, value in options.items()]
        lines.append(f'\n[jobs."{vendor}-job"]\nbackend = "{vendor}"')
        lines.append(f"spec = {inline(JOBS[vendor])}")
        if vendor in IGNORED:
            lines.append(f"ignore = {json.dumps(IGNORED[vendor])}")
        lines.append("")
    path.write_text("\n".join(lines))
    return path


@contextlib.contextmanager
def running(folder: Path, clock: dict[str, Any]) -> Iterator[Setup]:
    with contextlib.ExitStack() as stack:
        sims = {v: stack.enter_context(simulate(v, clock=SimClock(**clock))) for v in VENDORS}
        cognite = sims["cognite"].simulator
        fail = [{"externalId": "step", "type": "function",
                 "parameters": {"function": {"externalId": "fail-fn"}}}]  # fmt: skip
        cognite.upsert_workflow("cli-fail")  # type: ignore[attr-defined]
        cognite.upsert_version("cli-fail", "1", fail)  # type: ignore[attr-defined]
        yield Setup(write_config(folder / "taskhub.toml", sims), sims)


@pytest.fixture(scope="module")
def fast(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    """Simulators whose work finishes in well under a second."""
    with running(tmp_path_factory.mktemp("fast"), {"speed": 200}) as setup:
        yield setup


@pytest.fixture(scope="module")
def frozen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    """Simulators whose clock never moves: no work ever finishes."""
    with running(tmp_path_factory.mktemp("frozen"), {"manual": True}) as setup:
        yield setup


def taskhub(setup: Setup, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKHUB_")}
    env.update(COLUMNS="100", TASKHUB_CONFIG=str(setup.config))
    command = shutil.which("taskhub", path=str(Path(sys.executable).parent))
    assert command is not None, "the taskhub console script is not installed"
    return subprocess.run([command, *args], capture_output=True, text=True, env=env, timeout=120)


def creates(sim: Simulation, vendor: str) -> int:
    """How many creating requests reached ``sim``."""
    return sum(
        1
        for r in sim.requests
        if r.method == "POST"
        and re.search(CREATES[vendor], r.path)
        and (vendor != "veritone" or "createJob" in json.dumps(r.json()))
    )


def with_params(vendor: str, sims: dict[str, Simulation], *, fail: bool = False) -> list[str]:
    return [arg for p in params(vendor, sims, fail=fail) for arg in ("--param", p)]


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_job_is_submitted_and_waited_for_to_success(fast: Setup, vendor: str) -> None:
    done = taskhub(fast, "submit", f"{vendor}-job", *with_params(vendor, fast.sims), "--wait")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    ref = lines[0]
    assert ref.startswith(f"{vendor}:")  # the ref first, for a script to read
    assert f"{ref}: first seen as " in lines[1]  # then the live progress display (not a tty)
    assert lines[-1].endswith(")") and " -> succeeded (" in lines[-1]
    assert done.stderr == ""
    assert creates(fast.sims[vendor], vendor) >= 1


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_spec_file_is_submitted_as_the_task_json(
    fast: Setup, vendor: str, tmp_path: Path
) -> None:
    # The job's spec with its placeholders filled, as the command fills them.
    job = config.Job("j", vendor, JOBS[vendor], ignore=IGNORED.get(vendor, []))
    spec = job.resolve(dict(parser.param(p) for p in params(vendor, fast.sims)))
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    before = creates(fast.sims[vendor], vendor)
    done = taskhub(
        fast, "submit", "--spec", str(tmp_path / "spec.json"), "--backend", vendor,
        "--format", "json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    task = json.loads(done.stdout)
    jsonschema.validate(task, SCHEMA)
    assert task["backend"] == vendor and task["ref"] == f"{vendor}:{task['id']}"
    assert creates(fast.sims[vendor], vendor) == before + 1


@pytest.mark.parametrize("vendor", VENDORS)
def test_work_that_fails_exits_1_and_says_how_it_ended(fast: Setup, vendor: str) -> None:
    args = with_params(vendor, fast.sims, fail=True)
    done = taskhub(fast, "submit", f"{vendor}-job", *args, "--wait", "--format", "json")
    assert done.returncode == 1, done.stderr
    task = json.loads(done.stdout)  # the finished task; the progress went to stderr
    assert task["status"]["state"] == "failed"
    assert done.stderr.splitlines()[-1].startswith(f"taskhub: {task['ref']} ended failed")


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_wait_that_times_out_exits_3_and_the_ref_is_printed(frozen: Setup, vendor: str) -> None:
    args = with_params(vendor, frozen.sims)
    done = taskhub(frozen, "submit", f"{vendor}-job", *args, "--wait", "--timeout", "0.5")
    assert done.returncode == 3, done.stderr
    ref = done.stdout.splitlines()[0]
    assert ref.startswith(f"{vendor}:")
    assert "still unfinished" in done.stderr and ref.split(":", 1)[1] in done.stderr


@pytest.mark.parametrize("vendor", VENDORS)
def test_mistakes_exit_2_before_any_request(fast: Setup, vendor: str, tmp_path: Path) -> None:
    sim = fast.sims[vendor]
    seen = len(sim.requests)
    spec, field = BAD_SPECS[vendor]
    (tmp_path / "bad.json").write_text(json.dumps(spec))
    refused = taskhub(fast, "submit", "--spec", str(tmp_path / "bad.json"), "--backend", vendor)
    assert refused.returncode == 2, refused.stderr
    assert field in refused.stderr and len(refused.stderr.splitlines()) == 1
    typo = taskhub(fast, "submit", f"{vendor}-job", *with_params(vendor, fast.sims), "--param",
                   "fiel_id=1")  # fmt: skip
    assert typo.returncode == 2
    assert "unknown parameter 'fiel_id'" in typo.stderr
    unknown = taskhub(fast, "submit", f"{vendor}-jb")
    assert unknown.returncode == 2 and f"did you mean '{vendor}-job'" in unknown.stderr
    assert len(sim.requests) == seen


@pytest.mark.parametrize("vendor", VENDORS)
def test_an_unanswered_submit_is_not_sent_again_and_says_how_to_look(
    fast: Setup, vendor: str
) -> None:
    sim = fast.sims[vendor]
    before = creates(sim, vendor)
    args = with_params(vendor, fast.sims)
    # The vendor carries the submit out and the answer never comes.
    sim.inject("drop", method="POST", path=CREATES[vendor], after_effect=True, times=1)
    done = taskhub(fast, "submit", f"{vendor}-job", *args, "--wait")
    sim.simulator.faults.clear()
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert creates(sim, vendor) == before + 1  # sent once, never twice
    lines = done.stderr.splitlines()
    assert lines[0].startswith("taskhub: error: ") and "Traceback" not in done.stderr
    if vendor == "vionlabs":  # the caller names the task: the very ref to get
        look = f"`taskhub get vionlabs:{args[1].split('=')[1]}/markers/1.0.1`"
    else:
        look = f"`taskhub ls --backend {vendor}`"
    assert "the task may exist" in lines[1] and look in lines[1]
    looked = taskhub(fast, *look.strip("`").split()[1:])  # the command it gives works
    assert looked.returncode == 0, looked.stderr


def test_parameters_from_a_file_and_the_line_json_values_typed(fast: Setup, tmp_path: Path) -> None:
    sim = fast.sims["cognite"]
    (tmp_path / "p.json").write_text(json.dumps({"workflow": "taskhub-auto", "file_id": "x"}))
    done = taskhub(
        fast, "submit", "cognite-job", "--params-file", str(tmp_path / "p.json"),
        "--param", "file_id=7",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    runs = [r.json() for r in sim.requests if r.method == "POST" and r.path.endswith("/run")]
    assert runs[-1]["input"] == {"fileId": 7}  # --param wins, and "7" is the number 7


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "is not JSON"),
        ("[1, 2]", "must hold one JSON object, not an array"),
    ],
)
def test_a_params_file_that_is_not_one_json_object_exits_2(
    fast: Setup, tmp_path: Path, text: str, says: str
) -> None:
    (tmp_path / "p.json").write_text(text)
    done = taskhub(fast, "submit", "cognite-job", "--params-file", str(tmp_path / "p.json"))
    assert done.returncode == 2
    assert done.stderr.startswith("taskhub: error: --params-file: ") and says in done.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ((), "name a JOB or give --spec FILE.json"),
        (("livepeer-job", "--spec", "s.json"), "name a JOB or give --spec FILE.json"),
        (("livepeer-job", "--timeout", "1"), "--timeout applies to --wait"),
        (("--spec", "s.json", "--param", "a=1"), "a --spec is sent as written"),
        (("livepeer-job", "--param", "novalue"), "argument --param: 'novalue' is not KEY=VALUE"),
        (("livepeer-job", "--backend", "vionlabs"), "runs on backend 'livepeer', not on 'vionla"),
        (("livepeer-job", "--backend", "livepeeer"), "did you mean 'livepeer'"),
    ],
)
def test_usage_mistakes_exit_2_in_one_line(fast: Setup, args: tuple[str, ...], says: str) -> None:
    done = taskhub(fast, "submit", *args)
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1 and says in done.stderr, done.stderr


def test_jobs_lists_each_job_its_backend_and_parameters(fast: Setup) -> None:
    listed = taskhub(fast, "jobs")
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line for line in listed.stdout.splitlines()}
    assert rows["livepeer-job"].split()[1:] == ["livepeer", "url,", "name", "(ignores", "file_id)"]
    assert rows["cognite-job"].split()[1:] == ["cognite", "workflow,", "file_id"]
    names = taskhub(fast, "jobs", "--names").stdout.split()
    assert names == [f"{v}-job" for v in VENDORS]
