"""The simulators' clock: the vendor's wall-clock time, scaled real time or advanced by hand.

Not a hub's clock (:class:`taskhub.clock.Clock`, the monotonic time ``wait`` reads and sleeps
on): a :class:`SimClock` is what a simulated vendor stamps its tasks with.
"""

from __future__ import annotations

import threading
import time


class SimClock:
    """Simulated wall-clock time in epoch seconds.

    ``speed`` scales real time (``speed=60`` makes a minute pass every second); ``manual=True``
    freezes it so only :meth:`advance` moves it, which makes tests exact.
    """

    def __init__(self, *, speed: float = 1.0, manual: bool = False, start: float | None = None):
        if speed <= 0:
            raise ValueError("speed must be greater than 0")
        self._lock = threading.Lock()
        self._speed = speed
        self._manual = manual
        # A manual clock starts on a whole second, so tests that step it land on exact times.
        now = float(int(time.time())) if manual else time.time()
        self._base = now if start is None else start
        self._real = time.monotonic()
        self._offset = 0.0

    def now(self) -> float:
        """The simulated time, in epoch seconds."""
        with self._lock:
            elapsed = 0.0 if self._manual else (time.monotonic() - self._real) * self._speed
            return self._base + self._offset + elapsed

    def now_ms(self) -> int:
        """The simulated time in epoch milliseconds."""
        return int(self.now() * 1000)

    def advance(self, seconds: float) -> None:
        """Move simulated time forward."""
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        with self._lock:
            self._offset += seconds

    @property
    def speed(self) -> float:
        """How many simulated seconds pass per real second (0 when manual)."""
        return 0.0 if self._manual else self._speed

    def __repr__(self) -> str:
        mode = "manual" if self._manual else f"speed={self._speed:g}"
        return f"<SimClock {mode} now={self.now():.3f}>"
