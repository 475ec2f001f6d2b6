"""An OpenLineage HTTP endpoint on loopback that keeps every event it receives.

conftest.py starts one per test session and points Airflow's OpenLineage transport at it
(``[openlineage] transport``, read once per process, before Airflow is imported), so a
test reads exactly what the provider sent over HTTP during its ``dag.test()`` run.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LineageSink:
    """``POST /api/v1/lineage`` on 127.0.0.1: each body is one OpenLineage event."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[dict[str, Any]] = []
        self._bodies: list[str] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                with sink._lock:
                    sink._bodies.append(body)
                    sink._events.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the tests read the events, not the access log

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The transport's ``url``."""
        return f"http://127.0.0.1:{self._server.server_port}"

    def transport(self) -> dict[str, Any]:
        """The ``[openlineage] transport`` setting that sends events here."""
        return {"type": "http", "url": self.url, "endpoint": "api/v1/lineage"}

    def events(self, job: str) -> list[dict[str, Any]]:
        """The events received for OpenLineage job ``job`` (``<dag_id>.<task_id>``)."""
        with self._lock:
            return [e for e in self._events if e.get("job", {}).get("name") == job]

    def text(self) -> str:
        """Every body received, as sent (to look for what must never be there)."""
        with self._lock:
            return "\n".join(self._bodies)

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()
