"""A threaded werkzeug server on 127.0.0.1 with an ephemeral port, as a context manager."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    # The simulator keeps its own request log; werkzeug's access log would only be noise.
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

    def log_error(self, *args: Any) -> None:
        pass

    def make_environ(self) -> Any:
        # werkzeug drops headers with underscores (against header smuggling behind proxies);
        # Veritone Edge authenticates with a header literally named ``api_key``.
        environ = super().make_environ()
        for key, value in self.headers.items():
            if "_" in key:
                environ.setdefault("HTTP_" + key.upper().replace("-", "_"), value)
        return environ


class SimServer:
    """Serve a WSGI app on loopback in a background thread."""

    def __init__(
        self, app: Any, *, host: str = "127.0.0.1", port: int = 0, ssl_context: Any = None
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        #: An ``ssl.SSLContext`` (or ``"adhoc"`` for a throwaway self-signed certificate).
        self.ssl_context = ssl_context
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` (no trailing slash)."""
        if self._server is None:
            raise RuntimeError("the server is not running")
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{self.host}:{self._server.server_port}"

    def start(self) -> SimServer:
        """Bind and start serving."""
        if self._server is not None:
            return self
        self._server = make_server(
            self.host,
            self.port,
            self.app,
            threaded=True,
            request_handler=_QuietHandler,
            ssl_context=self.ssl_context,
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"taskhub-sim-{self._server.server_port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
