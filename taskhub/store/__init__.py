"""taskhub.store: the last status of every task and every transition, in SQLite or PostgreSQL.

Needs the ``store`` extra (``pip install 'taskhub[store]'``: SQLAlchemy Core, psycopg 3).
``Store(url)`` opens (and creates or upgrades) the tables; ``StoreTracker(store)`` is a
Tracker that reads from and records into it. See docs/dashboards.md.
"""

from __future__ import annotations

try:
    import sqlalchemy  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError("taskhub.store needs SQLAlchemy: pip install 'taskhub[store]'") from exc

from .reader import Filters, Page
from .rows import Recorded
from .schema import SUBTASK, TASK, VERSION
from .store import DEFAULT_URL, Store, masked_url, open_store
from .tracker import StoreTracker
from .writer import Tally

__all__ = [
    "DEFAULT_URL",
    "SUBTASK",
    "TASK",
    "VERSION",
    "Filters",
    "Page",
    "Recorded",
    "Store",
    "StoreTracker",
    "Tally",
    "masked_url",
    "open_store",
]
