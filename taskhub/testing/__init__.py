"""Simulators and the adapter contract suite: test pipelines offline, as moto does for AWS.

    from taskhub.testing import simulate

    with simulate("livepeer") as sim:
        hub = taskhub.connect("livepeer", **sim.options)
        sim.inject(status=503, times=2)          # the next two requests fail with 503
        task = hub.get(...)

Needs the ``simulators`` extra (werkzeug, graphql-core).
"""

from taskhub.testing.app import Answer, Simulator
from taskhub.testing.clock import Clock
from taskhub.testing.faults import Fault, FaultPlan, Record, RequestLog
from taskhub.testing.server import SimServer
from taskhub.testing.simulate import Simulation, simulate

__all__ = [
    "Answer",
    "Clock",
    "Fault",
    "FaultPlan",
    "Record",
    "RequestLog",
    "SimServer",
    "Simulation",
    "Simulator",
    "simulate",
]
