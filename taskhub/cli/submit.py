"""``taskhub submit`` and ``taskhub jobs``: start work from the command line.

Everything that can be checked before a request is: the arguments, the files, the
configuration, the job's parameters (``Job.resolve``) and the spec (the backend's typed spec,
inside ``hub.submit``). A submit is sent once: when it was sent and no answer came
(``OutcomeUnknown``), the task may exist, so the command says how to look for it instead of
sending it again.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

import attrs

from taskhub import config as _config
from taskhub import redact
from taskhub.cli.display import Progress, ended
from taskhub.cli.parser import UsageError
from taskhub.errors import ConfigError, OutcomeUnknown
from taskhub.hub import TaskHub, connect
from taskhub.model import Task, split_ref, unknown_name


def jobs(cfg: _config.Config, names_only: bool, out: TextIO) -> None:
    """Each configured job: its name, backend, the parameters it uses and those it ignores."""
    width = max([0, *(len(n) for n in cfg.jobs)])
    on = max([9, *(len(j.backend or "") for j in cfg.jobs.values())])
    for name, job in cfg.jobs.items():
        if names_only:
            out.write(f"{name}\n")
            continue
        uses = ", ".join(job.placeholders()) or "-"
        ignores = f"  (ignores {', '.join(job.ignore)})" if job.ignore else ""
        out.write(f"{name:{width}}  {job.backend or '(default)':{on}}  {uses}{ignores}\n")


@attrs.frozen
class Request:
    """What to submit, checked: a job and its parameters, or a spec's fields."""

    job: str | None
    params: dict[str, Any]
    fields: dict[str, Any]


def request(args: argparse.Namespace) -> Request:
    """The command's arguments, checked before the configuration is read."""
    if (args.job is None) == (args.spec is None):
        raise UsageError("name a JOB or give --spec FILE.json (one of them)")
    if args.timeout is not None and not args.wait:
        raise UsageError("--timeout applies to --wait: add --wait, or drop --timeout")
    if args.spec is not None:
        if args.param or args.params_file:
            raise UsageError(
                "--param and --params-file fill a JOB's placeholders; a --spec is sent as written"
            )
        return Request(None, {}, _object(args.spec, "--spec"))
    params = _object(args.params_file, "--params-file") if args.params_file else {}
    params.update(dict(args.param))
    return Request(args.job, params, {})


def _object(path: str, option: str) -> dict[str, Any]:
    """The JSON object in the file ``path`` (a usage error naming ``option`` otherwise)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise UsageError(f"{option}: cannot read {path!r}: {reason}") from None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {path!r} is not JSON ({exc})") from None
    if not isinstance(value, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean"}.get(type(value), "a number")
        kind = "null" if value is None else kind
        raise UsageError(f"{option}: {path!r} must hold one JSON object, not {kind}")
    return value


def backend_for(cfg: _config.Config, wanted: Request, named: str | None) -> str:
    """The backend to submit to: --backend, the job's, or the configured default."""
    job = cfg.job(wanted.job) if wanted.job is not None else None
    if named is not None and named not in cfg.backends:
        raise ConfigError(unknown_name(named, list(cfg.backends), "backend"), path="backends")
    if job is not None and job.backend is not None:
        if named is not None and named != job.backend:
            raise ConfigError(
                f"job {job.name!r} runs on backend {job.backend!r}, not on {named!r}; "
                "drop --backend, or submit a job of that backend",
                path=f"jobs.{job.name}.backend",
            )
        return job.backend
    return named or cfg.default_name()


def submit(hub: TaskHub, wanted: Request) -> Task:
    """Submit once (the transport never resends a create that got no answer)."""
    if wanted.job is not None:
        return hub.submit_job(wanted.job, **wanted.params)
    return hub.submit(**wanted.fields)


def lookup_hint(hub: TaskHub, exc: OutcomeUnknown) -> str:
    """How to find the task a submit with an unknown outcome may have created."""
    task_id = exc.lookup.get("task_id")
    if isinstance(task_id, str) and task_id:
        # A vendor whose ids are chosen by the caller (Vionlabs' item/product/version).
        where = f"`taskhub get {hub.backend}:{task_id}`"
    elif "list" in hub.capabilities:
        where = f"`taskhub ls --backend {hub.backend}`"
    else:
        where = f"`taskhub get {hub.backend}:ID` with the id the vendor gives it"
    text = (
        f"taskhub: the submit was sent once and not again: the task may exist. Look for it with "
        f"{where} before submitting again"
    )
    if exc.lookup:
        # The lookup may carry the submitted URL (a signed one is a secret): masked.
        shown = json.dumps(redact.for_vendor(hub.vendor).data(exc.lookup), default=str)
        text += f"; from Python: hub.find_submitted({shown})"
    return text


def follow(hub: TaskHub, task: Task, timeout: float | None, stream: TextIO) -> Task:
    """Show ``task`` until it is finished (the live progress display); the last Task seen.
    A WaitTimeout is left to the command (exit 3)."""
    progress = Progress(stream)
    history = hub.tracker.history(task.ref)
    # The submit made the first observation (the Tracker's history keeps no Task).
    progress.update(task, attrs.evolve(history[-1], task=task) if history else None)
    last = task
    for transition in hub.watch([task.id], timeout=timeout):
        last = transition.task or Task(
            hub.backend, hub.vendor, split_ref(transition.ref)[1], transition.status
        )
        progress.update(last, transition)
    return last


def run(args: argparse.Namespace, cfg: _config.Config, wanted: Request) -> int:
    """The ``submit`` command (``wanted`` from :func:`request`); its exit code."""
    name = backend_for(cfg, wanted, args.backend)
    as_json = args.format == "json"
    with connect(name, config=cfg) as hub:
        try:
            task = submit(hub, wanted)
        except OutcomeUnknown as exc:
            print(f"taskhub: error: {exc}", file=sys.stderr)
            print(lookup_hint(hub, exc), file=sys.stderr)
            return 1
        if not as_json:
            print(task.ref, flush=True)
        if args.wait:
            task = follow(hub, task, args.timeout, sys.stderr if as_json else sys.stdout)
    if as_json:
        print(json.dumps(task.to_dict(), indent=2))
    if args.wait and not task.state.successful:
        print(ended(task), file=sys.stderr)
        return 1
    return 0
