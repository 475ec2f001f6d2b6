"""A ``taskhub serve`` app on the real waitress server the command runs (its limits and its
request deadline), on a free loopback port in a thread, for the service's tests; and a
plain HTTP request to it."""

from __future__ import annotations

import contextlib
import http.client
import threading
from collections.abc import Iterator
from typing import Any

from taskhub.serve import make_server


@contextlib.contextmanager
def serving(app: Any, **options: Any) -> Iterator[str]:
    """Serve ``app`` (``make_server``'s options: ``threads``, ``request_seconds``) until the
    block ends; its ``host:port``."""
    server = make_server(app, **{"threads": 4, **options})
    thread = threading.Thread(target=_loop, args=(server,), daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        thread.join(5)


def _loop(server: Any) -> None:
    # close() from the test's thread can make the loop's select see a closed socket: that is
    # the server stopping, not a failure.
    with contextlib.suppress(OSError):
        server.run()


def fetch(
    address: str,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One request to ``address``: the status, the headers and the body."""
    host, port = address.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=20)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()
