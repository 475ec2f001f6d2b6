"""The ``taskhub`` command's arguments, declared as data: a table of commands and their options.

:func:`build` turns :data:`COMMANDS` into the argparse parser; the completion scripts
(:mod:`taskhub.cli.completion`) and the generated docs/cli.md are written from the same table,
so what the shell offers, what ``--help`` says and what the command accepts cannot drift apart.
Every argument type here turns a bad value into a usage error (exit 2) before anything is sent.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn

import attrs

from taskhub import __version__
from taskhub.errors import InvalidRequest
from taskhub.model import split_ref
from taskhub.states import State

PROG = "taskhub"

EXIT_CODES = (
    "Exit codes: 0 success; 1 a taskhub error from the vendor (refused, not found, unsupported, "
    "unreachable, a submit sent with no answer), or a task followed by watch, submit --wait or "
    "the demo that ended failed, cancelled or skipped; 2 bad "
    "usage or configuration, caught before any request (an unknown state or format, a "
    "malformed BACKEND:ID, a number out of range, a file that cannot be written, no "
    "configuration); 3 a wait or watch that timed out or found a task stale; 130 "
    "interrupted. An error is one line on stderr; --debug shows its traceback."
)

#: Where ``serve`` reads its defaults, so that a secret need not be on the command line
#: (where any local user reads it in /proc).
ENV_SERVE_TOKEN = "TASKHUB_SERVE_TOKEN"
ENV_DB = "TASKHUB_DB"
DEFAULT_DB = "sqlite:///taskhub.db"
#: The rows ``ls`` shows per backend when no --limit is given.
ROWS = 20


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


positive_int = _number(int, 1, True, "a whole number of 1 or more")
positive_float = _number(float, 0, False, "a number greater than 0")
seconds = _number(float, 0, True, "a number of seconds (0 or more)")


def port(text: str) -> int:
    """A TCP port number, 0 to 65535."""
    number = _number(int, 0, True, "a port number from 0 to 65535")(text)
    if number > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number from 0 to 65535")
    return int(number)


def ref(text: str) -> str:
    """A ``BACKEND:ID`` ref, well formed."""
    try:
        split_ref(text)
    except InvalidRequest as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def state(text: str) -> State:
    """A state name (``succeeded``, ``failed`` …)."""
    try:
        return State.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def json_value(text: str) -> Any:
    """Any JSON text, parsed."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON ({exc})") from None


def new_file(text: str) -> str:
    """A file that can be created: its directory exists."""
    folder = Path(text).parent
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"cannot write {text!r}: no directory {str(folder)!r}")
    return text


def param(text: str) -> tuple[str, Any]:
    """``KEY=VALUE``: the value is JSON when it parses as JSON (``n=7`` is 7), else text."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    try:
        return key.strip(), json.loads(value)
    except ValueError:
        return key.strip(), value


# -- the table ----------------------------------------------------------------------------------

#: What an argument's value completes to in a shell: "" (a flag, no value), "files",
#: "backends", "jobs", "refs", "states", "vendors", "words" (its choices) or "any" (nothing
#: to offer).
COMPLETIONS = ("", "files", "backends", "jobs", "refs", "states", "vendors", "words", "any")


@attrs.frozen
class Arg:
    """One argument of one command: argparse's keywords, and what its value completes to."""

    #: Option strings (``("--limit",)``), or the one name of a positional (``("ref",)``).
    names: tuple[str, ...]
    #: ``add_argument``'s keyword arguments.
    kwargs: Mapping[str, Any]
    complete: str

    @property
    def positional(self) -> bool:
        """Whether it is a positional argument (its name has no leading dash)."""
        return not self.names[0].startswith("-")

    @property
    def help(self) -> str:
        """Its help text, as ``--help`` prints it before expansion."""
        return str(self.kwargs.get("help") or "")

    @property
    def repeat(self) -> bool:
        """Whether it may be given more than once (or, positional, takes many values)."""
        return self.kwargs.get("action") == "append" or self.kwargs.get("nargs") in ("+", "*")

    @property
    def optional(self) -> bool:
        """A positional that may be left out."""
        return self.positional and self.kwargs.get("nargs") in ("?", "*")

    @property
    def dest(self) -> str:
        """The attribute it sets on the parsed namespace."""
        if "dest" in self.kwargs:
            return str(self.kwargs["dest"])
        return self.names[-1].lstrip("-").replace("-", "_")


