"""The ``taskhub`` command.

The exit codes are the parser's epilog (:data:`EXIT_CODES`), so ``taskhub --help`` and the
generated docs/cli.md state them. Every usage mistake is caught by the parser (exit 2) before
anything is sent; errors print one line, and ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import attrs

from taskhub import __version__, redact, registry
from taskhub import config as _config
from taskhub.errors import (
    ConfigError,
    InvalidRequest,
    TaskhubError,
    WaitTimeout,
)
from taskhub.hub import TaskHub, connect, connect_all, watch_all
from taskhub.model import Task, split_ref
from taskhub.states import State, Transition

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_TIMEOUT = 3
EXIT_INTERRUPTED = 130

EXIT_CODES = (
    "Exit codes: 0 success; 1 a taskhub error from the vendor (refused, not found, unsupported, "
    "unreachable), or a watched or demo task that ended failed, cancelled or skipped; 2 bad "
    "usage or configuration, caught before any request (an unknown state or format, a "
    "malformed BACKEND:ID, a number out of range, a file that cannot be written, no "
    "configuration); 3 a wait or watch that timed out or found a task stale; 130 "
    "interrupted. An error is one line on stderr; --debug shows its traceback."
)


class UsageError(Exception):
    """A mistake in what the command was asked to do (exit 2)."""


# -- argument types: a bad value is a usage error (exit 2) before anything is sent -------------


def _number(kind: Callable[[str], float], low: float, inclusive: bool, what: str) -> Any:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if value != value or value < low or (value == low and not inclusive):  # NaN too
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value

    return parse


_positive_int = _number(int, 1, True, "a whole number of 1 or more")
_positive_float = _number(float, 0, False, "a number greater than 0")
_seconds = _number(float, 0, True, "a number of seconds (0 or more)")


def _port(text: str) -> int:
    number = _number(int, 0, True, "a port number from 0 to 65535")(text)
    if number > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number from 0 to 65535")
    return int(number)


def _ref(text: str) -> str:
    try:
        split_ref(text)
    except InvalidRequest as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _state(text: str) -> State:
    try:
        return State.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON ({exc})") from None


def _new_file(text: str) -> str:
    folder = Path(text).parent
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"cannot write {text!r}: no directory {str(folder)!r}")
    return text


# -- the parser -------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage mistake said in one line (the documented contract), the
    command's --help named for the rest."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``taskhub`` command."""
    parser = _Parser(
        prog="taskhub",
        description="One task model over five media-AI vendors' task APIs.",
        epilog=EXIT_CODES,
    )
    parser.add_argument("--version", action="version", version=f"taskhub {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and HTTP logs")
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="configuration file (default: $TASKHUB_CONFIG or ./taskhub.toml); the commands "
        "that read it also take it after their name",
    )
    # The same option after a command's name; SUPPRESS keeps the global one when absent.
    configured = _Parser(add_help=False)
    configured.add_argument(
        "--config", metavar="FILE", default=argparse.SUPPRESS, help="configuration file"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="run every vendor's simulator and a task on each")
    demo.add_argument("--json", action="store_true", help="print the tasks as JSON")
    demo.add_argument(
        "--speed",
        type=_positive_float,
        default=20.0,
        help="simulated seconds per real second (default: %(default)s)",
    )
    demo.add_argument(
        "--db",
        metavar="URL",
        help="record the tasks into this store: sqlite:///FILE or postgresql+psycopg://... "
        "(default: a new SQLite file, taskhub-demo-PID.db in the temp directory, kept so "
        "`taskhub serve --db` can show it)",
    )

    simulate = sub.add_parser(
        "simulate",
        help="serve the simulators and write a config for them",
        description="Serve every vendor's simulator on loopback and write a configuration for "
        "them. The file is written whole (never half) once the simulators are serving; with "
        "--detach the command returns only then, leaving the simulators running in the "
        "background, so the next command can read the file at once: `taskhub simulate "
        "--write sim.toml --detach && taskhub ls --config sim.toml`; stop them with the "
        "`kill PID` it prints.",
    )
    simulate.add_argument(
        "--write",
        metavar="FILE",
        type=_new_file,
        default="taskhub-sim.toml",
        help="where to write the configuration (default: %(default)s)",
    )
    simulate.add_argument(
        "--speed",
        type=_positive_float,
        default=1.0,
        help="simulated seconds per real second (default: %(default)s)",
    )
    simulate.add_argument("--duration", type=_seconds, help="stop after this many seconds")
    simulate.add_argument(
        "--detach",
        action="store_true",
        help="run in the background; return once the file is written and the simulators serve",
    )

    backends = sub.add_parser("backends", help="list the configured backends", parents=[configured])
    backends.add_argument(
        "--names", action="store_true", help="only the names, one a line (for scripts)"
    )

    get = sub.add_parser("get", help="show one task", parents=[configured])
    get.add_argument("ref", metavar="BACKEND:ID", type=_ref)
    get.add_argument("--json", action="store_true", help="print the task as JSON")

    ls = sub.add_parser(
        "ls",
        help="list tasks across the configured backends",
        parents=[configured],
        description="List tasks across the configured backends (a vendor without a listing, "
        "such as Vionlabs, is skipped with the reason on stderr). --format csv has the "
        "columns ref, backend, vendor, id, kind, state, raw, reason, progress (0-1, blank when "
        "the vendor gives none), message, created_at, started_at, updated_at, finished_at "
        "(ISO 8601 UTC) and duration (seconds from start to finish); --summary counts tasks "
        "by backend and state, in the --format chosen.",
    )
    ls.add_argument("--backend", action="append", help="only this backend (repeatable)")
    ls.add_argument("--state", action="append", type=_state, help="only this state (repeatable)")
    ls.add_argument(
        "--limit",
        type=_positive_int,
        default=20,
        help="tasks per backend (default: %(default)s)",
    )
    ls.add_argument(
        "--format", choices=("table", "json", "csv"), default="table", help="output format"
    )
    ls.add_argument("--summary", action="store_true", help="counts by backend and state")

    watch = sub.add_parser(
        "watch",
        help="follow tasks until they finish",
        parents=[configured],
        description="Follow tasks until every one is finished. Exits 0 when all succeeded, 1 "
        "when one ended failed, cancelled or skipped, 3 on --timeout. --format jsonl writes "
        "one JSON object a line per transition, for other programs: ref, before (null the "
        "first time a task is seen), after, at (ISO 8601 UTC), change (first, advance, retry, "
        "resume), raw (the vendor's word) and task (the task's JSON).",
    )
    watch.add_argument("refs", nargs="+", metavar="BACKEND:ID", type=_ref)
    watch.add_argument("--timeout", type=_seconds, help="give up after this many seconds")
    watch.add_argument(
        "--format",
        choices=("text", "jsonl"),
        default="text",
        help="text: progress for a person; jsonl: a JSON line per transition",
    )

    cancel = sub.add_parser("cancel", help="cancel a task", parents=[configured])
    cancel.add_argument("ref", metavar="BACKEND:ID", type=_ref)
    cancel.add_argument("--reason", help="why (sent where the vendor keeps one)")

    retry = sub.add_parser("retry", help="run a failed task again", parents=[configured])
    retry.add_argument("ref", metavar="BACKEND:ID", type=_ref)

    report = sub.add_parser(
        "report", help="report a task's state as its worker", parents=[configured]
    )
    report.add_argument("ref", metavar="BACKEND:ID", type=_ref)
    report.add_argument(
        "state", type=_state, help="the new state: " + ", ".join(s.value for s in State)
    )
    report.add_argument("--output", type=_json, help="the output, as JSON")
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

    engine = sub.add_parser(
        "engine",
        help="run a worker engine around a Python function",
        description="Run the vendor's worker flow around MODULE:FUNCTION. MODULE is imported "
        "as `python -m` would: the current directory comes first on the import path.",
    )
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

    serve = sub.add_parser(
        "serve",
        help="follow the backends, record into a store, serve a dashboard",
        parents=[configured],
        description="Follow the configured backends' tasks, record every transition into a "
        "store (SQLite file or PostgreSQL URL) and serve a web page, a JSON API, Prometheus "
        "/metrics, /healthz and webhook intake (POST /webhooks/BACKEND, secret from "
        "$TASKHUB_WEBHOOK_SECRET_<BACKEND>) until SIGTERM or Ctrl-C. Needs "
        "pip install 'taskhub[serve]'; see docs/dashboards.md.",
    )
    serve.add_argument(
        "--backend",
        action="append",
        default=[],
        metavar="NAME",
        help="follow only this backend (repeat for more; default: all)",
    )
    serve.add_argument(
        "--db",
        metavar="URL",
        default="sqlite:///taskhub.db",
        help="store URL: sqlite:///FILE or postgresql+psycopg://... (default: %(default)s)",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address (default: %(default)s)")
    serve.add_argument(
        "--port", type=_port, default=8765, help="port, 0 for any free one (default: %(default)s)"
    )
    serve.add_argument(
        "--no-follow",
        action="store_true",
        help="follow no backend, whatever the configuration says: serve what the store holds",
    )
    serve.add_argument(
        "--token",
        default=os.environ.get("TASKHUB_SERVE_TOKEN"),
        help="bearer token for the page and the API (default: $TASKHUB_SERVE_TOKEN; none)",
    )

    completion = sub.add_parser(
        "completion",
        help="print a shell completion script",
        description="Print a completion script for bash or zsh, written from this command's "
        'own parser (no extra package). Load it with `eval "$(taskhub completion bash)"` or '
        "`source <(taskhub completion zsh)` (after compinit), or save it where the shell looks "
        "for completions (the script's first lines say where). Backend names complete from "
        "`taskhub backends --names`.",
    )
    completion.add_argument("shell", choices=("bash", "zsh"))
    return parser


# -- running ------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.debug:
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
    try:
        code = _dispatch(args)
        sys.stdout.flush()  # inside the try: a reader that went away is handled below
        return code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`taskhub ls | head`): stop quietly, without a flush error.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR
    except UsageError as exc:
        if args.debug:
            raise
        print(f"taskhub: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except WaitTimeout as exc:
        if args.debug:
            raise
        print(f"taskhub: {exc}", file=sys.stderr)
        return EXIT_TIMEOUT
    except TaskhubError as exc:
        if args.debug:
            raise
        print(f"taskhub: error: {exc}", file=sys.stderr)
        return exit_code(exc)
    except Exception as exc:
        if args.debug:
            raise
        text = redact.text(str(exc)).splitlines()
        detail = f": {text[0]}" if text else ""
        print(
            f"taskhub: error: {type(exc).__name__}{detail} (--debug shows the traceback)",
            file=sys.stderr,
        )
        return EXIT_ERROR


def exit_code(exc: TaskhubError) -> int:
    """2 for a configuration mistake or input refused before any request; 3 for a timeout;
    1 for the rest (the vendor refused or failed)."""
    if isinstance(exc, ConfigError):
        return EXIT_USAGE
    if isinstance(exc, InvalidRequest) and exc.http_status is None:
        return EXIT_USAGE
    if isinstance(exc, WaitTimeout):
        return EXIT_TIMEOUT
    return EXIT_ERROR


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
        "completion": _completion,
        "serve": _serve_command,
    }[args.command]
    return handler(args)


