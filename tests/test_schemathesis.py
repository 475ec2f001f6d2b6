"""schemathesis, run against each simulator with the vendor's own published schema.

schemathesis (the property-based API tester) reads the vendor's document, generates requests
for the operations the simulator implements -- valid ones and invalid ones, undeclared methods,
missing credentials -- and checks every answer with all of its checks (status codes, content
types, headers, response schemas, invalid input refused, valid input accepted, auth). Each
vendor runs twice: once with made-up ids (so most reads are 404s and the validation paths are
exercised) and once with real ids created first (so the answers that carry data are checked
against the response schemas).

The documents are the public files in ``../shared/reference`` (never part of this project):
without them the tests skip. Where a document itself is wrong, tests/schema_exceptions.py
lists the exception and its evidence; nothing else loosens a run.

Runs are deterministic (derandomized generation, which fixes hypothesis' seed and keeps no
example database; the ``--seed`` is passed as well) and bounded (``MAX_EXAMPLES`` per operation
and phase; the coverage phase, which dominates, is bounded by the schema itself). A vendor's
two runs go side by side, so the six take well under a minute together.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs
import pytest
import requests
from graphql import (
    GraphQLInterfaceType,
    GraphQLObjectType,
    build_schema,
    print_schema,
)

from taskhub.adapters.veritone.schema import schema as simulator_schema
from taskhub.adapters.veritone.simulator import DEFAULT_ENGINE, EXTERNAL_ENGINE, GRAPHQL_PATH
from taskhub.adapters.veritone_edge.simulator import ENGINE, OUTPUT_WRITER
from taskhub.testing import Simulation, simulate
from tests import schema_exceptions

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
ROOT = Path(__file__).resolve().parents[1]
SEED = 21
MAX_EXAMPLES = 6
WORKERS = 1
#: The two runs of a vendor: ids made up, and real ones created first.
IDS = ("made-up", "real")
#: One run's ceiling; a run normally takes a few seconds.
TIMEOUT_S = 120


#: What each check expects by default (schemathesis 4.32, config/_checks.py); a
#: :class:`schema_exceptions.Status` adds to these.
DEFAULT_EXPECTED: dict[str, list[str | int]] = {
    "positive_data_acceptance": ["2xx", "3xx", 401, 403, 404, 409, 429, "5xx"],
    "negative_data_rejection": [400, 401, 403, 404, 405, 406, 409, 415, 422, 428, 429, "5xx"],
    "not_a_server_error": ["2xx", "3xx", "4xx"],
}


@attrs.frozen
class Run:
    """What one schemathesis run needs from a running simulator."""

    url: str
    headers: dict[str, str]
    #: Path or query parameters fixed to real values: name -> value.
    parameters: dict[str, str] = attrs.field(factory=dict)
    #: The same, for one operation only: operation id -> name -> value.
    per_operation: dict[str, dict[str, str]] = attrs.field(factory=dict)
    #: Values drawn for body fields or GraphQL arguments: binding key -> values.
    dictionaries: dict[str, list[str]] = attrs.field(factory=dict)


@attrs.frozen
class Vendor:
    """One vendor's document, the operations its simulator implements, and how to set up."""

    name: str
    document: str
    operations: tuple[str, ...]
    made_up: Callable[[Simulation], Run]
    real: Callable[[Simulation], Run]


# -- Veritone Edge ------------------------------------------------------------------------------


def _edge_headers(sim: Simulation) -> dict[str, str]:
    # The spec's own scheme (an ``api_key`` header), so that schemathesis can leave it out.
    return {"api_key": sim.simulator.token}  # type: ignore[attr-defined]


def _edge_create(sim: Simulation, *engines: str) -> dict[str, Any]:
    headers = _edge_headers(sim)
    body = {"jobs": [{"tasks": [{"engineId": e} for e in engines]}]}
    made = requests.post(sim.url + "/proc/job/create", json=body, headers=headers, timeout=5)
    job_id = made.json()["internalJobIds"][0]
    return {"id": job_id, "headers": headers}


