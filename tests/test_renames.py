"""Names renamed for clarity (issue 24) still answer under their old names, with a
DeprecationWarning, and are the very same objects."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

import pytest

import taskhub.signals


def _fresh(module: str) -> ModuleType:
    sys.modules.pop(module, None)
    return importlib.import_module(module)


def test_taskhub_hooks_is_taskhub_signals_under_its_old_name() -> None:
    with pytest.deprecated_call(match="taskhub.signals"):
        hooks = _fresh("taskhub.hooks")
    assert hooks.on_request is taskhub.signals.on_request
    assert hooks.emit is taskhub.signals.emit


def test_taskhub_tables_is_taskhub_statuses_under_its_old_name() -> None:
    import taskhub.statuses

    with pytest.deprecated_call(match="taskhub.statuses"):
        tables = _fresh("taskhub.tables")
    assert tables.StatusTable is taskhub.statuses.StatusTable
    assert tables.Rule is taskhub.statuses.Rule


def test_the_simulators_clock_is_simclock_and_answers_to_its_old_name() -> None:
    import taskhub.testing
    from taskhub.testing import SimClock

    with pytest.deprecated_call(match="SimClock"):
        old = taskhub.testing.Clock
    assert old is SimClock
    with pytest.raises(AttributeError):
        getattr(taskhub.testing, "Nothing")  # noqa: B009
