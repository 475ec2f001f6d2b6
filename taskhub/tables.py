"""Deprecated name of :mod:`taskhub.statuses`, the vendors' status tables and normalize.

Renamed so that "tables" means one thing, the database's (:mod:`taskhub.store.schema`).
The names here are the very objects of :mod:`taskhub.statuses`, so an adapter that imports
them through this name keeps working, with a DeprecationWarning when it imports this module.
"""

from __future__ import annotations

import warnings

from taskhub.statuses import WARNED_MAX, WORD_SHOWN, Hints, Refine, Rule, StatusTable

warnings.warn(
    "taskhub.tables is renamed taskhub.statuses; import that instead",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["WARNED_MAX", "WORD_SHOWN", "Hints", "Refine", "Rule", "StatusTable"]