def arg(*names: str, complete: str | None = None, **kwargs: Any) -> Arg:
    """An argument; what it completes to is derived unless given: a flag completes to nothing,
    a fixed set of choices to those words, anything else to nothing in particular."""
    if complete is None:
        if kwargs.get("action") in ("store_true", "store_false", "version"):
            complete = ""
        elif "choices" in kwargs:
            complete = "words"
        else:
            complete = "any"
    if complete not in COMPLETIONS:
        raise ValueError(f"unknown completion {complete!r}")
    return Arg(tuple(names), kwargs, complete)


@attrs.frozen
class Command:
    """One command: its name, one-line help, longer description, and arguments."""

    name: str
    help: str
    args: tuple[Arg, ...] = ()
    description: str | None = None
    #: It reads the configuration, so it also takes --config after its name.
    configured: bool = False

    @property
    def all_args(self) -> tuple[Arg, ...]:
        """Its arguments, --config first when it reads the configuration."""
        return (CONFIG_AFTER, *self.args) if self.configured else self.args


_REF = arg("ref", metavar="BACKEND:ID", type=ref, complete="refs")

#: The global options (before the command's name).
GLOBAL = (
    arg("--version", action="version", version=f"{PROG} {__version__}"),
    arg("--debug", action="store_true", help="show tracebacks and HTTP logs"),
    arg(
        "--config",
        metavar="FILE",
        complete="files",
        help="configuration file (default: $TASKHUB_CONFIG or ./taskhub.toml); the commands "
        "that read it also take it after their name",
    ),
)
#: The same option after a command's name; SUPPRESS keeps the global one when absent.
CONFIG_AFTER = arg(
    "--config",
    metavar="FILE",
    default=argparse.SUPPRESS,
    complete="files",
    help="configuration file",
)

