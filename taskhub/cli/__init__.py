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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from taskhub import config as _config
from taskhub import redact, registry
from taskhub.cli import parser as _parser
from taskhub.cli.parser import EXIT_CODES, UsageError
from taskhub.errors import (
    ConfigError,
    InvalidRequest,
    TaskhubError,
    WaitTimeout,
)
from taskhub.hub import TaskHub, connect, connect_all, watch_all
from taskhub.model import Task, split_ref, unknown_name
from taskhub.states import Transition

__all__ = ["EXIT_CODES", "UsageError", "build_parser", "exit_code", "main"]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_TIMEOUT = 3
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``taskhub`` command (from the table in
    :mod:`taskhub.cli.parser`)."""
    return _parser.build()


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
        "jobs": _jobs,
        "submit": _submit,
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


def no_config() -> str:
    """The error for a command that needs a configuration and found none: where it looked,
    and how to make one."""
    return (
        "no configuration: no --config FILE, no $TASKHUB_CONFIG and no ./taskhub.toml (in "
        f"{os.getcwd()}). Make one: `taskhub simulate --write taskhub.toml --detach` for the "
        'simulators, or write [backends.NAME] tables with vendor = "..." (see '
        "docs/configuration.md)"
    )


def _load(args: argparse.Namespace) -> _config.Config:
    return _config.load(args.config)


def _configured(args: argparse.Namespace) -> _config.Config:
    """The configuration, which must exist and name at least one backend."""
    cfg = _load(args)
    if cfg.source is None and not cfg.backends:
        raise ConfigError(no_config())
    if not cfg.backends:
        raise ConfigError(
            f"{cfg.source} configures no backend: add a [backends.NAME] table with "
            'vendor = "..." (see docs/configuration.md)'
        )
    return cfg


def _hub(args: argparse.Namespace, ref: str) -> tuple[TaskHub, str]:
    backend, task_id = split_ref(ref)
    cfg = _configured(args)
    if backend not in cfg.backends:
        # The command has no other way to give a vendor its options: name the configured ones.
        raise ConfigError(unknown_name(backend, list(cfg.backends), "backend"))
    return connect(backend, config=cfg), task_id


def _print_task(task: Task, as_json: bool) -> None:
    from taskhub.cli.display import table

    if as_json:
        print(json.dumps(task.to_dict(), indent=2))
    else:
        sys.stdout.write(table([task, *task.subtasks]))


# -- commands -------------------------------------------------------------------------------


def _demo(args: argparse.Namespace) -> int:
    from taskhub.cli import demo

    return demo.run(speed=args.speed, as_json_output=args.json, db=args.db)


def _serve_command(args: argparse.Namespace) -> int:
    from taskhub import serve

    # The environment's values are read here, not into the parser's defaults: the help and
    # the generated docs must never show a token, and a store URL may carry a password.
    # No configuration is no backend to follow: the store's contents are still served.
    return serve.run(
        None if args.no_follow else _load(args),
        backends=args.backend,
        db=args.db or os.environ.get(_parser.ENV_DB) or _parser.DEFAULT_DB,
        host=args.host,
        port=args.port,
        token=args.token or os.environ.get(_parser.ENV_SERVE_TOKEN) or None,
        allow_hosts=list(args.allow_host or ()),
        allow_insecure=bool(args.insecure_no_token),
        discover_every=args.discover_every,
    )


def _simulate(args: argparse.Namespace) -> int:
    from taskhub.cli import demo

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
    from taskhub.cli import demo

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


def _jobs(args: argparse.Namespace) -> int:
    from taskhub.cli import submit

    submit.jobs(_configured(args), args.names, sys.stdout)
    return EXIT_OK


def _submit(args: argparse.Namespace) -> int:
    from taskhub.cli import submit

    wanted = submit.request(args)  # the arguments and files first, then the configuration
    return submit.run(args, _configured(args), wanted)


def _get(args: argparse.Namespace) -> int:
    hub, task_id = _hub(args, args.ref)
    with hub:
        _print_task(hub.get(task_id), args.json)
    return EXIT_OK


def _ls(args: argparse.Namespace) -> int:
    from taskhub.cli import display

    cfg = _configured(args)
    named = list(dict.fromkeys(args.backend or ()))
    unknown = [b for b in named if b not in cfg.backends]
    if unknown:
        raise ConfigError(registry.unknown_vendor_message(unknown[0], extra=list(cfg.backends)))
    hubs = connect_all(cfg)
    if named:
        hubs = {n: h for n, h in hubs.items() if n in named}
    listing = [h for h in hubs.values() if _lists(h)]
    if named and not listing:
        return EXIT_ERROR  # every backend asked for cannot list: the reason is on stderr
    if args.summary:
        # A summary counts every task listed unless the user bounds it, and then says so.
        progress = display.Counting(sys.stderr)
        rows = []
        for hub in listing:
            with hub:
                listed = hub.list(state=args.state, limit=args.limit)
                rows.append(display.count(hub.backend, listed, args.limit, progress))
        sys.stdout.write(display.summary(rows, args.format))
        return EXIT_OK
    tasks: list[Task] = []
    for hub in listing:
        with hub:
            tasks.extend(hub.list(state=args.state, limit=args.limit or _parser.ROWS))
    if args.format == "json":
        sys.stdout.write(display.as_json(tasks))
    elif args.format == "csv":
        sys.stdout.write(display.as_csv(tasks))
    else:
        sys.stdout.write(display.table(tasks))
    return EXIT_OK


def _lists(hub: TaskHub) -> bool:
    """Whether ``hub`` can list; if not, say why on stderr (and close it)."""
    if "list" in hub.capabilities:
        return True
    print(
        f"taskhub: {hub.backend}: nothing listed: {hub.adapter.unsupported('list')}; "
        f"show one task with: taskhub get {hub.backend}:ID",
        file=sys.stderr,
    )
    hub.close()
    return False


def _watch(args: argparse.Namespace) -> int:
    from taskhub.cli import display
    from taskhub.cli.display import Progress, transition_record

    cfg = _configured(args)
    groups: dict[str, list[str]] = {}
    for ref in args.refs:
        backend, task_id = split_ref(ref)
        groups.setdefault(backend, []).append(task_id)
    hubs = _open_all(cfg, groups)  # every ref is checked before any is read
    progress = Progress(sys.stdout)

    def show(task: Task, transition: Transition | None) -> None:
        if args.format == "jsonl":
            if transition is not None:
                print(json.dumps(transition_record(transition)), flush=True)
        else:
            progress.update(task, transition)

    last: dict[str, Task] = {}
    try:
        for backend, ids in groups.items():
            hub = hubs[backend]
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
        print(display.ended(task), file=sys.stderr)
    return EXIT_ERROR if failed else EXIT_OK


def _open_all(cfg: _config.Config, groups: dict[str, list[str]]) -> dict[str, TaskHub]:
    """A hub for each backend of ``groups``, with each of its ids checked, before anything is
    read: a mistake in the last ref is exit 2 with no request sent for the first."""
    hubs: dict[str, TaskHub] = {}
    try:
        for backend, ids in groups.items():
            if backend not in cfg.backends:
                raise ConfigError(unknown_name(backend, list(cfg.backends), "backend"))
            hubs[backend] = connect(backend, config=cfg)
            for task_id in ids:
                hubs[backend].adapter.require_id(task_id)
    except BaseException:
        for hub in hubs.values():
            hub.close()
        raise
    return hubs


def _cancel(args: argparse.Namespace) -> int:
    hub, task_id = _hub(args, args.ref)
    with hub:
        if not args.force and {"get", "cancel"} <= hub.capabilities:
            # A fresh process knows nothing of the task: one read, so a finished one is
            # refused here as the library refuses it (--force sends the cancel anyway).
            hub.get(task_id)
        _print_task(hub.cancel(task_id, reason=args.reason, force=args.force), False)
    return EXIT_OK


def _retry(args: argparse.Namespace) -> int:
    hub, task_id = _hub(args, args.ref)
    with hub:
        _print_task(hub.retry(task_id), False)
    return EXIT_OK


#: The report options of the command, by the keyword the vendors' ``report`` takes.
_REPORT_OPTIONS = {
    "output": "--output",
    "error": "--error",
    "failure_reason": "--failure-reason",
    "retryable": "--retryable",
    "job_id": "--job-id",
}


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
        if "report" in hub.capabilities:  # else hub.report says the vendor has none
            _check_report_options(hub.vendor, fields)
        _print_task(hub.report(task_id, args.state, force=args.force, **fields), False)
    return EXIT_OK


def _check_report_options(vendor: str, fields: dict[str, Any]) -> None:
    """Refuse, before any request, an option this vendor's report does not take, saying what
    it takes and which vendors take that option."""
    takes = _report_keywords(vendor)
    for name in fields:
        if name in takes:
            continue
        option = _REPORT_OPTIONS[name]
        others = [v for v in registry.names() if name in _report_keywords(v)]
        offered = ", ".join(_REPORT_OPTIONS[k] for k in _REPORT_OPTIONS if k in takes)
        text = f"{vendor} report takes no {option} (it takes {offered or 'no option'})"
        if others:
            text += f"; {option} is for {', '.join(others)}"
        if name == "error" and "output" in takes:
            text += f'; give {vendor} the error in the output: --output \'{{"error": "..."}}\''
        raise UsageError(text)


def _report_keywords(vendor: str) -> set[str]:
    """The keyword arguments ``vendor``'s report takes (``**extra`` aside)."""
    import inspect

    report = registry.load(vendor).report
    return {
        p.name
        for p in inspect.signature(report).parameters.values()
        if p.kind is p.KEYWORD_ONLY and p.name in _REPORT_OPTIONS
    }


def _states(args: argparse.Namespace) -> int:
    from taskhub.cli import statedoc

    sys.stdout.write(statedoc.render(args.format))
    return EXIT_OK


def _vendors(args: argparse.Namespace) -> int:
    for name, entry in registry.entries().items():
        caps = ", ".join(sorted(registry.load(name).capabilities())) or "-"
        origin = "built-in" if entry.builtin else entry.provider
        print(f"{name:15} {origin:10} {caps}")
    return EXIT_OK


def _docs(args: argparse.Namespace) -> int:
    from taskhub.cli import docgen

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
    from taskhub.cli import completion

    sys.stdout.write(completion.script(args.shell))
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
