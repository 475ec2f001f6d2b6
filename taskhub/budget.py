"""One request budget per backend per process: a rate, and a pause every caller shares.

Every call a process makes to one backend — the refresher's cycles, ``wait`` and ``watch``,
``submit``, a dashboard's listing — draws from the same :class:`Budget`, so
``max_requests_per_second`` holds for the backend as a whole, and a 429 from the vendor
pauses all of them (for its ``Retry-After``), not just the caller that got it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from taskhub.errors import DeadlineExceeded


class Budget:
    """A token bucket (``rate`` per second, bursts of up to ``burst``) with a shared pause."""

    def __init__(
        self,
        rate: float | None = None,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate or 1.0)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self.burst
        self._stamp = clock()
        self._paused_until = 0.0
        #: Requests let through, and seconds callers waited in all (for metrics and tests).
        self.granted = 0
        self.waited = 0.0

    def acquire(self, deadline: float | None = None, *, vendor: str | None = None) -> None:
        """Wait until one request may go; DeadlineExceeded if that is past ``deadline``."""
        while True:
            with self._lock:
                now = self._clock()
                wait = max(0.0, self._paused_until - now)
                if self.rate is not None:
                    self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
                    self._stamp = now
                    # A hair below one token is one token: float refills must not spin.
                    if wait == 0.0 and self._tokens < 1.0 - 1e-9:
                        wait = (1.0 - self._tokens) / self.rate
                if wait == 0.0:
                    if self.rate is not None:
                        self._tokens = max(0.0, self._tokens - 1.0)
                    self.granted += 1
                    return
            if deadline is not None and now + wait > deadline:
                raise DeadlineExceeded(
                    f"the backend's request budget has no room before the call's deadline "
                    f"(next slot in {wait:.2f} s)",
                    vendor=vendor,
                )
            self.waited += wait
            self._sleep(wait)

    def pause(self, seconds: float) -> None:
        """Hold every caller for ``seconds`` from now (a 429's Retry-After)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))


_budgets: dict[tuple[str, str, float | None], Budget] = {}
_budgets_lock = threading.Lock()


def for_backend(vendor: str, origin: str, rate: float | None) -> Budget:
    """The process's budget for one vendor API at ``origin`` (created on first use)."""
    key = (vendor, origin, rate)
    with _budgets_lock:
        budget = _budgets.get(key)
        if budget is None:
            budget = _budgets[key] = Budget(rate)
        return budget
