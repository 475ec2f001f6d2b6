"""Two ``taskhub serve`` replicas on one real PostgreSQL: exactly one polls each backend; when
it is killed (SIGKILL: its connections die uncleanly) the other takes over within two lease
checks, and every task's transitions are the legal sequence, none lost, none recorded twice.

The simulators run in the test process on manual clocks, so a task moves only when the test
says: each step is awaited in the store before the next, which makes the expected history
exact. The replicas are real processes started the way a user would start them.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("waitress", reason="needs the serve extra: pip install 'taskhub[serve]'")

import sqlalchemy as sa

from taskhub import State
from taskhub.model import Status
from taskhub.states import Change, classify
from taskhub.testing import SimClock, Simulation, simulate
from tests.store import services
from tests.store.services import await_serving, free_port

# The store tests' fixtures: a PostgreSQL server for the run, a fresh database per test.
pg_server = services.pg_server
pg_url = services.pg_url

VENDORS = ("livepeer", "veritone-edge")
PER_BACKEND = 4
DEADLINE = 60.0


def wait_for(
    what: str,
    condition: Callable[[], Any],
    timeout: float = DEADLINE,
    seen: Callable[[], Any] = str,
) -> Any:
    """Poll ``condition`` until it is truthy (returned) or ``timeout`` passes (a failure that
    shows ``seen()``)."""
    end = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting for {what}; last seen: {seen()}"[:3000])
        time.sleep(0.1)


def get(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read())


class Replica:
    """One ``taskhub serve`` process."""

    def __init__(self, name: str, config: Path, db: str, log: Path) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "taskhub", "serve", "--config", str(config), "--db", db,
             "--port", str(self.port)],
            stdout=subprocess.PIPE, stderr=self.log, text=True,
        )  # fmt: skip

    def ready(self) -> None:
        await_serving(self.proc, self.url)

    def health(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = get(self.url + "/healthz")
        except OSError:
            return {}
        return data

    def polls(self) -> set[str]:
        backends = self.health().get("backends", {})
        return {b for b, v in backends.items() if v["polling"]}

    def tasks(self) -> dict[str, str]:
        """ref -> state, as this replica serves them from the shared store."""
        data = get(self.url + "/api/tasks?level=all&limit=1000")
        return {t["ref"]: t["status"]["state"] for t in data["tasks"]}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.log.close()


@pytest.fixture
def sims() -> Iterator[dict[str, Simulation]]:
    """The simulators on manual clocks: tasks move only when the test advances them."""
    with contextlib.ExitStack() as stack:
        yield {v: stack.enter_context(simulate(v, clock=SimClock(manual=True))) for v in VENDORS}


def config_for(sims: dict[str, Simulation]) -> str:
    lines = []
    for vendor, sim in sims.items():
        lines.append(f'[backends."{vendor}"]\nvendor = "{vendor}"')
        lines += [f"{k} = {json.dumps(v)}" for k, v in sim.options.items()]
        lines.append("poll_interval = 0.1\npoll_max = 0.25\n")  # short real-time cycles
    return "\n".join(lines)


def spec(sim: Simulation, n: int) -> dict[str, Any]:
    """The vendor's demo work, made distinct (Livepeer answers a repeated upload with the
    first one's task)."""
    work = dict(sim.simulator.demo_spec() or {})
    if "url" in work:
        work["url"] = f"{work['url']}?copy={n}"
    return work


def advance(sims: dict[str, Simulation], seconds: float) -> None:
    for sim in sims.values():
        sim.clock.advance(seconds)