def _edge_detail(sim: Simulation, job_id: str) -> dict[str, Any]:
    url = f"{sim.url}/proc/job/{job_id}/detail"
    detail: dict[str, Any] = requests.get(url, headers=_edge_headers(sim), timeout=5).json()["job"]
    return detail


def _edge_made_up(sim: Simulation) -> Run:
    return Run(sim.url, _edge_headers(sim))


def _edge_real(sim: Simulation) -> Run:
    done = _edge_create(sim, ENGINE, OUTPUT_WRITER)["id"]
    doomed = _edge_create(sim, ENGINE)["id"]
    spare = _edge_create(sim, ENGINE, OUTPUT_WRITER)["id"]
    worked = _edge_create(sim, ENGINE)["id"]
    sim.clock.advance(60)
    detail = _edge_detail(sim, done)
    outputs = requests.get(
        f"{sim.url}/proc/job/{done}/outputs", headers=_edge_headers(sim), timeout=5
    ).json()["outputs"]["outputs"]
    return Run(
        sim.url,
        _edge_headers(sim),
        parameters={
            "JobID": done,
            "TaskID": detail["tasks"][0]["internalTaskID"],
            "JobOutputName": outputs[0]["name"],
            "jobID": done,
        },
        per_operation={
            "deleteJob": {"JobID": doomed},
            "deleteTask": {"TaskID": _edge_detail(sim, spare)["tasks"][1]["internalTaskID"]},
        },
        dictionaries={
            "body.taskIDs[*]": [_edge_detail(sim, worked)["tasks"][0]["internalTaskID"]],
        },
    )


EDGE = Vendor(
    "veritone-edge",
    "veritone-edge-openapi-3.15.2.yaml",
    (
        "createJob",
        "getJobStatus",
        "get_job_detail",
        "get_job_outputs",
        "get_job_output",
        "get_job_download",
        "deleteJob",
        "get_jobs",
        "get_task_detail",
        "get_task_outputs",
        "deleteTask",
        "update_task_status",
        "get_engines",
    ),
    _edge_made_up,
    _edge_real,
)

# -- Livepeer Studio ----------------------------------------------------------------------------


def _livepeer_headers(sim: Simulation) -> dict[str, str]:
    return {"Authorization": f"Bearer {sim.simulator.api_key}"}  # type: ignore[attr-defined]


def _livepeer_post(sim: Simulation, path: str, body: dict[str, Any]) -> Any:
    headers = _livepeer_headers(sim)
    return requests.post(sim.url + path, json=body, headers=headers, timeout=5).json()


def _livepeer_made_up(sim: Simulation) -> Run:
    return Run(sim.url, _livepeer_headers(sim))


def _livepeer_real(sim: Simulation) -> Run:
    url = "https://media.example.com/in.mp4"
    ready = _livepeer_post(sim, "/asset/upload/url", {"url": url, "name": "in.mp4"})
    doomed = _livepeer_post(sim, "/asset/upload/url", {"url": url + "?2", "name": "two.mp4"})
    stream = _livepeer_post(sim, "/stream", {"name": "live"})
    session = sim.simulator.start_session(stream["id"])  # type: ignore[attr-defined]
    clip = {"playbackId": stream["playbackId"], "startTime": 0}
    _livepeer_post(sim, "/clip", clip)
    sim.clock.advance(60)
    stream_ids = {"id": stream["id"]}
    session_ids = {"id": session}
    return Run(
        sim.url,
        _livepeer_headers(sim),
        parameters={"assetId": ready["asset"]["id"], "taskId": ready["task"]["id"]},
        per_operation={
            "deleteAsset": {"assetId": doomed["asset"]["id"]},
            "getStream": stream_ids,
            "getClips": stream_ids,
            "getSession": session_ids,
            "getSessionClips": session_ids,
        },
    )


LIVEPEER = Vendor(
    "livepeer",
    "livepeer-studio-api-schema.yaml",
    (
        "getTasks",
        "getTask",
        "getAssets",
        "requestUpload",
        "uploadAsset",
        "getAsset",
        "updateAsset",
        "deleteAsset",
        "transcodeVideo",
        "createClip",
        "getClips",
        "getSessionClips",
        "getSession",
        "createStream",
        "getStream",
    ),
    _livepeer_made_up,
    _livepeer_real,
)

