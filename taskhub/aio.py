"""AsyncTaskHub: the same hub for code that runs in an event loop.

    async with taskhub.aio.connect("media") as hub:         # or: hub = await taskhub.aio.connect(…)
        task = await hub.submit_job("ingest")
        done = await hub.wait(task, timeout=600)
        async for task in hub.list(state="running"): ...
        async for transition in hub.watch([a, b]): ...

One implementation behind both: every call is the sync :class:`~taskhub.TaskHub`'s own —
its checks, errors, redaction and state machine — run in a bounded thread pool that belongs
to the hub, so the loop never waits on a socket. ``wait`` and ``watch`` send no request of
their own: they follow the backend's shared refresher (:mod:`taskhub.refresh`) through the
loop's one subscription (:mod:`taskhub.following`), the way thousands of Airflow triggers do,
so a thousand waits in one loop cost one read per cycle and one wake-up of the loop.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Generic, Literal, ParamSpec, TypeVar, cast, overload

from taskhub import hub as _hub
from taskhub import redact
from taskhub.following import waited, watched

if TYPE_CHECKING:
    from taskhub.adapters.cognite.hub import CogniteHub
    from taskhub.adapters.livepeer.hub import LivepeerHub
    from taskhub.adapters.veritone.hub import VeritoneHub
    from taskhub.adapters.veritone_edge.hub import EdgeHub
    from taskhub.adapters.vionlabs.hub import VionlabsHub
    from taskhub.errors import OutcomeUnknown
    from taskhub.following import Watching
    from taskhub.model import Task
    from taskhub.polling import PollPolicy
    from taskhub.spec import Spec
    from taskhub.states import State, Transition

_H = TypeVar("_H", bound=_hub.TaskHub, covariant=True)
_P = ParamSpec("_P")
_R = TypeVar("_R")

#: Threads each hub's pool may run at once (its blocking calls: submit, get, list pages…).
MAX_WORKERS = 8
#: Tasks a listing hands over per trip to the pool at most (the first trip hands over one,
#: so the first task comes as soon as the first page is read).
LIST_CHUNK = 256

_pools: weakref.WeakKeyDictionary[_hub.TaskHub, ThreadPoolExecutor] = weakref.WeakKeyDictionary()
_pools_lock = threading.Lock()


def _pool(hub: _hub.TaskHub, max_workers: int) -> ThreadPoolExecutor:
    """The hub's own thread pool (one per sync hub, however many async views it has); its
    threads end when the hub is closed through :meth:`AsyncTaskHub.aclose` or collected."""
    with _pools_lock:
        pool = _pools.get(hub)
        if pool is None:
            pool = _pools[hub] = ThreadPoolExecutor(
                max_workers, thread_name_prefix=f"taskhub-aio-{hub.backend}"
            )
        return pool


class AsyncTaskHub(Generic[_H]):
    """A :class:`~taskhub.TaskHub` for event loops: the same operations as coroutines,
    ``list`` and ``watch`` as async iterators.

    ``hub`` is the sync hub it runs (``sync``: its vendor's class, ``ex_`` calls included —
    run them with :meth:`call`). ``max_workers``: the threads of the hub's pool.
    """

    def __init__(self, hub: _H, *, max_workers: int = MAX_WORKERS) -> None:
        #: The sync hub whose calls this one runs.
        self.sync: _H = hub
        self._pool = _pool(hub, max_workers)

    # -- what this hub is ----------------------------------------------------------------------

    @property
    def backend(self) -> str:
        """The configured backend name."""
        return self.sync.backend

    @property
    def vendor(self) -> str:
        """The vendor behind the backend."""
        return self.sync.vendor

    @property
    def capabilities(self) -> frozenset[str]:
        """The operations this vendor supports."""
        return self.sync.capabilities

    @property
    def policy(self) -> redact.Policy:
        """The sync hub's redaction policy (:attr:`TaskHub.policy <taskhub.TaskHub.policy>`)."""
        return self.sync.policy

    # -- operations ------------------------------------------------------------------------------

    async def call(self, fn: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        """Run a blocking call in this hub's pool: ``await hub.call(hub.sync.ex_asset, a)``
        for a vendor's own ``ex_`` methods."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    async def submit(self, spec: Spec | None = None, /, **fields: Any) -> Task:
        """:meth:`TaskHub.submit <taskhub.TaskHub.submit>`."""
        return await self.call(self.sync.submit, spec, **fields)

    async def submit_job(self, name: str, /, **params: Any) -> Task:
        """:meth:`TaskHub.submit_job <taskhub.TaskHub.submit_job>`."""
        return await self.call(self.sync.submit_job, name, **params)

    async def get(self, task_id: _hub.TaskRef) -> Task:
        """:meth:`TaskHub.get <taskhub.TaskHub.get>`."""
        return await self.call(self.sync.get, task_id)

    async def find_submitted(self, lookup: Mapping[str, Any] | OutcomeUnknown) -> Task | None:
        """:meth:`TaskHub.find_submitted <taskhub.TaskHub.find_submitted>`."""
        return await self.call(self.sync.find_submitted, lookup)

    async def cancel(
        self, task_id: _hub.TaskRef, *, reason: str | None = None, force: bool = False
    ) -> Task:
        """:meth:`TaskHub.cancel <taskhub.TaskHub.cancel>`."""
        return await self.call(self.sync.cancel, task_id, reason=reason, force=force)

    async def retry(self, task_id: _hub.TaskRef) -> Task:
        """:meth:`TaskHub.retry <taskhub.TaskHub.retry>`."""
        return await self.call(self.sync.retry, task_id)

    async def report(
        self, task_id: _hub.TaskRef, state: State | str, *, force: bool = False, **fields: Any
    ) -> Task:
        """:meth:`TaskHub.report <taskhub.TaskHub.report>`."""
        return await self.call(self.sync.report, task_id, state, force=force, **fields)

    def list(
        self,
        *,
        state: State | str | Iterable[State | str] | None = None,
        limit: int | None = None,
        **filters: Any,
    ) -> AsyncIterator[Task]:
        """:meth:`TaskHub.list <taskhub.TaskHub.list>` as an async iterator: the arguments are
        checked at the call, the pages read in the hub's pool as the loop asks for tasks."""
        return self._stream(self.sync.list(state=state, limit=limit, **filters))

    async def _stream(self, tasks: Iterator[Task]) -> AsyncIterator[Task]:
        want = 1
        try:
            while True:
                chunk, error = await self.call(_take, tasks, want)
                for task in chunk:
                    yield task
                if error is not None:
                    raise error
                if len(chunk) < want:
                    return
                want = min(want * 2, LIST_CHUNK)
        finally:
            close = getattr(tasks, "close", None)
            if close is not None:
                close()

    # -- waiting and watching ------------------------------------------------------------------

    async def wait(
        self,
        task_id: _hub.TaskRef,
        timeout: float | None = None,
        on_update: Callable[[Transition], object] | None = None,
        poll: PollPolicy | None = None,
        stale_after: float | None = None,
        on_progress: Callable[[Task], object] | None = None,
        *,
        unreachable_after: float | None = None,
        whole: bool = True,
    ) -> Task:
        """:meth:`TaskHub.wait <taskhub.TaskHub.wait>`: the same rules, awaited in the loop
        through the backend's shared refresher (the callbacks run in the loop)."""
        run = self.sync.waiting(
            task_id,
            timeout=timeout,
            stale_after=stale_after,
            unreachable_after=unreachable_after,
            whole=whole,
            on_update=on_update,
            on_progress=on_progress,
        )
        done = await waited(self.sync.refresher(poll), run)
        return await self.get(done.id) if run.reread else done

    def watch(
        self,
        task_ids: Iterable[_hub.TaskRef] | None = None,
        *,
        timeout: float | None = None,
        poll: PollPolicy | None = None,
        **filters: Any,
    ) -> AsyncIterator[Transition]:
        """:meth:`TaskHub.watch <taskhub.TaskHub.watch>` as an async iterator of transitions;
        ids (or the listing's filters) are checked at the call."""
        if task_ids is None:
            return self._watch_listed(self.list(**filters), timeout, poll)
        return self._watch(self.sync.watching(task_ids, timeout=timeout, **filters), poll)

    async def _watch_listed(
        self, listing: AsyncIterator[Task], timeout: float | None, poll: PollPolicy | None
    ) -> AsyncIterator[Transition]:
        ids = [task.id async for task in listing if not task.state.terminal]
        async for transition in self._watch(self.sync.watching(ids, timeout=timeout), poll):
            yield transition

    def _watch(self, run: Watching, poll: PollPolicy | None) -> AsyncIterator[Transition]:
        return watched(self.sync.refresher(poll), run, self.sync)

    # -- lifecycle -------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Release the hub's connections and its pool's threads."""
        with _pools_lock:
            if _pools.get(self.sync) is self._pool:
                del _pools[self.sync]
        await self.call(self.sync.close)
        self._pool.shutdown(wait=False)

    async def __aenter__(self) -> AsyncTaskHub[_H]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} backend={self.backend!r} vendor={self.vendor!r}>"


def _take(tasks: Iterator[Task], count: int) -> tuple[list[Task], BaseException | None]:
    """Up to ``count`` tasks from a listing (fewer: it ended), and the error that ended it
    early, if any — the tasks read before an error are handed over first."""
    chunk: list[Task] = []
    try:
        for task in tasks:
            chunk.append(task)
            if len(chunk) >= count:
                break
    except Exception as exc:
        return chunk, exc
    return chunk, None


class Connecting(Generic[_H]):
    """What :func:`connect` returns: await it for the hub, or use it with ``async with``
    (which closes the hub at the end)."""

    def __init__(self, name: str | None, config: _hub.ConfigSource, options: dict[str, Any]):
        self._args = (name, config, options)
        self._hub: AsyncTaskHub[_H] | None = None

    async def _open(self) -> AsyncTaskHub[_H]:
        name, config, options = self._args
        # Reading a configuration file and importing the adapter block: done in a thread.
        opened = functools.partial(_hub.connect, name, config=config, **options)
        hub = cast("_H", await asyncio.to_thread(opened))
        return AsyncTaskHub(hub)

    def __await__(self) -> Generator[Any, None, AsyncTaskHub[_H]]:
        return self._open().__await__()

    async def __aenter__(self) -> AsyncTaskHub[_H]:
        self._hub = await self._open()
        return self._hub

    async def __aexit__(self, *exc: object) -> None:
        if self._hub is not None:
            await self._hub.aclose()


@overload
def connect(
    name_or_vendor: Literal["livepeer"], *, config: _hub.ConfigSource = None, **options: Any
) -> Connecting[LivepeerHub]: ...
@overload
def connect(
    name_or_vendor: Literal["cognite"], *, config: _hub.ConfigSource = None, **options: Any
) -> Connecting[CogniteHub]: ...
@overload
def connect(
    name_or_vendor: Literal["veritone"], *, config: _hub.ConfigSource = None, **options: Any
) -> Connecting[VeritoneHub]: ...
@overload
def connect(
    name_or_vendor: Literal["veritone-edge"], *, config: _hub.ConfigSource = None, **options: Any
) -> Connecting[EdgeHub]: ...
@overload
def connect(
    name_or_vendor: Literal["vionlabs"], *, config: _hub.ConfigSource = None, **options: Any
) -> Connecting[VionlabsHub]: ...
@overload
def connect(
    name_or_vendor: str | None = None, *, config: _hub.ConfigSource = None, **options: Any
) -> Connecting[_hub.TaskHub]: ...
def connect(
    name_or_vendor: str | None = None,
    *,
    config: _hub.ConfigSource = None,
    **options: Any,
) -> Connecting[Any]:
    """:func:`taskhub.connect` for event loops: ``await taskhub.aio.connect(…)`` gives an
    :class:`AsyncTaskHub` (of the vendor's hub class, for type checkers too), and
    ``async with taskhub.aio.connect(…) as hub:`` closes it at the end."""
    return Connecting(name_or_vendor, config, options)


__all__ = ["MAX_WORKERS", "AsyncTaskHub", "Connecting", "connect"]