COMMANDS: tuple[Command, ...] = (
    Command(
        "demo",
        "run every vendor's simulator and a task on each",
        (
            arg("--json", action="store_true", help="print the tasks as JSON"),
            arg(
                "--speed",
                type=positive_float,
                default=20.0,
                help="simulated seconds per real second (default: %(default)s)",
            ),
            arg(
                "--db",
                metavar="URL",
                help="record the tasks into this store: sqlite:///FILE or "
                "postgresql+psycopg://... (default: a new SQLite file, taskhub-demo-*.db in "
                "the temp directory, kept so `taskhub serve --db` can show it)",
            ),
        ),
    ),
    Command(
        "simulate",
        "serve the simulators and write a config for them",
        (
            arg(
                "--write",
                metavar="FILE",
                type=new_file,
                default="taskhub-sim.toml",
                complete="files",
                help="where to write the configuration (default: %(default)s)",
            ),
            arg(
                "--speed",
                type=positive_float,
                default=1.0,
                help="simulated seconds per real second (default: %(default)s)",
            ),
            arg("--duration", type=seconds, help="stop after this many seconds"),
            arg(
                "--detach",
                action="store_true",
                help="run in the background; return once the file is written and the "
                "simulators serve",
            ),
        ),
        description="Serve every vendor's simulator on loopback and write a configuration for "
        "them. The file is written whole (never half) once the simulators are serving; with "
        "--detach the command returns only then, leaving the simulators running in the "
        "background, so the next command can read the file at once: `taskhub simulate "
        "--write sim.toml --detach && taskhub ls --config sim.toml`; stop them with the "
        "`kill PID` it prints.",
    ),
    Command(
        "backends",
        "list the configured backends",
        (arg("--names", action="store_true", help="only the names, one a line (for scripts)"),),
        configured=True,
    ),
    Command(
        "jobs",
        "list the configured jobs and the parameters each takes",
        (arg("--names", action="store_true", help="only the names, one a line (for scripts)"),),
        configured=True,
    ),
    Command(
        "submit",
        "submit a configured job or a vendor spec; print the new task's ref",
        (
            arg(
                "job",
                nargs="?",
                metavar="JOB",
                complete="jobs",
                help="a [jobs.NAME] of the configuration (`taskhub jobs` lists them)",
            ),
            arg(
                "--backend",
                metavar="NAME",
                complete="backends",
                help="the backend to submit "
                "to (default: the job's backend, else the configured default)",
            ),
            arg(
                "--param",
                action="append",
                type=param,
                default=[],
                metavar="KEY=VALUE",
                help="a parameter of the job (repeatable); VALUE is JSON when it parses as "
                "JSON (n=7 is the number 7), else text",
            ),
            arg(
                "--params-file",
                metavar="FILE.json",
                complete="files",
                help="the job's parameters as one JSON object (a --param of the same name wins)",
            ),
            arg(
                "--spec",
                metavar="FILE.json",
                complete="files",
                help="submit this vendor "
                "spec instead of a JOB: a JSON object of submit fields, as a job's spec holds "
                "them",
            ),
            arg(
                "--wait",
                action="store_true",
                help="follow the task with live progress until it finishes; exit as watch does",
            ),
            arg(
                "--timeout",
                type=seconds,
                help="with --wait: give up after this many seconds (exit 3; the task goes on)",
            ),
            arg(
                "--format",
                choices=("table", "json"),
                default="table",
                help="table: the ref, "
                "then the progress with --wait; json: the task (the finished one with --wait)",
            ),
        ),
        description="Submit the configuration's [jobs.JOB] with its ${name} placeholders filled "
        "from --param and --params-file (then the environment), or a vendor spec with --spec; "
        "the backend's typed spec checks either before anything is sent. A parameter the job "
        "neither uses nor lists in its ignore is a mistake (exit 2), as is any other usage or "
        "configuration mistake, before any request. With --wait, exits 0 when the task "
        "succeeded, 1 when it ended failed, cancelled or skipped, 3 on --timeout. When the "
        "submit was sent but no answer came, the task may exist: it is not sent again, the "
        "command says how to look for it and exits 1.",
        configured=True,
    ),
    Command(
        "get",
        "show one task",
        (_REF, arg("--json", action="store_true", help="print the task as JSON")),
        configured=True,
    ),
    Command(
        "ls",
        "list tasks across the configured backends",
        (
            arg(
                "--backend",
                action="append",
                complete="backends",
                help="only this backend (repeatable)",
            ),
            arg(
                "--state",
                action="append",
                type=state,
                complete="states",
                help="only this state (repeatable)",
            ),
            arg(
                "--limit",
                type=positive_int,
                help=f"tasks per backend (default: {ROWS} rows; --summary counts every task "
                "unless given, and says when it stopped at the limit)",
            ),
            arg(
                "--format",
                choices=("table", "json", "csv"),
                default="table",
                help="output format",
            ),
            arg("--summary", action="store_true", help="counts by backend and state"),
        ),
        description="List tasks across the configured backends (a vendor without a listing, "
        "such as Vionlabs, is skipped with the reason on stderr). --format csv has the "
        "columns ref, backend, vendor, id, kind, state, raw, reason, progress (0-1, blank when "
        "the vendor gives none), message, created_at, started_at, updated_at, finished_at "
        "(ISO 8601 UTC) and duration (seconds from start to finish). --summary counts every "
        "task each backend lists (paging through; progress on stderr when it is a terminal) "
        "by state, in the --format chosen; with --limit it counts the first N and says so: "
        'the table in a line under it ("first 100 of at least 100"), JSON and CSV in a '
        "complete field (false when the limit stopped the count).",
        configured=True,
    ),
    Command(
        "watch",
        "follow tasks until they finish",
        (
            arg("refs", nargs="+", metavar="BACKEND:ID", type=ref, complete="refs"),
            arg("--timeout", type=seconds, help="give up after this many seconds"),
            arg(
                "--format",
                choices=("text", "jsonl"),
                default="text",
                help="text: progress for a person; jsonl: a JSON line per transition",
            ),
        ),
        description="Follow tasks until every one is finished. Exits 0 when all succeeded, 1 "
        "when one ended failed, cancelled or skipped, 3 on --timeout. --format jsonl writes "
        "one JSON object a line per transition, for other programs: ref, before (null the "
        "first time a task is seen), after, at (ISO 8601 UTC), change (first, advance, retry, "
        "resume), raw (the vendor's word) and task (the task's JSON).",
        configured=True,
    ),
    Command(
        "cancel",
        "cancel a task",
        (
            _REF,
            arg("--reason", help="why (sent where the vendor keeps one)"),
            arg(
                "--force",
                action="store_true",
                help="send it even when the task is known to be finished (the vendor decides)",
            ),
        ),
        configured=True,
    ),
    Command("retry", "run a failed task again", (_REF,), configured=True),
    Command(
        "report",
        "report a task's state as its worker",
        (
            _REF,
            arg(
                "state",
                type=state,
                complete="states",
                help="the new state: " + ", ".join(s.value for s in State),
            ),
            arg("--output", type=json_value, help="the output, as JSON"),
            arg("--error", help="the error text (failed only)"),
            arg("--failure-reason", help="the vendor's failure reason (failed only)"),
            arg("--retryable", choices=("true", "false")),
            arg("--job-id", help="the job of the task (Veritone)"),
            arg(
                "--force",
                action="store_true",
                help="send it even when the task is known to be finished (the vendor decides)",
            ),
        ),
        configured=True,
    ),
    Command(
        "states",
        "print the status tables or the state diagram",
        (arg("--format", choices=("markdown", "json", "dot", "mermaid"), default="markdown"),),
    ),
    Command("vendors", "list the registered vendors and their capabilities"),
    Command(
        "docs",
        "print a generated documentation page",
        (
            arg("page", choices=("configuration", "vendor", "cli")),
            arg("vendor", nargs="?", complete="vendors"),
        ),
    ),
    Command(
        "engine",
        "run a worker engine around a Python function",
        (
            arg(
                "vendor",
                complete="vendors",
                help="the vendor whose task flow to run (e.g. veritone)",
            ),
            arg("function", metavar="MODULE:FUNCTION", help="the function to call"),
            arg(
                "--payload",
                metavar="FILE",
                complete="files",
                help="the task payload (default: $PAYLOAD_FILE)",
            ),
            arg(
                "--types",
                default="video/,audio/",
                help="supported content or asset types, comma-separated (default: %(default)s)",
            ),
            arg("--engine-id", help="recorded as the source of the assets it creates"),
        ),
        description="Run the vendor's worker flow around MODULE:FUNCTION. MODULE is imported "
        "as `python -m` would: the current directory comes first on the import path.",
    ),
    Command(
        "serve",
        "follow the backends, record into a store, serve a dashboard",
        (
            arg(
                "--backend",
                action="append",
                default=[],
                metavar="NAME",
                complete="backends",
                help="follow only this backend (repeat for more; default: all)",
            ),
            arg(
                "--db",
                metavar="URL",
                help="store URL: sqlite:///FILE or postgresql+psycopg://... (default: "
                f"${ENV_DB}, else {DEFAULT_DB})",
            ),
            arg("--host", default="127.0.0.1", help="address (default: %(default)s)"),
            arg(
                "--port",
                type=port,
                default=8765,
                help="port, 0 for any free one (default: %(default)s)",
            ),
            arg(
                "--allow-host",
                action="append",
                default=[],
                metavar="NAME",
                help="a Host header to answer besides the address served (repeat for more): "
                "the name a proxy or a browser uses to reach it",
            ),
            arg(
                "--no-follow",
                action="store_true",
                help="follow no backend, whatever the configuration says: serve what the store "
                "holds",
            ),
            arg(
                "--discover-every",
                metavar="SECONDS",
                type=positive_float,
                help="how often to list each backend for tasks not yet followed (default: "
                "the [serve] table's discover_every, else 30)",
            ),
            arg(
                "--token",
                help=f"bearer token for the page and the API (default: ${ENV_SERVE_TOKEN}; "
                "set it there rather than here, where other local users can read it)",
            ),
            arg(
                "--insecure-no-token",
                action="store_true",
                help="INSECURE: serve with no token on an address other than loopback, so "
                "anyone who reaches it reads every task",
            ),
        ),
        description="Follow the configured backends' tasks, record every transition into a "
        "store (SQLite file or PostgreSQL URL) and serve a web page, a JSON API, Prometheus "
        "/metrics, /healthz and webhook intake (POST /webhooks/BACKEND, secret from "
        "$TASKHUB_WEBHOOK_SECRET_<BACKEND>) until SIGTERM or Ctrl-C. Needs "
        "pip install 'taskhub[serve]'; see docs/dashboards.md.",
        configured=True,
    ),
    Command(
        "completion",
        "print a shell completion script",
        (arg("shell", choices=("bash", "zsh")),),
        description="Print a completion script for bash or zsh, written from this command's "
        'own table of commands and options (no extra package). Load it with `eval "$(taskhub '
        'completion bash)"` or `source <(taskhub completion zsh)` (after compinit), or save '
        "it where the shell looks for completions (the script's first lines say where). "
        "Backend and job names complete from `taskhub backends --names` and `taskhub jobs "
        "--names`.",
    ),
)


# -- building the parser ------------------------------------------------------------------------


class Parser(argparse.ArgumentParser):
    """argparse, with a usage mistake said in one line (the documented contract), the
    command's --help named for the rest."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _add(parser: argparse.ArgumentParser, args: tuple[Arg, ...]) -> None:
    for each in args:
        parser.add_argument(*each.names, **each.kwargs)


def build() -> argparse.ArgumentParser:
    """The argument parser of the ``taskhub`` command, from :data:`COMMANDS`."""
    parser = Parser(
        prog=PROG,
        description="One task model over five media-AI vendors' task APIs.",
        epilog=EXIT_CODES,
    )
    _add(parser, GLOBAL)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        each = sub.add_parser(command.name, help=command.help, description=command.description)
        _add(each, command.all_args)
    return parser


def command(name: str) -> Command:
    """The command called ``name``."""
    return next(c for c in COMMANDS if c.name == name)
