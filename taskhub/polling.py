"""How often to ask a vendor about a task: exponential steps with jitter, up to a ceiling."""

from __future__ import annotations

import random
from collections.abc import Iterator

import attrs


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be greater than 0")


@attrs.frozen(kw_only=True)
class PollPolicy:
    """Wait ``initial`` seconds, then ``factor`` times longer each time, never over ``ceiling``.

    ``jitter`` spreads each wait by up to that fraction either way, so many waiters do not poll
    a vendor in step.
    """

    initial: float = attrs.field(default=1.0, validator=_positive)
    factor: float = attrs.field(default=1.5, validator=attrs.validators.ge(1.0))
    ceiling: float = attrs.field(default=30.0, validator=_positive)
    jitter: float = attrs.field(
        default=0.1, validator=[attrs.validators.ge(0.0), attrs.validators.lt(1.0)]
    )

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        """The waits between polls, forever."""
        rng = rng or random.Random()
        base = min(self.initial, self.ceiling)
        while True:
            yield base * rng.uniform(1 - self.jitter, 1 + self.jitter)
            base = min(self.ceiling, base * self.factor)
