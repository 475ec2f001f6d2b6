"""``taskhub serve``: follow the configured backends, record into the store, serve a page,
an API, Prometheus metrics and webhook intake.

Needs the ``serve`` extra (``pip install 'taskhub[serve]'``: waitress, prometheus-client and
the ``store`` extra). :func:`build` makes the parts without a server (tests, embedding);
:func:`run` is the command. See docs/dashboards.md.
"""

from __future__ import annotations

try:
    import prometheus_client  # noqa: F401
    import waitress  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError("taskhub serve needs its extra: pip install 'taskhub[serve]'") from exc

from .access import Access, Token
from .app import App
from .metrics import Metrics
from .routes import Role
from .served import Served, build, webhook_secrets
from .server import make_server, run
from .service import Service

__all__ = [
    "Access",
    "App",
    "Metrics",
    "Role",
    "Served",
    "Service",
    "Token",
    "build",
    "make_server",
    "run",
    "webhook_secrets",
]
