"""``taskhub serve`` as a command: bind, follow, serve until SIGTERM or Ctrl-C, stop cleanly.

The address is bound before anything else is made, so an address in use fails at once (exit
2, naming the port and ``--port``) and leaves no store file behind. Listening beyond loopback
needs a token, unless ``allow_insecure`` says otherwise (and then a warning says so). Waitress
runs with limits that fit the service (:data:`LIMITS`): a request body no larger than a
webhook delivery, a whole request within :data:`REQUEST_SECONDS` however slowly it drips in,
and room for :data:`CONNECTION_LIMIT` connections, so a few hundred slow clients cannot keep
``/healthz`` from answering.

On stop it writes everything heard and says how many transitions were written and how many
observations were not; a stop that lost any exits 1.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

from taskhub.config import Config
from taskhub.errors import ConfigError
from taskhub.hub import TaskHub, connect_all
from taskhub.store import DEFAULT_URL, Tally, masked_url

from .access import Access, Token, check_token, is_loopback
from .app import MAX_BODY
from .routes import Role
from .served import Served, build, webhook_secrets

log = logging.getLogger("taskhub.serve")

#: Connections served at once (each slow client holds one until its request deadline).
CONNECTION_LIMIT = 1000
#: Seconds a whole request (headers and body) may take to arrive.
REQUEST_SECONDS = 15.0
#: Waitress's settings for the service.
LIMITS: dict[str, Any] = {
    "connection_limit": CONNECTION_LIMIT,
    # An idle keep-alive connection is closed after this.
    "channel_timeout": 30,
    "cleanup_interval": 1,
    "max_request_body_size": MAX_BODY,
    "max_request_header_size": 64 * 1024,
    # select() stops at 1,024 descriptors; poll() does not.
    "asyncore_use_poll": True,
    "ident": "taskhub",
}
#: The exit status of a stop by Ctrl-C, as shells report it.
INTERRUPTED = 130


class _Slot:
    """The WSGI application the server calls, filled in once the parts exist: the address
    is bound before the store is opened."""

    def __init__(self) -> None:
        self.app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)


def run(
    config: Config | str | None = None,
    *,
    backends: Sequence[str] = (),
    db: str = DEFAULT_URL,
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str | None = None,
    tokens: Sequence[Token] = (),
    allow_hosts: Sequence[str] = (),
    allow_insecure: bool = False,
    discover_every: float = 30.0,
    threads: int = 8,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Serve until SIGTERM or Ctrl-C; then stop following and write everything heard.

    ``config``: the backends to follow (``backends`` narrows them); None follows none and
    serves what the store holds. ``token`` is one operator token, ``tokens`` named ones.
    Returns the exit status: 0, 130 after Ctrl-C, 1 when something heard was not written.
    A store that cannot be opened, an address that cannot be served, or an unsafe setting is
    a ConfigError, before anything is made."""
    out, err = out or sys.stdout, err or sys.stderr
    slot = _Slot()
    server = make_server(slot, host, port, threads)
    try:
        access = _access(token, tokens, host, allow_hosts, allow_insecure, err)
        hubs = _hubs(config, backends)
        try:
            served = build(
                hubs,
                db,
                access=access,
                secrets=webhook_secrets(list(hubs), os.environ),
                discover_every=discover_every,
            )
        except BaseException:
            for hub in hubs.values():
                hub.close()
            raise
    except BaseException:
        server.close()
        raise
    slot.app = served.app
    url = f"http://{_shown(host)}:{server.effective_port}/"
    following = ", ".join(hubs) or "no backend"
    out.write(f"taskhub serve: {url} following {following}; store {masked_url(db)}\n")
    out.flush()
    reason = _serve(server)
    tally = _stop(served, hubs)
    out.write(f"taskhub serve: {reason}; {summary(tally)}\n")
    out.flush()
    if tally.lost:
        return 1
    return INTERRUPTED if reason == "SIGINT" else 0


def summary(tally: Tally) -> str:
    """The stop line's account: what was written, and what was not."""
    said = f"{tally.transitions:,} transitions written ({tally.written:,} observations)"
    if tally.quarantined:
        said += f", {tally.quarantined:,} quarantined (see taskhub_quarantine)"
    if tally.unwritten:
        return (
            f"{said}; {tally.unwritten:,} observations NOT written: the store could not be reached"
        )
    return f"{said}; everything heard is recorded"


