"""The ``taskhub`` command.

Exit codes: 0 success; 1 a taskhub error (the vendor refused, not found ...) or a demo task
that did not succeed; 2 bad usage or configuration; 3 a wait or watch that timed out or found
a task stale; 130 interrupted. Errors print one line; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from taskhub import __version__, registry
from taskhub import config as _config
from taskhub.errors import ConfigError, InvalidRequest, TaskhubError, WaitTimeout
from taskhub.hub import TaskHub, connect, connect_all
from taskhub.model import Task

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_TIMEOUT = 3
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``taskhub`` command."""
    parser = argparse.ArgumentParser(
        prog="taskhub", description="One task model over five media-AI vendors' task APIs."
    )
    parser.add_argument("--version", action="version", version=f"taskhub {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and HTTP logs")
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="configuration file (default: $TASKHUB_CONFIG or ./taskhub.toml)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="run every vendor's simulator and a task on each")
    demo.add_argument("--json", action="store_true", help="print the tasks as JSON")
    demo.add_argument(
        "--speed",
        type=float,
        default=20.0,
        help="simulated seconds per real second (default: %(default)s)",
    )

    simulate = sub.add_parser("simulate", help="serve the simulators and write a config for them")
    simulate.add_argument(
        "--write",
        metavar="FILE",
        default="taskhub-sim.toml",
        help="where to write the configuration (default: %(default)s)",
    )
    simulate.add_argument("--speed", type=float, default=1.0)
    simulate.add_argument("--duration", type=float, help="stop after this many seconds")

    sub.add_parser("backends", help="list the configured backends")

    get = sub.add_parser("get", help="show one task")
    get.add_argument("ref", metavar="BACKEND:ID")
    get.add_argument("--json", action="store_true")

    ls = sub.add_parser("ls", help="list tasks across the configured backends")
    ls.add_argument("--backend", action="append", help="only this backend (repeatable)")
    ls.add_argument("--state", action="append", help="only this state (repeatable)")
    ls.add_argument(
        "--limit", type=int, default=20, help="tasks per backend (default: %(default)s)"
    )
    ls.add_argument("--format", choices=("table", "json", "csv"), default="table")
    ls.add_argument("--summary", action="store_true", help="counts by backend and state")

    watch = sub.add_parser("watch", help="follow tasks until they finish")
    watch.add_argument("refs", nargs="+", metavar="BACKEND:ID")
    watch.add_argument("--timeout", type=float)

    cancel = sub.add_parser("cancel", help="cancel a task")
    cancel.add_argument("ref", metavar="BACKEND:ID")
    cancel.add_argument("--reason")

    retry = sub.add_parser("retry", help="run a failed task again")
    retry.add_argument("ref", metavar="BACKEND:ID")

    report = sub.add_parser("report", help="report a task's state as its worker")
    report.add_argument("ref", metavar="BACKEND:ID")
    report.add_argument("state")
    report.add_argument("--output", help="the output, as JSON")
    report.add_argument("--error", help="the error text (failed only)")
    report.add_argument("--failure-reason", help="the vendor's failure reason (failed only)")
    report.add_argument("--retryable", choices=("true", "false"))
    report.add_argument("--job-id", help="the job of the task (Veritone)")

    states = sub.add_parser("states", help="print the status tables or the state diagram")
    states.add_argument(
        "--format", choices=("markdown", "json", "dot", "mermaid"), default="markdown"
    )

    sub.add_parser("vendors", help="list the registered vendors and their capabilities")

    docs = sub.add_parser("docs", help="print a generated documentation page")
    docs.add_argument("page", choices=("configuration", "vendor", "cli"))
    docs.add_argument("vendor", nargs="?")

    engine = sub.add_parser("engine", help="run a worker engine around a Python function")
    engine.add_argument("vendor", help="the vendor whose task flow to run (e.g. veritone)")
    engine.add_argument("function", metavar="MODULE:FUNCTION", help="the function to call")
    engine.add_argument(
        "--payload", metavar="FILE", help="the task payload (default: $PAYLOAD_FILE)"
    )
    engine.add_argument(
        "--types",
        default="video/,audio/",
        help="supported content or asset types, comma-separated (default: %(default)s)",
    )
    engine.add_argument("--engine-id", help="recorded as the source of the assets it creates")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return its exit code."""
    args = build_parser().parse_args(argv)
    if args.debug:
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except WaitTimeout as exc:
        if args.debug:
            raise
        print(f"taskhub: {exc}", file=sys.stderr)
        return EXIT_TIMEOUT
    except TaskhubError as exc:
        if args.debug:
            raise
        print(f"taskhub: error: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, ConfigError) else EXIT_ERROR


def _dispatch(args: argparse.Namespace) -> int:
    handler = {
        "demo": _demo,
        "simulate": _simulate,
        "backends": _backends,
        "get": _get,
        "ls": _ls,
        "watch": _watch,
        "cancel": _cancel,
        "retry": _retry,
        "report": _report,
        "states": _states,
        "vendors": _vendors,
        "docs": _docs,
        "engine": _engine,
    }[args.command]
    return handler(args)


# -- helpers ----------------------------------------------------------------------------------


def _load(args: argparse.Namespace) -> _config.Config:
    return _config.load(args.config)


def _split(ref: str) -> tuple[str, str]:
    backend, sep, task_id = ref.partition(":")
    if not sep or not backend or not task_id:
        raise InvalidRequest(f"{ref!r} is not a reference: expected BACKEND:ID", field="ref")
    return backend, task_id


def _hub(args: argparse.Namespace, ref: str) -> tuple[TaskHub, str]:
    backend, task_id = _split(ref)
    return connect(backend, config=_load(args)), task_id


def _print_task(task: Task, as_json: bool) -> None:
    from taskhub.display import table

    if as_json:
        print(json.dumps(task.to_dict(), indent=2))
    else:
        sys.stdout.write(table([task, *task.subtasks]))


# -- commands -------------------------------------------------------------------------------


def _demo(args: argparse.Namespace) -> int:
    from taskhub import demo

    return demo.run(speed=args.speed, as_json_output=args.json)


def _simulate(args: argparse.Namespace) -> int:
    from taskhub import demo

    vendors = demo.demo_vendors()
    with demo.simulators(vendors, args.speed) as sims:
        lines = [f'default = "{vendors[0]}"', ""]
        for vendor, sim in sims.items():
            lines.append(f'[backends."{vendor}"]')
            lines.append(f'vendor = "{vendor}"')
            for key, value in sim.options.items():
                lines.append(f"{key} = {json.dumps(value)}")
            lines.append("")
        for vendor, sim in sims.items():
            spec = sim.simulator.demo_spec()
            if spec is not None:
                lines.append(f'[jobs."{vendor}-demo"]')
                lines.append(f'backend = "{vendor}"')
                lines.append(f"spec = {_toml_inline(spec)}")
                lines.append("")
        Path(args.write).write_text("\n".join(lines), encoding="utf-8")
        print(f"simulating {', '.join(vendors)}; configuration written to {args.write}")
        print(f"try: TASKHUB_CONFIG={args.write} taskhub ls", flush=True)
        deadline = None if args.duration is None else time.monotonic() + args.duration
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.1)
    return EXIT_OK


def _toml_inline(value: Any) -> str:
    if isinstance(value, dict):
        return (
            "{ "
            + ", ".join(f"{json.dumps(k)} = {_toml_inline(v)}" for k, v in value.items())
            + " }"
        )
    if isinstance(value, list):
        return "[" + ", ".join(_toml_inline(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def _backends(args: argparse.Namespace) -> int:
    cfg = _load(args)
    if not cfg.backends:
        print("no backends configured", file=sys.stderr)
        return EXIT_OK
    default = cfg.default_name() if cfg.default or len(cfg.backends) == 1 else None
    for name, backend in cfg.backends.items():
        caps = ", ".join(sorted(registry.load(backend.vendor).capabilities()))
        mark = "*" if name == default else " "
        print(f"{mark} {name:16} {backend.vendor:14} {caps}")
    return EXIT_OK


def _get(args: argparse.Namespace) -> int:
    hub, task_id = _hub(args, args.ref)
    with hub:
        _print_task(hub.get(task_id), args.json)
    return EXIT_OK


def _ls(args: argparse.Namespace) -> int:
    from taskhub import display

    hubs = connect_all(_load(args))
    if args.backend:
        unknown = [b for b in args.backend if b not in hubs]
        if unknown:
            raise ConfigError(registry.unknown_vendor_message(unknown[0], extra=list(hubs)))
        hubs = {n: h for n, h in hubs.items() if n in args.backend}
    tasks: list[Task] = []
    for hub in hubs.values():
        with hub:
            if "list" not in hub.capabilities:
                print(
                    f"taskhub: {hub.backend}: {hub.vendor} cannot list tasks; skipped",
                    file=sys.stderr,
                )
                continue
            tasks.extend(hub.list(state=args.state, limit=args.limit))
    if args.summary:
        sys.stdout.write(display.summary(tasks))
    elif args.format == "json":
        sys.stdout.write(display.as_json(tasks))
    elif args.format == "csv":
        sys.stdout.write(display.as_csv(tasks))
    else:
        sys.stdout.write(display.table(tasks))
    return EXIT_OK


def _watch(args: argparse.Namespace) -> int:
    from taskhub.display import Progress

    cfg = _load(args)
    groups: dict[str, list[str]] = {}
    for ref in args.refs:
        backend, task_id = _split(ref)
        groups.setdefault(backend, []).append(task_id)
    progress = Progress(sys.stdout)
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    for backend, ids in groups.items():
        with connect(backend, config=cfg) as hub:
            for task_id in ids:
                task = hub.get(task_id)
                history = hub.tracker.history(task.ref)
                progress.update(task, history[-1] if history else None)
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            for transition in hub.watch(ids, timeout=left):
                status = transition.status
                task = Task(hub.backend, hub.vendor, transition.ref.split(":", 1)[1], status)
                progress.update(task, transition)
    return EXIT_OK


def _cancel(args: argparse.Namespace) -> int:
    hub, task_id = _hub(args, args.ref)
    with hub:
        _print_task(hub.cancel(task_id, reason=args.reason), False)
    return EXIT_OK


def _retry(args: argparse.Namespace) -> int:
    hub, task_id = _hub(args, args.ref)
    with hub:
        _print_task(hub.retry(task_id), False)
    return EXIT_OK


def _report(args: argparse.Namespace) -> int:
    hub, task_id = _hub(args, args.ref)
    fields: dict[str, Any] = {}
    if args.output is not None:
        try:
            fields["output"] = json.loads(args.output)
        except ValueError:
            raise InvalidRequest("--output must be JSON", field="output") from None
    for name in ("error", "failure_reason", "job_id"):
        if getattr(args, name) is not None:
            fields[name] = getattr(args, name)
    if args.retryable is not None:
        fields["retryable"] = args.retryable == "true"
    with hub:
        _print_task(hub.report(task_id, args.state, **fields), False)
    return EXIT_OK


def _states(args: argparse.Namespace) -> int:
    from taskhub import statedoc

    sys.stdout.write(statedoc.render(args.format))
    return EXIT_OK


def _vendors(args: argparse.Namespace) -> int:
    for name, entry in registry.entries().items():
        caps = ", ".join(sorted(registry.load(name).capabilities())) or "-"
        origin = "built-in" if entry.builtin else entry.provider
        print(f"{name:15} {origin:10} {caps}")
    return EXIT_OK


def _docs(args: argparse.Namespace) -> int:
    from taskhub import docgen

    if args.page == "vendor":
        if not args.vendor:
            raise ConfigError("name the vendor: taskhub docs vendor livepeer")
        sys.stdout.write(docgen.vendor_page(args.vendor))
    elif args.page == "configuration":
        sys.stdout.write(docgen.configuration_reference())
    else:
        sys.stdout.write(docgen.cli_reference(build_parser()))
    return EXIT_OK


def _engine(args: argparse.Namespace) -> int:
    target = registry.load(args.vendor).engine
    if not target:
        raise ConfigError(f"the vendor {args.vendor!r} has no engine runner")
    logging.basicConfig(level=logging.INFO, format="taskhub engine: %(message)s")
    try:
        function = _load_target(args.function)
        module, _, name = target.partition(":")
        runner = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError) as exc:
        print(f"taskhub: error: cannot load {args.function!r}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    types = [t.strip() for t in args.types.split(",") if t.strip()]
    code: int = runner(function, types, payload=args.payload, engine_id=args.engine_id)
    return code


def _load_target(target: str) -> Any:
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError("expected MODULE:FUNCTION")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj
