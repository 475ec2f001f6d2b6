"""Deprecated name of :mod:`taskhub.signals`, the core's observer callbacks.

Renamed so that "hook" means one thing, the Airflow hook (:mod:`taskhub.airflow.hooks`).
The lists here are the very lists of :mod:`taskhub.signals`, so code that appends to them
through this name keeps working, with a DeprecationWarning when it imports this module.
"""

from __future__ import annotations

import warnings

from taskhub.signals import emit, on_refresh_cycle, on_request, on_skipped_row, on_unknown_status

warnings.warn(
    "taskhub.hooks is renamed taskhub.signals; import that instead",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["emit", "on_refresh_cycle", "on_request", "on_skipped_row", "on_unknown_status"]