def _access(
    token: str | None,
    tokens: Sequence[Token],
    host: str,
    allow_hosts: Sequence[str],
    allow_insecure: bool,
    err: TextIO,
) -> Access:
    named = list(tokens)
    if token:
        check_token(token, "--token (TASKHUB_SERVE_TOKEN)")
        named.insert(0, Token("operator", Role.OPERATOR, token))
    for given in tokens:
        check_token(given.value, f"serve.tokens.{given.name}")
    hosts = [*allow_hosts, *([] if _wildcard(host) or is_loopback(host) else [host])]
    access = Access(named, hosts=hosts)
    if access.open and not is_loopback(host):
        if not allow_insecure:
            raise ConfigError(
                f"taskhub serve would listen on {host} with no token: anyone who reaches it "
                "could read every task and act on them. Set TASKHUB_SERVE_TOKEN (or --token), "
                "or pass --insecure-no-token if this network is yours alone",
                path="--host",
            )
        err.write(
            f"taskhub serve: WARNING: listening on {host} with no token (--insecure-no-token): "
            "anyone who reaches this address can read and act\n"
        )
    return access


def make_server(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    threads: int = 8,
    *,
    request_seconds: float = REQUEST_SECONDS,
) -> Any:
    """The waitress server ``taskhub serve`` runs, bound to ``host``:``port``, with its
    limits and its request deadline (call ``run()`` on it, ``close()`` to stop). An address
    in use or invalid is a ConfigError."""
    from waitress.server import create_server

    try:
        server = create_server(app, host=host, port=port, threads=threads, **LIMITS)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"cannot serve on {host}:{port}: the port is in use; choose another with --port",
                path="--port",
            ) from None
        raise ConfigError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    except ValueError as exc:  # waitress: "Invalid host/port specified."
        raise ConfigError(f"cannot serve on {host}:{port}: {exc}", path="--host") from None
    _deadline(server, request_seconds)
    return server


def _deadline(server: Any, seconds: float) -> None:
    """Close a connection whose request has not arrived whole ``seconds`` after it began:
    waitress's own timeout counts only silence, so a client dripping a header line every few
    seconds would hold its connection for ever."""
    idle = server.maintenance

    def maintenance(now: float) -> None:
        idle(now)
        for channel in list(server.active_channels.values()):
            partial = channel.request
            if partial is None or channel.requests:
                continue
            began = getattr(partial, "_taskhub_began", None)
            if began is None:
                partial._taskhub_began = now
            elif now - began > seconds:
                channel.will_close = True

    server.maintenance = maintenance


def _hubs(config: Config | str | None, backends: Sequence[str]) -> dict[str, TaskHub]:
    hubs = connect_all(config) if config is not None else {}
    if backends:
        unknown = [b for b in backends if b not in hubs]
        if unknown:
            for hub in hubs.values():
                hub.close()
            raise ConfigError(
                f"no backend {unknown[0]!r} in the configuration; known: {', '.join(hubs)}"
            )
        hubs = {b: hubs[b] for b in backends}
    return hubs


def _serve(server: Any) -> str:
    """Run the server until a signal (or its own end); the reason it stopped."""
    thread = threading.Thread(target=_loop, args=(server,), name="taskhub-serve-http", daemon=True)
    stopped = threading.Event()
    reason = ["stopped"]
    with _signals(stopped, reason):
        thread.start()
        try:
            while thread.is_alive() and not stopped.wait(0.5):
                pass
        except KeyboardInterrupt:  # outside the main thread, or before the handler was set
            reason[0] = "SIGINT"
    server.close()
    thread.join(5)
    return reason[0]


def _loop(server: Any) -> None:
    with contextlib.suppress(OSError):  # close() from the main thread ends the loop's select
        server.run()


@contextmanager
def _signals(stopped: threading.Event, reason: list[str]) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stopped`` (in the main thread only; elsewhere, nothing)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: Any) -> None:
        reason[0] = signal.Signals(signum).name
        stopped.set()

    old = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def _stop(served: Served, hubs: dict[str, TaskHub]) -> Tally:
    started = time.monotonic()
    try:
        return served.close()
    finally:
        for hub in hubs.values():
            hub.close()
        log.info("serve: stopped in %.1f s", time.monotonic() - started)


def _wildcard(host: str) -> bool:
    return host in ("", "0.0.0.0", "::", "[::]", "*")


def _shown(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
