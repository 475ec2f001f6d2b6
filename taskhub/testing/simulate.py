"""``simulate(vendor)``: a vendor's simulator served on loopback, ready to connect to."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Generic, Literal, cast, overload

from taskhub import registry
from taskhub.errors import ConfigError
from taskhub.hub import TaskHub, connect
from taskhub.testing.app import Simulator
from taskhub.testing.clock import SimClock
from taskhub.testing.faults import Fault, Record
from taskhub.testing.server import SimServer

if TYPE_CHECKING:
    # Defaults (PEP 696) let a bare ``Simulation`` mean Simulation[Simulator, TaskHub]; only
    # type checkers need them, so typing_extensions is no runtime dependency.
    from typing_extensions import TypeVar

    from taskhub.adapters.cognite.hub import CogniteHub
    from taskhub.adapters.cognite.simulator import CogniteSimulator
    from taskhub.adapters.livepeer.hub import LivepeerHub
    from taskhub.adapters.livepeer.simulator import LivepeerSimulator
    from taskhub.adapters.veritone.hub import VeritoneHub
    from taskhub.adapters.veritone.simulator import VeritoneSimulator
    from taskhub.adapters.veritone_edge.hub import EdgeHub
    from taskhub.adapters.veritone_edge.simulator import EdgeSimulator
    from taskhub.adapters.vionlabs.hub import VionlabsHub
    from taskhub.adapters.vionlabs.simulator import VionlabsSimulator

    SimT = TypeVar("SimT", bound=Simulator, default=Simulator, covariant=True)
    HubT = TypeVar("HubT", bound=TaskHub, default=TaskHub, covariant=True)
else:
    from typing import TypeVar

    SimT = TypeVar("SimT", bound=Simulator, covariant=True)
    HubT = TypeVar("HubT", bound=TaskHub, covariant=True)


class Simulation(Generic[SimT, HubT]):
    """A running simulator: where it is, how to connect to it, how to break it.

    ``simulate("livepeer")`` gives a ``Simulation[LivepeerSimulator, LivepeerHub]``: its
    ``simulator`` has the vendor simulator's own helpers and ``connect()`` the vendor's hub,
    both typed.
    """

    def __init__(self, simulator: SimT, server: SimServer) -> None:
        self.simulator = simulator
        self.server = server

    @property
    def vendor(self) -> str:
        """The simulated vendor."""
        return self.simulator.vendor

    @property
    def url(self) -> str:
        """The API root URL (server URL plus the vendor's base path)."""
        return self.server.url + self.simulator.base_path

    @property
    def options(self) -> dict[str, Any]:
        """Keyword arguments for ``taskhub.connect(vendor, **options)``."""
        return self.simulator.client_options(self.url)

    @property
    def clock(self) -> SimClock:
        """The simulator's clock."""
        return self.simulator.clock

    @property
    def requests(self) -> list[Record]:
        """Every request received so far."""
        return self.simulator.log.all()

    def inject(self, kind: str = "status", **kwargs: Any) -> Fault:
        """Add a fault rule (see :mod:`taskhub.testing.faults` for the kinds)."""
        return self.simulator.faults.add(Fault(kind, **kwargs))  # type: ignore[arg-type]

    def connect(self, **overrides: Any) -> HubT:
        """A TaskHub connected to this simulator (the vendor's hub class)."""
        return cast("HubT", connect(self.vendor, **{**self.options, **overrides}))


def load_simulator(vendor: str) -> type[Simulator]:
    """The simulator class the vendor's adapter declares."""
    target = registry.load(vendor).simulator
    if not target:
        raise ConfigError(f"the vendor {vendor!r} has no simulator")
    module, _, attr = target.partition(":")
    cls = getattr(importlib.import_module(module), attr)
    if not (isinstance(cls, type) and issubclass(cls, Simulator)):
        raise ConfigError(f"{target!r} is not a taskhub Simulator")
    return cls


@overload
def simulate(
    vendor: Literal["livepeer"],
    *,
    clock: SimClock | None = None,
    speed: float | None = None,
    seed: int = 0,
    port: int = 0,
    ssl_context: Any = None,
    **settings: Any,
) -> AbstractContextManager[Simulation[LivepeerSimulator, LivepeerHub]]: ...
@overload
def simulate(
    vendor: Literal["cognite"],
    *,
    clock: SimClock | None = None,
    speed: float | None = None,
    seed: int = 0,
    port: int = 0,
    ssl_context: Any = None,
    **settings: Any,
) -> AbstractContextManager[Simulation[CogniteSimulator, CogniteHub]]: ...
@overload
def simulate(
    vendor: Literal["veritone"],
    *,
    clock: SimClock | None = None,
    speed: float | None = None,
    seed: int = 0,
    port: int = 0,
    ssl_context: Any = None,
    **settings: Any,
) -> AbstractContextManager[Simulation[VeritoneSimulator, VeritoneHub]]: ...
@overload
def simulate(
    vendor: Literal["veritone-edge"],
    *,
    clock: SimClock | None = None,
    speed: float | None = None,
    seed: int = 0,
    port: int = 0,
    ssl_context: Any = None,
    **settings: Any,
) -> AbstractContextManager[Simulation[EdgeSimulator, EdgeHub]]: ...
@overload
def simulate(
    vendor: Literal["vionlabs"],
    *,
    clock: SimClock | None = None,
    speed: float | None = None,
    seed: int = 0,
    port: int = 0,
    ssl_context: Any = None,
    **settings: Any,
) -> AbstractContextManager[Simulation[VionlabsSimulator, VionlabsHub]]: ...
@overload
def simulate(
    vendor: str,
    *,
    clock: SimClock | None = None,
    speed: float | None = None,
    seed: int = 0,
    port: int = 0,
    ssl_context: Any = None,
    **settings: Any,
) -> AbstractContextManager[Simulation]: ...
@contextlib.contextmanager
def simulate(
    vendor: str,
    *,
    clock: SimClock | None = None,
    speed: float | None = None,
    seed: int = 0,
    port: int = 0,
    ssl_context: Any = None,
    **settings: Any,
) -> Iterator[Simulation[Any, Any]]:
    """Serve ``vendor``'s simulator on 127.0.0.1 for the duration of the block.

    ``speed`` makes a scaled real-time clock (ignored when ``clock`` is given); ``settings``
    go to the vendor's simulator (failure scenarios, page sizes ...).
    """
    cls = load_simulator(vendor)
    if clock is None:
        clock = SimClock(speed=speed) if speed is not None else SimClock(manual=True)
    simulator = cls(clock=clock, seed=seed, **settings)
    with SimServer(simulator, port=port, ssl_context=ssl_context) as server:
        simulator.root_url = server.url
        yield Simulation(simulator, server)