# -- helpers ----------------------------------------------------------------------------------

NO_CONFIG = (
    "no configuration: no --config FILE, no $TASKHUB_CONFIG and no ./taskhub.toml. Make one: "
    "`taskhub simulate --write taskhub.toml --detach` for the simulators, or write "
    '[backends.NAME] tables with vendor = "..." (see docs/configuration.md)'
)


def _load(args: argparse.Namespace) -> _config.Config:
    return _config.load(args.config)


def _configured(args: argparse.Namespace) -> _config.Config:
    """The configuration, which must exist and name at least one backend."""
    cfg = _load(args)
    if cfg.source is None and not cfg.backends:
        raise ConfigError(NO_CONFIG)
    if not cfg.backends:
        raise ConfigError(
            f"{cfg.source} configures no backend: add a [backends.NAME] table with "
            'vendor = "..." (see docs/configuration.md)'
        )
    return cfg


def _hub(args: argparse.Namespace, ref: str) -> tuple[TaskHub, str]:
    backend, task_id = split_ref(ref)
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

    return demo.run(speed=args.speed, as_json_output=args.json, db=args.db)


def _serve_command(args: argparse.Namespace) -> int:
    from taskhub import serve

    # No configuration is no backend to follow: the store's contents are still served.
    return serve.run(
        None if args.no_follow else _load(args),
        backends=args.backend,
        db=args.db,
        host=args.host,
        port=args.port,
        token=args.token,
    )


