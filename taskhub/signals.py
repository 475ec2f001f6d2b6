"""Signals for observers of the core (metrics, tracing): plain lists of plain functions.

The core calls them, knows nothing of who listens, and never lets a listener's failure reach
the caller. ``taskhub serve`` appends its Prometheus counters here; anyone else may too.

- :data:`on_request` — ``fn(vendor, operation, outcome, seconds)`` after every HTTP attempt;
  ``outcome`` is the HTTP status code (int) or a word for a failure without one (``timeout``,
  ``connection``, ...).
- :data:`on_unknown_status` — ``fn(vendor, word)`` each time a vendor's status word is not in
  its table (every time, not once like the warning).
- :data:`on_refresh_cycle` — ``fn(backend, vendor, ids, seconds, failed)`` after each cycle
  of a shared refresher.
- :data:`on_skipped_row` — ``fn(vendor, why)`` each time a row of a vendor's answer is
  skipped (its id fails the vendor's id rule), the rest of the answer being kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

# The logger keeps the module's former name (taskhub.hooks), so existing log filters still
# catch a failing listener.
log = logging.getLogger("taskhub.hooks")

on_request: list[Callable[[str, str, object, float], None]] = []
on_unknown_status: list[Callable[[str, str], None]] = []
on_refresh_cycle: list[Callable[[str, str, int, float, bool], None]] = []
on_skipped_row: list[Callable[[str, str], None]] = []


def emit(listeners: list[Callable[..., None]], *args: Any) -> None:
    """Call every listener with ``args``; a listener's exception is logged, never raised."""
    for listener in list(listeners):
        try:
            listener(*args)
        except Exception:
            log.exception("a taskhub hook failed")