# -- Veritone aiWARE (GraphQL) ----------------------------------------------------------------


def _veritone_headers(sim: Simulation) -> dict[str, str]:
    return {"Authorization": f"Bearer {sim.simulator.token}"}  # type: ignore[attr-defined]


def _veritone_made_up(sim: Simulation) -> Run:
    return Run(sim.url + GRAPHQL_PATH, _veritone_headers(sim))


def _veritone_real(sim: Simulation) -> Run:
    simulator: Any = sim.simulator

    def job(*tasks: dict[str, Any], target: str | None = None) -> dict[str, Any]:
        spec: dict[str, Any] = {"tasks": list(tasks), "routes": []}
        if target is not None:
            spec["targetId"] = target
        made: dict[str, Any] = simulator.m_createJob(None, input=spec)
        return made

    tdo = simulator.add_tdo(name="recording")["id"]
    doomed_tdo = simulator.add_tdo(name="doomed")["id"]
    asset = simulator.add_asset(tdo, "media", "video/mp4", data=b"\0" * 64, name="in.mp4")["id"]
    done = job({"engineId": DEFAULT_ENGINE, "payload": {"url": "https://x/in.mp4"}}, target=tdo)
    failed = job({"engineId": DEFAULT_ENGINE, "payload": {"simulate": "fail"}})
    doomed = job({"engineId": DEFAULT_ENGINE})
    worker = job({"engineId": EXTERNAL_ENGINE}, target=tdo)
    sim.clock.advance(60)
    task = done["tasks"](None)["records"][0]["id"]
    external = worker["tasks"](None)["records"][0]["id"]
    return Run(
        sim.url + GRAPHQL_PATH,
        _veritone_headers(sim),
        dictionaries={
            "Query.job.id": [done["id"]],
            "Query.jobs.id": [done["id"]],
            "Query.jobs.targetId": [tdo],
            "Query.task.id": [task],
            "Query.temporalDataObject.id": [tdo],
            "Query.asset.id": [asset],
            "Query.engineResults.jobId": [done["id"]],
            "Query.engineResults.tdoId": [tdo],
            "Mutation.cancelJob.id": [doomed["id"]],
            "Mutation.retryJob.id": [failed["id"]],
            "Mutation.deleteTDO.id": [doomed_tdo],
            "Mutation.createJob.input.targetId": [tdo],
            "Mutation.createAsset.input.containerId": [tdo],
            "Mutation.updateTask.input.id": [external],
            "Mutation.uploadEngineResult.input.taskId": [external],
        },
    )


VERITONE = Vendor(
    "veritone",
    "veritone-graphql-schema-2019-09.graphql",
    (
        "Query.job",
        "Query.jobs",
        "Query.task",
        "Query.temporalDataObject",
        "Query.asset",
        "Query.engineResults",
        "Mutation.updateTask",
        "Mutation.createJob",
        "Mutation.cancelJob",
        "Mutation.retryJob",
        "Mutation.createAsset",
        "Mutation.uploadEngineResult",
        "Mutation.userLogin",
        "Mutation.createTDO",
        "Mutation.deleteTDO",
    ),
    _veritone_made_up,
    _veritone_real,
)

VENDORS = {v.name: v for v in (EDGE, LIVEPEER, VERITONE)}


# -- running schemathesis ---------------------------------------------------------------------


def scoped_sdl(published: str, scoped: Sequence[str]) -> str:
    """The published SDL with each ``scoped`` type as the simulator declares it: only its
    fields, and (an interface) no longer implemented by types the simulator lacks."""
    schema = build_schema(published)
    ours = simulator_schema()
    for name in scoped:
        theirs, mine = schema.type_map[name], ours.type_map[name]
        assert isinstance(theirs, (GraphQLObjectType, GraphQLInterfaceType)), name
        assert isinstance(mine, (GraphQLObjectType, GraphQLInterfaceType)), name
        for field in set(theirs.fields) - set(mine.fields):
            del theirs.fields[field]
        if isinstance(theirs, GraphQLInterfaceType):
            for other in schema.type_map.values():
                if isinstance(other, (GraphQLObjectType, GraphQLInterfaceType)):
                    kept = tuple(i for i in other.interfaces if i is not theirs)
                    other.interfaces = kept  # a cached_property: this schema's copy
    text = print_schema(schema)
    build_schema(text)  # still a valid schema
    return text


