"""Time as a parameter: what ``wait`` and ``watch`` read and how they pause.

A hub takes a :class:`Clock` (default :data:`SYSTEM`), so tests run waits on virtual time —
a clock whose ``sleep`` moves a simulator's time forward instead of sleeping — and never
depend on the machine's speed.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """A monotonic time source and a way to pause."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""
        ...

    def sleep(self, seconds: float) -> None:
        """Pause for ``seconds``."""
        ...


class SystemClock:
    """The machine's clock: ``time.monotonic`` and ``time.sleep``."""

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """``time.sleep(seconds)``."""
        time.sleep(seconds)


class VirtualClock:
    """Time that moves only when slept through: each ``sleep`` adds to it at once, and
    ``on_sleep`` (e.g. a simulator clock's ``advance``) hears about it."""

    def __init__(self, start: float = 0.0, on_sleep: object = None) -> None:
        self._now = start
        self._on_sleep = on_sleep
        #: Every pause asked for, in order.
        self.slept: list[float] = []

    def monotonic(self) -> float:
        """The virtual time."""
        return self._now

    def sleep(self, seconds: float) -> None:
        """Move the virtual time forward by ``seconds`` without waiting."""
        seconds = max(0.0, seconds)
        self.slept.append(seconds)
        self._now += seconds
        if callable(self._on_sleep):
            self._on_sleep(seconds)


#: The clock every hub uses unless given another.
SYSTEM: Clock = SystemClock()
