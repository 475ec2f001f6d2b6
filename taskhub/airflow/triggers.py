"""TaskHubTrigger: waits in Airflow's triggerer for one task to finish, without blocking.

Thousands of these run in one triggerer's event loop. None of them sends a request: each
registers its task with the backend's shared refresher (:mod:`taskhub.refresh`), whose one
thread reads every followed task of the backend once per cycle — one listing for up to a
thousand tasks where the vendor has one — and hands the observations to the loop, where each
trigger is woken when its task ended or a limit is due (:mod:`taskhub.following`, the rules
``hub.wait`` follows too). The trigger only awaits.

Its kwargs are plain (a connection id, a ``"backend:id"`` ref, numbers), so Airflow can store
it and start it again on another triggerer, where it picks the task up from the ref.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable
from typing import Any

from taskhub.aio import AsyncTaskHub
from taskhub.airflow import events
from taskhub.airflow._compat import AirflowFailException, BaseTrigger, TriggerEvent, conf
from taskhub.airflow.hooks import TaskHubHook
from taskhub.errors import StaleTask, TaskhubError, WaitTimeout
from taskhub.following import seconds
from taskhub.hub import TaskHub
from taskhub.model import split_ref

log = logging.getLogger("taskhub.airflow")

#: Seconds of nothing but transient read errors after which a trigger gives up.
UNREACHABLE_AFTER = 900.0


class TaskHubTrigger(BaseTrigger):
    """Fires one event when the task ``ref`` finishes, or when waiting must stop.

    ``conn_id``: the taskhub connection. ``ref``: ``"backend:id"`` as ``task.ref`` gives it.
    ``deadline``: a Unix time after which it fires ``timeout`` (None: no limit).
    ``stale_after``: seconds without any change in the task after which it fires ``stale``
    (None: the backend's ``stale_after`` option, else the vendor's default).
    ``cancel_on_kill``: when a user kills the deferred task (Airflow ≥ 3.3 calls ``on_kill``),
    ask the vendor to cancel it, where the vendor can. ``unreachable_after``: seconds for
    which every read of the task may fail with a transient error (the vendor unavailable,
    rate limits outlasting the retries) before it fires ``error``; shorter outages are
    waited out.

    The event's payload is described in :mod:`taskhub.airflow.events`.
    """

    def __init__(
        self,
        conn_id: str,
        ref: str,
        deadline: float | None = None,
        stale_after: float | None = None,
        cancel_on_kill: bool = True,
        unreachable_after: float = UNREACHABLE_AFTER,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.conn_id = conn_id
        self.ref = ref
        self.deadline = deadline
        self.stale_after = stale_after
        self.cancel_on_kill = cancel_on_kill
        self.unreachable_after = unreachable_after

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "conn_id": self.conn_id,
                "ref": self.ref,
                "deadline": self.deadline,
                "stale_after": self.stale_after,
                "cancel_on_kill": self.cancel_on_kill,
                "unreachable_after": self.unreachable_after,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        yield TriggerEvent(await self.wait())  # type: ignore[no-untyped-call]

    async def wait(self) -> dict[str, Any]:
        """Follow the task until it finishes or waiting must stop; the event's payload.

        The trigger awaits the asyncio hub's wait (:mod:`taskhub.aio`): the rules every wait
        has, through the loop's shared subscription, so it is woken only when its task ended
        or could not be read, or when its deadline, staleness or run of failed reads is due.
        The event's payload is rendered in turn with the other triggers' (:class:`_Renderer`),
        so the loop is never held for long."""
        try:
            hub = await TaskHubHook(self.conn_id).aget_hub()
            task_id = self._task_id(hub)
        except (AirflowFailException, TaskhubError) as exc:
            return events.stopped(events.ERROR, self.ref, str(exc), error=exc)
        _freeze_heap_once()
        stale = self.stale_after if self.stale_after is not None else hub.stale_after
        try:
            task = await AsyncTaskHub(hub).wait(
                task_id,
                timeout=None if self.deadline is None else max(0.0, self.deadline - time.time()),
                stale_after=stale,
                unreachable_after=self.unreachable_after,
                # As the cycle read it: a thousand triggers must not send a thousand gets.
                whole=False,
            )
        except WaitTimeout as exc:
            last = exc.task
            state = last.state.value if last is not None else "not read yet"
            if isinstance(exc, StaleTask):
                outcome = events.STALE
                message = (
                    f"{self.ref} has not changed for {seconds(exc.since)} s "
                    f"(still {state}; stale_after={stale:g})"
                )
            else:
                outcome = events.TIMEOUT
                message = f"{self.ref} is still {state} at the operator's timeout"
            return await _rendered(events.stopped, outcome, self.ref, message, hub=hub, task=last)
        except TaskhubError as exc:
            return await _rendered(
                events.stopped, events.ERROR, self.ref, str(exc), hub=hub, error=exc
            )
        return await _rendered(events.finished, hub, task)

    async def on_kill(self) -> None:
        """A user killed the deferred task: cancel the vendor's task (if asked and the vendor
        can), in the hub's pool so the triggerer's loop goes on."""
        if not self.cancel_on_kill:
            return
        hub = await TaskHubHook(self.conn_id).aget_hub()
        if "cancel" not in hub.capabilities:
            log.warning("%s: %s cannot cancel a task; it keeps running", self.ref, hub.vendor)
            return
        try:
            task = await AsyncTaskHub(hub).cancel(self._task_id(hub))
        except TaskhubError as exc:  # finished already (InvalidTransition), or refused
            log.warning("%s: not cancelled: %s", self.ref, exc)
            return
        log.info("%s: cancel sent (now %s)", self.ref, task.state.value)

    def _task_id(self, hub: TaskHub) -> str:
        """The vendor id in ``ref``, refused if the ref belongs to another backend (the
        connection was pointed elsewhere while the task waited)."""
        backend, task_id = split_ref(self.ref)
        if backend != hub.backend:
            raise AirflowFailException(
                f"{self.ref} belongs to backend {backend!r}, but connection {self.conn_id!r} "
                f"now opens {hub.backend!r} ({hub.vendor})"
            )
        return hub.adapter.require_id(task_id)


class _Renderer:
    """Renders event payloads one after another, yielding to the loop between slices.

    A task's dict takes a fraction of a millisecond to render; a thousand tasks that finish
    in one cycle would hold the loop for half a second if each trigger rendered its own at
    once. One renderer per event loop takes them in turn and lets the loop run its timers
    and I/O every ``SLICE`` seconds of work.
    """

    SLICE = 0.004

    def __init__(self) -> None:
        self.queue: asyncio.Queue[
            tuple[Callable[[], dict[str, Any]], asyncio.Future[dict[str, Any]]]
        ]
        self.queue = asyncio.Queue()
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while True:
            render, done = await self.queue.get()
            started = time.perf_counter()
            while True:
                if not done.done():
                    try:
                        done.set_result(render())
                    except Exception as exc:  # the trigger that asked hears of it
                        done.set_exception(exc)
                if self.queue.empty() or time.perf_counter() - started > self.SLICE:
                    break
                render, done = self.queue.get_nowait()
            await asyncio.sleep(0)


_renderers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Renderer] = (
    weakref.WeakKeyDictionary()
)


async def _rendered(
    render: Callable[..., dict[str, Any]], *args: Any, **kwargs: Any
) -> dict[str, Any]:
    """The event's payload, rendered by the loop's renderer (see :class:`_Renderer`)."""
    loop = asyncio.get_running_loop()
    renderer = _renderers.get(loop)
    if renderer is None or renderer.task.done():
        renderer = _renderers[loop] = _Renderer()
    done: asyncio.Future[dict[str, Any]] = loop.create_future()
    renderer.queue.put_nowait((functools.partial(render, *args, **kwargs), done))
    return await done


_freeze_lock = threading.Lock()
_freeze_checked = False


def _freeze_heap_once() -> None:
    """``[taskhub] triggerer_gc_freeze``: once per process, after the first trigger opened its
    hub (Airflow's imports and the vendor's adapter are loaded by then), move the whole heap
    out of the garbage collector's reach (``gc.freeze()``), so its full collections scan only
    what the triggers make afterwards. Off unless the deployment turns it on: it affects the
    whole process (cyclic garbage present at that moment is never collected)."""
    global _freeze_checked
    with _freeze_lock:
        if _freeze_checked:
            return
        _freeze_checked = True
    if conf.getboolean("taskhub", "triggerer_gc_freeze", fallback=False):
        gc.freeze()
        log.info("gc.freeze(): %d objects out of the collector's reach", gc.get_freeze_count())