def load_yaml(text: str) -> Any:
    """A YAML document as JSON values: dates stay the strings they are written as."""
    yaml: Any = pytest.importorskip("yaml")

    class Loader(yaml.SafeLoader):  # type: ignore[misc]
        yaml_implicit_resolvers = {
            first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
            for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }

    return yaml.load(text, Loader=Loader)  # a SafeLoader


def _pointer_parts(pointer: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]


def patched(document: dict[str, Any], patches: Sequence[schema_exceptions.Patch]) -> Any:
    """``document`` with every patch applied (a patch whose parent is missing is an error)."""
    result = json.loads(json.dumps(document))  # a copy, its keys text (YAML reads 200 as int)
    original = json.loads(json.dumps(document))
    for patch in patches:
        *parents, last = _pointer_parts(patch.pointer)
        node = _resolve(result, parents)
        if patch.value is None:
            del node[last]
        elif isinstance(patch.value, schema_exceptions.Pointer):
            node[last] = _resolve(original, _pointer_parts(patch.value.pointer))
        else:
            node[last] = patch.value
    return result


def _resolve(document: Any, parts: Sequence[str]) -> Any:
    node = document
    for part in parts:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + items + " }"
    raise TypeError(value)


def config_toml(vendor: Vendor, run: Run) -> str:
    """The schemathesis.toml of one run: parameters, dictionaries, the listed exceptions."""
    statuses = schema_exceptions.for_vendor(vendor.name).statuses
    lines = ["[cache]", "enabled = false", ""]
    if run.parameters or run.dictionaries:
        lines.append("[parameters]")
        for name, value in run.parameters.items():
            lines.append(f"{json.dumps(name)} = {_toml_value(value)}")
        for n, key in enumerate(run.dictionaries):
            lines.append(f'{json.dumps(key)} = {{ dictionary = "d{n}" }}')
        lines.append("")
    for n, values in enumerate(run.dictionaries.values()):
        lines += [f"[dictionaries.d{n}]", f"values = {_toml_value(values)}", ""]
    for operation, parameters in run.per_operation.items():
        lines += [
            "[[operations]]",
            f"include-operation-id = {json.dumps(operation)}",
            f"parameters = {_toml_value(parameters)}",
            "",
        ]
    for status in statuses:
        expected = [*DEFAULT_EXPECTED[status.check], *status.statuses]
        lines += [
            "[[operations]]",
            f"include-operation-id = {json.dumps(status.operation)}",
            f"checks.{status.check}.expected-statuses = " + _toml_value(expected),
            "",
        ]
    return "\n".join(lines)


def schemathesis(vendor: Vendor, run: Run, folder: Path) -> subprocess.CompletedProcess[str]:
    """Run the schemathesis command line once, in ``folder``, and return what it said."""
    exceptions = schema_exceptions.for_vendor(vendor.name)
    folder.mkdir(parents=True, exist_ok=True)
    source = REFERENCE / vendor.document
    if source.suffix == ".graphql":
        location = folder / "schema.graphql"
        sdl = scoped_sdl(source.read_text(encoding="utf-8"), exceptions.scoped)
        location.write_text(sdl, encoding="utf-8")
    else:
        location = folder / "schema.json"
        document = load_yaml(source.read_text(encoding="utf-8"))
        patches = exceptions.patches
        location.write_text(json.dumps(patched(document, patches)), encoding="utf-8")
    config = folder / "schemathesis.toml"
    config.write_text(config_toml(vendor, run), encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--no-color",
        "--config-file",
        str(config),
        "run",
        str(location),
        "--url",
        run.url,
        "--checks",
        "all",
        "--seed",
        str(SEED),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--generation-deterministic",  # derandomized: no example database either
        "--workers",
        str(WORKERS),
        "--output-truncate",
        "false",
    ]
    for disabled in exceptions.disabled:
        command += ["--exclude-checks", disabled.check]
    flag = "--include-name" if source.suffix == ".graphql" else "--include-operation-id"
    for operation in vendor.operations:
        command += [flag, operation]
    for name, value in run.headers.items():
        command += ["--header", f"{name}: {value}"]
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks",
        "TASKHUB_SCHEMATHESIS_VENDOR": vendor.name,
    }
    return subprocess.run(
        command,
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )


