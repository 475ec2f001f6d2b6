"""The ``taskhub`` command.

Exit codes: 0 success; 1 a taskhub error (vendor refused, not found ...); 2 bad usage or
configuration; 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from taskhub import __version__, registry
from taskhub.errors import ConfigError, TaskhubError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``taskhub`` command."""
    parser = argparse.ArgumentParser(
        prog="taskhub", description="One task model over five media-AI vendors' task APIs."
    )
    parser.add_argument("--version", action="version", version=f"taskhub {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    states = sub.add_parser("states", help="print the status tables or the state diagram")
    states.add_argument("--format", choices=("markdown", "json", "dot"), default="markdown")

    sub.add_parser("vendors", help="list the registered vendors and their capabilities")

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
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except TaskhubError as exc:
        if args.debug:
            raise
        print(f"taskhub: error: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, ConfigError) else EXIT_ERROR


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "states":
        from taskhub import statedoc

        sys.stdout.write(statedoc.render(args.format))
        return EXIT_OK
    if args.command == "vendors":
        for name, entry in registry.entries().items():
            caps = ", ".join(sorted(registry.load(name).capabilities())) or "-"
            origin = "built-in" if entry.builtin else entry.provider
            print(f"{name:15} {origin:10} {caps}")
        return EXIT_OK
    if args.command == "engine":
        return _engine(args)
    raise AssertionError(args.command)  # argparse guarantees a known command


def _engine(args: argparse.Namespace) -> int:
    import importlib
    import logging

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
    import importlib

    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError("expected MODULE:FUNCTION")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj
