"""The behaviour every adapter must show, written once and run against each vendor.

An adapter's test module subclasses :class:`AdapterContract`, names its vendor and says how
to submit one piece of work and drive it to the end::

    class TestLivepeerContract(AdapterContract):
        vendor = "livepeer"

        def submit_spec(self, sim):
            return {"kind": "upload", "url": "https://example.com/in.mp4", "name": "in"}

pytest collects the inherited tests. Every test runs under a leak guard: no configured secret
(nor any credential the simulator handed out) may appear in a log record at DEBUG, or in the
repr or str of any task or error the test produced.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import attrs
import pytest

from taskhub.adapter import OPERATIONS
from taskhub.errors import (
    AuthError,
    InvalidRequest,
    InvalidTransition,
    MalformedResponse,
    TaskhubError,
    TaskNotFound,
    UnsupportedOperation,
)
from taskhub.hub import TaskHub
from taskhub.model import Task
from taskhub.states import State
from taskhub.testing.simulate import Simulation, simulate

#: Arguments that make each operation reach the vendor (or be refused) in the contract tests.
_PROBE_ID = "contract-probe-id"


class LeakGuard:
    """Collects what a test produced and checks none of it shows a secret.

    ``LeakGuard.totals`` adds up, across a run, what every guard checked.

    ``secrets`` may grow during the test (``more`` is called at the end for the ones a
    simulator hands out meanwhile: engine tokens, signed-URI signatures).
    """

    totals: ClassVar[dict[str, int]] = {
        "tests": 0,
        "log records": 0,
        "objects": 0,
        "secrets": 0,
        "leaks": 0,
    }

    def __init__(self, secrets: list[str], more: Callable[[], list[str]] | None = None) -> None:
        self.secrets = [s for s in secrets if s]
        self.more = more
        self.objects: list[object] = []
        self.records: list[logging.LogRecord] = []

    def watch(self, hub: TaskHub) -> None:
        """Record every task the hub returns and every error it raises, automatically."""
        for name in (
            "submit",
            "get",
            "list",
            "cancel",
            "retry",
            "report",
            "wait",
            "watch",
            "parse",
        ):
            setattr(hub, name, self._recording(getattr(hub, name)))

    def _recording(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                result = method(*args, **kwargs)
            except BaseException as exc:
                self.add(exc)
                raise
            if isinstance(result, Iterator):
                return self._iterate(result)
            self.add(result)
            return result

        return call

    def _iterate(self, items: Iterator[Any]) -> Iterator[Any]:
        try:
            for item in items:
                self.add(item)
                yield item
        except BaseException as exc:
            self.add(exc)
            raise

    def add(self, obj: object) -> object:
        """Remember an object (task, error ...) whose repr and str must be clean."""
        self.objects.append(obj)
        return obj

    def leaks(self) -> list[str]:
        """Every place a secret showed up."""
        if self.more is not None:
            self.secrets += [s for s in self.more() if s and s not in self.secrets]
        found = []
        texts = [(f"log {r.name}", r.getMessage()) for r in self.records]
        for obj in self.objects:
            texts += [(f"repr of {type(obj).__name__}", repr(obj))]
            texts += [(f"str of {type(obj).__name__}", str(obj))]
            if isinstance(obj, BaseException) and obj.__cause__ is not None:
                texts += [("cause of " + type(obj).__name__, str(obj.__cause__))]
        for where, text in texts:
            for secret in self.secrets:
                if secret in text:
                    found.append(f"{where}: {text[:200]!r}")
        return found

    def tally(self, leaks: int) -> None:
        """Add this guard's checks to the run's totals."""
        counts = {
            "tests": 1,
            "log records": len(self.records),
            "objects": len(self.objects),
            "secrets": len(self.secrets),
            "leaks": leaks,
        }
        for key, value in counts.items():
            LeakGuard.totals[key] += value


class _Capture(logging.Handler):
    def __init__(self, guard: LeakGuard) -> None:
        super().__init__(logging.DEBUG)
        self.guard = guard

    def emit(self, record: logging.LogRecord) -> None:
        self.guard.records.append(record)


class AdapterContract:
    """Subclass per vendor; pytest runs every ``test_*`` below against it."""

    #: The registered vendor name.
    vendor: ClassVar[str]
    #: Settings for the vendor's simulator.
    simulator_settings: ClassVar[dict[str, Any]] = {}
    #: A well-formed id no task has.
    unknown_id: ClassVar[str] = "00000000-0000-4000-8000-000000000000"

    # -- hooks ------------------------------------------------------------------------------

    def submit_spec(self, sim: Simulation) -> dict[str, Any]:
        """Keyword arguments for ``hub.submit`` that create one representative task."""
        raise NotImplementedError

    def finish(self, sim: Simulation, hub: TaskHub, task: Task) -> None:
        """Drive ``task`` to a terminal state (default: let a day of simulated time pass)."""
        sim.clock.advance(86_400)

    def probe_args(self, operation: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Arguments with which to call an unsupported operation."""
        if operation == "submit":
            return (), {}
        if operation == "list":
            return (), {}
        if operation == "report":
            return (_PROBE_ID, State.RUNNING), {}
        return (_PROBE_ID,), {}

    # -- fixtures ---------------------------------------------------------------------------

    @pytest.fixture
    def sim(self) -> Iterator[Simulation]:
        """The vendor's simulator on loopback, with a manual clock."""
        with simulate(self.vendor, **self.simulator_settings) as running:
            yield running

    @pytest.fixture
    def hub(self, sim: Simulation) -> Iterator[TaskHub]:
        """A TaskHub connected to the simulator."""
        connected = sim.connect(max_retry_time=10)
        yield connected
        connected.close()

    @pytest.fixture(autouse=True)
    def guard(self, sim: Simulation, hub: TaskHub) -> Iterator[LeakGuard]:
        """Capture DEBUG logs and check, after the test, that no secret leaked anywhere."""
        guard = LeakGuard(hub.options.secrets(), sim.simulator.secrets)
        guard.watch(hub)
        logger = logging.getLogger("taskhub")
        handler = _Capture(guard)
        level = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        try:
            yield guard
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
        guard.add(hub)
        guard.add(hub.options)
        leaks = guard.leaks()
        guard.tally(len(leaks))
        assert not leaks, "secrets leaked:\n" + "\n".join(leaks)
        assert not sim.simulator.crashes, f"the simulator crashed: {sim.simulator.crashes!r}"

    def _submit(self, sim: Simulation, hub: TaskHub, guard: LeakGuard) -> Task:
        if "submit" not in hub.capabilities:
            pytest.skip(f"{self.vendor} cannot submit")
        task = hub.submit(**self.submit_spec(sim))
        guard.add(task)
        return task

    # -- the contract -----------------------------------------------------------------------

    def test_unknown_id_is_task_not_found(self, hub: TaskHub, guard: LeakGuard) -> None:
        with pytest.raises(TaskNotFound) as info:
            hub.get(self.unknown_id)
        guard.add(info.value)
        assert info.value.vendor == self.vendor

    def test_empty_id_is_refused_before_sending(
        self, sim: Simulation, hub: TaskHub, guard: LeakGuard
    ) -> None:
        before = len(sim.requests)
        with pytest.raises(InvalidRequest) as info:
            hub.get("")
        guard.add(info.value)
        assert len(sim.requests) == before

    def test_bad_credentials_are_auth_error(self, sim: Simulation, guard: LeakGuard) -> None:
        bad = {
            a.name: "wrong-credential-value"
            for a in attrs.fields(type(sim.connect().options))
            if a.metadata.get("secret") and sim.options.get(a.name)
        }
        guard.secrets.append("wrong-credential-value")
        with sim.connect(**bad) as wrong, pytest.raises(AuthError) as info:
            wrong.get(self.unknown_id)
        guard.add(info.value)
        # GraphQL vendors answer 200 with an authentication_error entry.
        assert info.value.http_status in (None, 200, 401, 403)

    def test_submit_then_get_returns_the_same_task(
        self, sim: Simulation, hub: TaskHub, guard: LeakGuard
    ) -> None:
        task = self._submit(sim, hub, guard)
        again = guard.add(hub.get(task.id))
        assert isinstance(again, Task)
        assert again.id == task.id
        assert again.backend == hub.backend
        assert again.vendor == self.vendor

    def test_task_reaches_a_terminal_state(
        self, sim: Simulation, hub: TaskHub, guard: LeakGuard
    ) -> None:
        task = self._submit(sim, hub, guard)
        self.finish(sim, hub, task)
        done = guard.add(hub.get(task.id))
        assert isinstance(done, Task)
        assert done.state.terminal, f"{done.state} is not terminal"
        assert hub.tracker.state(done.ref) is done.state

    def test_503_is_retried_transparently(
        self, sim: Simulation, hub: TaskHub, guard: LeakGuard
    ) -> None:
        task = self._submit(sim, hub, guard)
        sim.inject(status=503, times=2, headers={"Retry-After": "0"})
        assert hub.get(task.id).id == task.id
        assert sum(1 for r in sim.requests if r.fault == "status") == 2

    def test_429_is_retried_honouring_retry_after(
        self, sim: Simulation, hub: TaskHub, guard: LeakGuard
    ) -> None:
        task = self._submit(sim, hub, guard)
        sim.inject(status=429, times=1, headers={"Retry-After": "0"})
        assert hub.get(task.id).id == task.id
        assert sum(1 for r in sim.requests if r.fault == "status") == 1

    def test_malformed_body_is_malformed_response(
        self, sim: Simulation, hub: TaskHub, guard: LeakGuard
    ) -> None:
        task = self._submit(sim, hub, guard)
        sim.inject("malformed", times=1)
        with pytest.raises(MalformedResponse) as info:
            hub.get(task.id)
        guard.add(info.value)

    @pytest.mark.parametrize("status", [200, 400, 500])
    def test_a_deeply_nested_answer_is_a_typed_error(
        self, sim: Simulation, hub: TaskHub, guard: LeakGuard, status: int
    ) -> None:
        """Every answer, an error's body too, is parsed through the one depth-capped path: a
        100,000-level answer is a TaskhubError, never a RecursionError."""
        task = self._submit(sim, hub, guard)
        deep = b"[" * 100_000 + b"]" * 100_000
        sim.inject(status=status, body=deep, times=None)
        with pytest.raises(TaskhubError) as info:
            hub.get(task.id)
        guard.add(info.value)
        if status == 200:
            assert isinstance(info.value, MalformedResponse)
            assert "nested deeper" in str(info.value)

    def test_unsupported_operations_raise_with_an_alternative(
        self, sim: Simulation, hub: TaskHub, guard: LeakGuard
    ) -> None:
        before = len(sim.requests)
        for operation in OPERATIONS:
            if operation in hub.capabilities:
                continue
            args, kwargs = self.probe_args(operation)
            # Refused at the call, not at the first next(): nothing is emulated lazily either.
            with pytest.raises(UnsupportedOperation) as info:
                getattr(hub, operation)(*args, **kwargs)
            guard.add(info.value)
            assert info.value.vendor == self.vendor
            assert info.value.operation == operation
            assert operation in str(info.value)
        assert len(sim.requests) == before, "an unsupported operation sent a request"

    def test_listing_and_waiting_show_no_secret(
        self, sim: Simulation, hub: TaskHub, guard: LeakGuard
    ) -> None:
        task = self._submit(sim, hub, guard)
        self.finish(sim, hub, task)
        if "list" in hub.capabilities:
            assert any(t.id == task.id for t in hub.list(limit=50))
        done = hub.wait(task.id, timeout=30)
        assert done.state.terminal
        assert done.to_dict()["id"] == task.id

    def test_a_finished_task_is_not_cancelled_unless_forced_and_stays_finished(
        self, sim: Simulation, hub: TaskHub, guard: LeakGuard
    ) -> None:
        """A hub gives one answer per task: a cancel of a task it knows is finished is
        refused before any request, naming the state; ``force=True`` sends it, and whatever
        the vendor answers (or says later), the task stays as the Tracker keeps it."""
        if "cancel" not in hub.capabilities:
            # Nothing to refuse by state: the vendor has no cancel at all, which is said
            # first, forced or not, before any request.
            before = len(sim.requests)
            for force in (False, True):
                with pytest.raises(UnsupportedOperation) as unsupported:
                    hub.cancel(self.unknown_id, force=force)
                guard.add(unsupported.value)
            assert len(sim.requests) == before
            return
        task = self._submit(sim, hub, guard)
        self.finish(sim, hub, task)
        done = guard.add(hub.get(task.id))
        assert isinstance(done, Task) and done.state.terminal
        before = len(sim.requests)
        with pytest.raises(InvalidTransition, match=f"already {done.state.value}") as info:
            hub.cancel(task.id)
        guard.add(info.value)
        assert info.value.operation == "cancel" and info.value.vendor == self.vendor
        assert len(sim.requests) == before, "a refused cancel sent a request"
        try:
            forced = hub.cancel(task.id, force=True)
        except TaskhubError as exc:  # the vendor's own refusal
            guard.add(exc)
        else:
            guard.add(forced)
            assert forced.state is done.state
        assert len(sim.requests) > before, "a forced cancel sent nothing"
        assert hub.get(task.id).state is done.state
        if "list" in hub.capabilities:
            listed = {t.id: t.state for t in hub.list(limit=50)}
            assert listed.get(task.id, done.state) is done.state
        assert hub.tracker.state(done.ref) is done.state

    def test_the_asyncio_hub_gives_the_sync_hubs_answers(
        self, sim: Simulation, hub: TaskHub, guard: LeakGuard
    ) -> None:
        """taskhub.aio runs the same calls: on an event loop, a submit, the wait to the end, a
        get and a listing answer as the sync hub does, and a bad id is refused unsent."""
        from taskhub.aio import AsyncTaskHub

        async def run() -> tuple[Task, Task, list[Task]]:
            hub_ = AsyncTaskHub(hub)
            task = await hub_.submit(**self.submit_spec(sim))
            self.finish(sim, hub, task)
            done = await asyncio.wait_for(hub_.wait(task, timeout=30), 60)
            listed = [t async for t in hub_.list(limit=50)] if "list" in hub.capabilities else []
            before = len(sim.requests)
            with pytest.raises(InvalidRequest):
                await hub_.get("")
            assert len(sim.requests) == before
            return done, await hub_.get(task.ref), listed

        if "submit" not in hub.capabilities:
            pytest.skip(f"{self.vendor} cannot submit")
        done, again, listed = asyncio.run(run())
        guard.add(done)
        assert done.state.terminal and again.state is done.state
        assert again == hub.get(done.id)  # the very answer of the sync hub
        if "list" in hub.capabilities:
            assert any(t.id == done.id and t.state is done.state for t in listed)

    def test_every_error_is_a_taskhub_error(self, hub: TaskHub, guard: LeakGuard) -> None:
        """An unknown id is TaskNotFound on get, and a taskhub error naming the vendor and the
        operation on cancel and retry (the vendor's own refusal, or UnsupportedOperation)."""
        for operation in ("get", "cancel", "retry"):
            with pytest.raises(TaskhubError) as info:
                getattr(hub, operation)(self.unknown_id)
            guard.add(info.value)
            assert info.value.vendor == self.vendor
            assert info.value.operation is not None
            if operation == "get":
                assert isinstance(info.value, TaskNotFound), repr(info.value)
            elif operation not in hub.capabilities:
                assert isinstance(info.value, UnsupportedOperation)
