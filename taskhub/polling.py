"""The one backoff schedule: exponential steps with jitter, up to a ceiling.

Polling (``wait``, ``watch``, the refresher's cycles) and the transport's retries draw their
waits from the same :class:`PollPolicy`, built on ``backoff.expo``: polls spread each wait by
a fraction either way, retries use full jitter (anywhere from zero to the step), as AWS's
backoff guidance recommends for many clients retrying at once.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import attrs
import backoff


def _above_zero(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    # Only "not zero or less" (inf is a ceiling that never binds), unlike options.py's
    # finite_positive for configured seconds, which also refuses nan and inf.
    if value <= 0:
        raise ValueError(f"{attribute.name} must be greater than 0")


@attrs.frozen(kw_only=True)
class PollPolicy:
    """Wait ``initial`` seconds, then ``factor`` times longer each time, never over ``ceiling``.

    ``jitter`` spreads each wait by up to that fraction either way, so many waiters do not poll
    a vendor in step.
    """

    initial: float = attrs.field(default=1.0, validator=_above_zero)
    factor: float = attrs.field(default=1.5, validator=attrs.validators.ge(1.0))
    ceiling: float = attrs.field(default=30.0, validator=_above_zero)
    jitter: float = attrs.field(
        default=0.1, validator=[attrs.validators.ge(0.0), attrs.validators.lt(1.0)]
    )
    #: Draw each wait from zero to the step instead (retries: many clients spread apart).
    full_jitter: bool = False

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        """The waits between polls (or retries), forever."""
        rng = rng or random.Random()
        steps = backoff.expo(base=self.factor, factor=min(self.initial, self.ceiling),
                             max_value=self.ceiling)  # fmt: skip
        next(steps)  # backoff's generators start with a priming None
        for base in steps:
            if self.full_jitter:
                yield rng.uniform(0, base)
            else:
                yield base * rng.uniform(1 - self.jitter, 1 + self.jitter)


#: The transport's retry waits: 0.25 s doubling to 8 s, full jitter.
RETRY = PollPolicy(initial=0.25, factor=2.0, ceiling=8.0, jitter=0.0, full_jitter=True)
