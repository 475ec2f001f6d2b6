"""Simulators and the adapter contract suite: test pipelines offline, as moto does for AWS.

    from taskhub.testing import simulate

    with simulate("livepeer") as sim:
        hub = taskhub.connect("livepeer", **sim.options)
        sim.inject(status=503, times=2)          # the next two requests fail with 503
        task = hub.get(...)

Needs the ``simulators`` extra (werkzeug, graphql-core).
"""

import warnings
from typing import TYPE_CHECKING, Any

from taskhub.testing.app import Answer, Simulator
from taskhub.testing.clock import SimClock
from taskhub.testing.faults import Fault, FaultPlan, Record, RequestLog
from taskhub.testing.server import SimServer
from taskhub.testing.simulate import Simulation, simulate

__all__ = [
    "Answer",
    "Fault",
    "FaultPlan",
    "Record",
    "RequestLog",
    "SimClock",
    "SimServer",
    "Simulation",
    "Simulator",
    "simulate",
]

# ``Clock`` was this package's name for SimClock (docs/testing.md showed it): a deprecated
# alias, since taskhub.clock.Clock is another thing (a hub's clock). Type checkers see the
# alias itself, so a misspelt import from this package is still an error.
if TYPE_CHECKING:
    Clock = SimClock
else:

    def __getattr__(name: str) -> Any:
        if name == "Clock":
            warnings.warn(
                "taskhub.testing.Clock is renamed SimClock (taskhub.clock.Clock is a hub's clock)",
                DeprecationWarning,
                stacklevel=2,
            )
            return SimClock
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