def _simulate(args: argparse.Namespace) -> int:
    from taskhub import demo

    vendors = demo.demo_vendors()
    if args.detach:
        return _simulate_detached(args, vendors)
    with demo.simulators(vendors, args.speed) as sims:
        _write_config(args.write, demo.config_text(sims))
        print(f"simulating {', '.join(vendors)}; configuration written to {args.write}")
        print(f"try: taskhub ls --config {args.write}", flush=True)
        _serve(args.duration)
    return EXIT_OK


def _write_config(path: str, text: str) -> None:
    """Write ``path`` whole: a reader sees no file or the complete one, never half of it."""
    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, target)
    except OSError as exc:
        raise UsageError(f"cannot write {path!r}: {exc.strerror or exc}") from exc


def _serve(duration: float | None) -> None:
    deadline = None if duration is None else time.monotonic() + duration
    while deadline is None or time.monotonic() < deadline:
        time.sleep(0.1)


def _simulate_detached(args: argparse.Namespace, vendors: list[str]) -> int:
    """Fork; the child serves, writes the file, then tells the parent, which exits."""
    from taskhub import demo

    if not hasattr(os, "fork"):
        raise UsageError("--detach needs os.fork (POSIX); start it in the background instead")
    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a session of its own, stdio on /dev/null, then serve
        os.close(read_end)
        status = EXIT_OK
        try:
            os.setsid()
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            with demo.simulators(vendors, args.speed) as sims:
                _write_config(args.write, demo.config_text(sims))
                os.write(write_end, b"ok\n")
                os.close(write_end)
                write_end = -1
                _serve(args.duration)
        except BaseException as exc:  # told to the parent; the child has no terminal
            status = EXIT_USAGE if isinstance(exc, UsageError) else EXIT_ERROR
            if write_end >= 0:
                os.write(write_end, f"{status} {redact.text(str(exc))}\n".encode())
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, encoding="utf-8") as pipe:
        answer = pipe.read().strip()
    if answer != "ok":
        code, _, message = answer.partition(" ")
        raise (UsageError if code == str(EXIT_USAGE) else RuntimeError)(
            message or "the simulators stopped before they were ready"
        )
    print(f"simulating {', '.join(vendors)}; configuration written to {args.write}")
    print(f"running in the background as process {pid}; stop it with: kill {pid}")
    print(f"try: taskhub ls --config {args.write}", flush=True)
    return EXIT_OK