def test_the_surviving_replica_takes_over_and_no_transition_is_lost_or_doubled(
    sims: dict[str, Simulation], pg_url: str, tmp_path: Path
) -> None:
    hubs = {v: sims[v].connect() for v in VENDORS}
    submitted = [
        (v, hubs[v].submit(**spec(sims[v], n))) for v in VENDORS for n in range(PER_BACKEND)
    ]

    def vendor_states() -> dict[str, str]:
        """ref -> state of every submitted task and its subtasks, as the simulators say."""
        states = {}
        for vendor, task in submitted:
            now = hubs[vendor].get(task.id)
            for one in (now, *now.subtasks):
                states[one.ref] = one.state.value
        return states

    stages = [vendor_states()]
    config = tmp_path / "taskhub.toml"
    config.write_text(config_for(sims))
    replicas = [Replica(n, config, pg_url, tmp_path / f"{n}.log") for n in ("a", "b")]
    try:
        for replica in replicas:
            replica.ready()

        # Exactly one replica polls each backend.
        def one_poller_each() -> bool:
            polled = [r.polls() for r in replicas]
            return all(sum(v in p for p in polled) == 1 for v in VENDORS)

        wait_for("one poller per backend", one_poller_each)
        # Everything first seen; then one step (to running), served by both replicas.
        wait_for(
            "the first sightings",
            lambda: replicas[0].tasks() == stages[0],
            seen=replicas[0].tasks,
        )
        advance(sims, 1)
        stages.append(vendor_states())
        assert "running" in stages[1].values()
        for replica in replicas:
            wait_for(
                f"{replica.name} to serve the running tasks",
                lambda replica=replica: replica.tasks() == stages[1],  # type: ignore[misc]
                seen=replica.tasks,
            )

        victim = next(r for r in replicas if "livepeer" in r.polls())
        survivor = next(r for r in replicas if r is not victim)
        taken = victim.polls()
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait(10)
        checks_at_kill = survivor.health()["lease_checks"]
        # The tasks finish while nobody polls them.
        advance(sims, 10)
        stages.append(vendor_states())
        assert set(stages[2].values()) == {"succeeded"}

        def took_over() -> dict[str, Any] | None:
            health = survivor.health()
            backends = health.get("backends", {})
            return health if all(backends[v]["polling"] for v in VENDORS) else None

        health = wait_for("the survivor to poll every backend", took_over)
        for backend in taken:
            since = health["backends"][backend]["polling_since_check"]
            # Taken at the first or second check after the kill (or in the instant between
            # the kill and reading the count).
            assert 0 <= since - checks_at_kill <= 2, (backend, since, checks_at_kill)
        wait_for(
            "every task to be recorded succeeded",
            lambda: survivor.tasks() == stages[2],
            seen=survivor.tasks,
        )
        # Nothing queued in the survivor is left unwritten before the table is read.
        wait_for("the writes", lambda: survivor.health()["store"]["pending_writes"] == 0)
    finally:
        for replica in replicas:
            replica.stop()

    assert vendor_states() == stages[2]  # the simulators still agree with the store
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT ref, seq, from_state, to_state, change, raw, at FROM taskhub_transitions "
                "ORDER BY ref, seq"
            )
        ).all()
    engine.dispose()
    history: dict[str, list[Any]] = {}
    for row in rows:
        history.setdefault(row.ref, []).append(row)
    assert set(history) == set(stages[0])
    for ref, steps in history.items():
        # The whole sequence the vendor went through, each step once and in order.
        went = [stage[ref] for stage in stages]
        went = [state for i, state in enumerate(went) if i == 0 or went[i - 1] != state]
        assert [s.to_state for s in steps] == went, ref
        assert [s.from_state for s in steps] == [None, *went[:-1]], ref
        assert [s.seq for s in steps] == list(range(1, len(went) + 1)), ref
        before: Status | None = None
        for step in steps:
            status = Status(State.parse(step.to_state), raw=step.raw, updated_at=step.at)
            assert classify(before, status) in (Change.FIRST, Change.ADVANCE), (ref, step)
            before = status


def test_a_broken_lease_connection_stops_polling_every_backend_it_held(pg_url: str) -> None:
    """Losing the lease connection loses every lock on it: the replica stops polling all the
    backends it held, even one whose lease another replica takes before this one looks."""
    from taskhub.serve import Service
    from taskhub.serve.lease import Leases
    from taskhub.store import Store

    store, other_store = Store(pg_url), Store(pg_url)
    with contextlib.ExitStack() as stack:
        sims = {v: stack.enter_context(simulate(v, clock=SimClock(manual=True))) for v in VENDORS}
        service = Service({v: sims[v].connect() for v in VENDORS}, store)
        other = Leases(other_store)
        try:
            service.check_leases()
            assert service.polling == sorted(VENDORS)
            conn = service.leases._conn
            assert conn is not None
            pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
            with other_store.writer_engine.connect() as admin:
                admin.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            # The server released the locks with the connection: another replica takes one.
            wait_for("the other replica's lease", lambda: other.acquire(VENDORS[1]))
            service.check_leases()
            assert VENDORS[1] not in service.polling
            assert service.health()["backends"][VENDORS[1]]["polling"] is False
            service.check_leases()  # the first backend's lease is free: taken again
            assert service.polling == [VENDORS[0]]
        finally:
            other.close()
            service.stop()
            store.close()
            other_store.close()