def _failures(output: str) -> str:
    """The part of schemathesis' report worth reading when a run fails."""
    start = min(
        (i for i in (output.find("= FAILURES ="), output.find("= ERRORS =")) if i >= 0),
        default=0,
    )
    return output[max(0, output.rfind("\n", 0, start)) :]


@pytest.fixture(scope="module")
def reference() -> Path:
    pytest.importorskip(
        "schemathesis",
        reason="schemathesis 4.32 (the test extra) installs on Python 3.11 and newer only",
    )
    if not REFERENCE.is_dir():
        pytest.skip(f"no vendor schemas at {REFERENCE} (the reference folder is absent)")
    return REFERENCE


@attrs.frozen
class Outcome:
    """What one run left: schemathesis' exit code and report, the simulator's crashes."""

    ids: str
    returncode: int
    report: str
    crashes: list[Exception]
    seconds: float


def run_once(target: Vendor, ids: str, folder: Path) -> Outcome:
    """One run: a fresh simulator, its ids (made up or real), schemathesis against it."""
    started = time.perf_counter()
    with simulate(target.name) as sim:
        run = (target.made_up if ids == "made-up" else target.real)(sim)
        result = schemathesis(target, run, folder)
        crashes = list(sim.simulator.crashes)
    took = time.perf_counter() - started
    return Outcome(ids, result.returncode, result.stdout + result.stderr, crashes, took)


@pytest.mark.parametrize("vendor", list(VENDORS))
def test_the_simulator_passes_schemathesis_against_the_published_schema(
    reference: Path, tmp_path: Path, vendor: str, summary: Callable[[str], None]
) -> None:
    """Both runs of a vendor, side by side (two simulators, two schemathesis processes: the
    runs share nothing, and each is deterministic on its own)."""
    target = VENDORS[vendor]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(run_once, target, ids, tmp_path / ids) for ids in IDS]
        outcomes = [f.result() for f in futures]
    took = time.perf_counter() - started
    each = ", ".join(f"{o.ids} {o.seconds:.1f} s" for o in outcomes)
    summary(f"schemathesis {vendor}: {took:.1f} s ({each})")
    for outcome in outcomes:
        assert not outcome.crashes, (outcome.ids, outcome.crashes)
        assert outcome.returncode == 0, f"{outcome.ids} ids:\n{_failures(outcome.report)}"


@pytest.mark.parametrize("vendor", list(VENDORS))
def test_every_listed_exception_names_something_real(reference: Path, vendor: str) -> None:
    """An exception that no longer applies (a pointer, operation or type that is not there)
    fails here rather than loosening a run silently."""
    target = VENDORS[vendor]
    exceptions = schema_exceptions.for_vendor(vendor)
    assert all(p.evidence for p in exceptions.patches)
    assert all(s.evidence for s in exceptions.statuses)
    assert {s.operation for s in exceptions.statuses} <= set(target.operations)
    for entry in exceptions.graphql_errors:
        assert set(entry.operations) <= set(target.operations)
    if exceptions.patches:
        document = load_yaml((reference / target.document).read_text(encoding="utf-8"))
        for patch in exceptions.patches:
            parts = _pointer_parts(patch.pointer)
            parent = _resolve(json.loads(json.dumps(document)), parts[:-1])
            assert isinstance(parent, dict), patch.pointer
            if patch.value is None:
                assert parts[-1] in parent, patch.pointer
    for name in exceptions.scoped:
        stub = simulator_schema().type_map[name]
        assert isinstance(stub, (GraphQLObjectType, GraphQLInterfaceType)), name
        assert len(stub.fields) <= 3, name  # a stub, not a type the simulator serves