def _backends(args: argparse.Namespace) -> int:
    cfg = _configured(args)
    if args.names:
        for name in cfg.backends:
            print(name)
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

    cfg = _configured(args)
    named = list(dict.fromkeys(args.backend or ()))
    unknown = [b for b in named if b not in cfg.backends]
    if unknown:
        raise ConfigError(registry.unknown_vendor_message(unknown[0], extra=list(cfg.backends)))
    hubs = connect_all(cfg)
    if named:
        hubs = {n: h for n, h in hubs.items() if n in named}
    tasks: list[Task] = []
    listed: list[str] = []
    for hub in hubs.values():
        with hub:
            if "list" not in hub.capabilities:
                print(
                    f"taskhub: {hub.backend}: nothing listed: {hub.adapter.unsupported('list')}; "
                    f"show one task with: taskhub get {hub.backend}:ID",
                    file=sys.stderr,
                )
                continue
            listed.append(hub.backend)
            tasks.extend(hub.list(state=args.state, limit=args.limit))
    if named and not listed:
        return EXIT_ERROR  # every backend asked for cannot list: the reason is on stderr
    if args.summary:
        sys.stdout.write(display.summary(tasks, listed, args.format))
    elif args.format == "json":
        sys.stdout.write(display.as_json(tasks))
    elif args.format == "csv":
        sys.stdout.write(display.as_csv(tasks))
    else:
        sys.stdout.write(display.table(tasks))
    return EXIT_OK


def _watch(args: argparse.Namespace) -> int:
    from taskhub.display import Progress, transition_record

    cfg = _load(args)
    groups: dict[str, list[str]] = {}
    for ref in args.refs:
        backend, task_id = split_ref(ref)
        groups.setdefault(backend, []).append(task_id)
    progress = Progress(sys.stdout)

    def show(task: Task, transition: Transition | None) -> None:
        if args.format == "jsonl":
            if transition is not None:
                print(json.dumps(transition_record(transition)), flush=True)
        else:
            progress.update(task, transition)

    last: dict[str, Task] = {}
    hubs: dict[str, TaskHub] = {}
    try:
        for backend, ids in groups.items():
            hub = hubs[backend] = connect(backend, config=cfg)
            for task_id in dict.fromkeys(ids):
                task = hub.get(task_id)
                last[task.ref] = task
                history = hub.tracker.history(task.ref)
                # The get made the first transition (the Tracker's history keeps no Task).
                show(task, attrs.evolve(history[-1], task=task) if history else None)
        # The first read counts: a task it found finished is not followed, whatever the
        # timeout; the others are followed together, every backend at once.
        unfinished = [t for t in last.values() if not t.state.terminal]
        for transition in watch_all(unfinished, hubs, timeout=args.timeout):
            backend, task_id = split_ref(transition.ref)
            task = transition.task or Task(
                backend, hubs[backend].vendor, task_id, transition.status
            )
            last[task.ref] = task
            show(task, transition)
    finally:
        for hub in hubs.values():
            hub.close()
    failed = [t for t in last.values() if not t.state.successful]
    for task in failed:
        raw = f" ({task.status.raw})" if task.status.raw else ""
        message = f": {task.status.message}" if task.status.message else ""
        print(f"taskhub: {task.ref} ended {task.state.value}{raw}{message}", file=sys.stderr)
    return EXIT_ERROR if failed else EXIT_OK


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
        fields["output"] = args.output
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
            raise UsageError("name the vendor: taskhub docs vendor livepeer")
        sys.stdout.write(docgen.vendor_page(args.vendor))
    elif args.page == "configuration":
        sys.stdout.write(docgen.configuration_reference())
    else:
        sys.stdout.write(docgen.cli_reference(build_parser()))
    return EXIT_OK


def _completion(args: argparse.Namespace) -> int:
    from taskhub import completion

    sys.stdout.write(completion.script(args.shell, build_parser()))
    return EXIT_OK


def _engine(args: argparse.Namespace) -> int:
    target = registry.load(args.vendor).engine
    if not target:
        raise ConfigError(f"the vendor {args.vendor!r} has no engine runner")
    logging.basicConfig(level=logging.INFO, format="taskhub engine: %(message)s")
    # As `python -m` does: the current directory first, so `taskhub engine veritone
    # mymodule:detect` finds ./mymodule.py whichever directory the console script lives in.
    cwd = os.getcwd()
    if sys.path[:1] != [cwd]:
        sys.path.insert(0, cwd)
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
