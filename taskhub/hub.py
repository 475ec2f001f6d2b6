"""TaskHub: the one class pipelines import, whatever vendor is configured behind it.

    hub = taskhub.connect()                  # the default backend (TASKHUB_CONFIG, ./taskhub.toml)
    hub = taskhub.connect("media")           # a named backend
    hub = taskhub.connect("livepeer", api_key=..., base_url=...)   # a vendor directly

Every task that passes through a hub is observed by its Tracker, so the hub always knows the
last state of what it has seen: that is what makes ``report`` refuse an illegal transition
before sending, and what ``wait`` and ``watch`` build on.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import importlib
import inspect
import os
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    Concatenate,
    Generic,
    Literal,
    ParamSpec,
    TypeVar,
    Union,
    overload,
)

from taskhub import config as _config
from taskhub import redact, registry
from taskhub.adapter import Adapter, Options
from taskhub.clock import SYSTEM, Clock
from taskhub.errors import (
    ConfigError,
    InvalidRequest,
    InvalidTransition,
    OutcomeUnknown,
    UnsupportedOperation,
)
from taskhub.following import Merge, Patience, Waiting, Watching, observe
from taskhub.model import Task, split_ref, unknown_name
from taskhub.polling import PollPolicy
from taskhub.refresh import Refresher, refresher_for
from taskhub.spec import Spec, spec_for
from taskhub.states import State, Tracker, Transition, check_command

if TYPE_CHECKING:
    from taskhub.adapters.cognite.hub import CogniteHub
    from taskhub.adapters.livepeer.hub import LivepeerHub
    from taskhub.adapters.veritone.hub import VeritoneHub
    from taskhub.adapters.veritone_edge.hub import EdgeHub
    from taskhub.adapters.vionlabs.hub import VionlabsHub

#: What every call that addresses one task takes: a Task, a ``"backend:id"`` ref, or an id.
TaskRef = Task | str
_Hub = TypeVar("_Hub", bound="TaskHub")
_P = ParamSpec("_P")
_R = TypeVar("_R")


class TaskHub:
    """Submit, get, list, cancel, retry and report tasks on one configured backend."""

    def __init__(
        self,
        adapter: Adapter,
        *,
        tracker: Tracker | None = None,
        config: _config.Config | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.adapter = adapter
        self.tracker = tracker or Tracker()
        #: What ``wait`` and ``watch`` read and sleep on (a VirtualClock in tests).
        self.clock = clock or SYSTEM
        #: The configuration this hub was opened from (its named jobs), if any.
        self.config = config
        #: Called with every task this hub reads, after its Tracker judged it, and the
        #: transition the Tracker accepted (None: none): how ``taskhub serve`` records what its
        #: hubs submit and read. A ``retry`` transition is the hub's evidence of a commanded
        #: retry, which an observer judging on its own would not have.
        self.observers: builtins.list[Callable[[Task, Transition | None], object]] = []

    @classmethod
    def from_config(
        cls,
        path: str | os.PathLike[str] | Mapping[str, Any] | None = None,
        backend: str | None = None,
    ) -> TaskHub:
        """Open ``backend`` (default: the configured default) from a config file or mapping."""
        return connect(backend, config=path)

    # -- what this hub is ----------------------------------------------------------------------

    @property
    def backend(self) -> str:
        """The configured backend name."""
        return self.adapter.backend

    @property
    def vendor(self) -> str:
        """The vendor behind the backend."""
        return self.adapter.vendor

    @property
    def options(self) -> Options:
        """The validated options (secrets show as ``***`` in repr)."""
        return self.adapter.options

    @property
    def capabilities(self) -> frozenset[str]:
        """The operations this vendor supports."""
        return self.adapter.capabilities()

    @property
    def policy(self) -> redact.Policy:
        """This hub's redaction policy: its vendor's secret names and this backend's own
        secret values. Whatever shows a task this hub read — ``to_dict``, the store, the page,
        an Airflow event — masks with it."""
        return self.adapter.policy

    # -- operations ------------------------------------------------------------------------------

    def submit(self, spec: Spec | None = None, /, **fields: Any) -> Task:
        """Create work on the vendor and return the new Task.

        Give a typed spec of this hub's vendor (``submit(Upload(url=…, name=…))``, checked as
        it was made), or the same thing as keyword fields, as a ``[jobs.NAME]`` spec in a
        configuration holds it (``submit(kind="upload", url=…, name=…)``), not both.
        """
        if spec is not None:
            if fields:
                raise InvalidRequest(
                    "give a spec or keyword fields, not both",
                    field=sorted(fields)[0],
                    vendor=self.vendor,
                    operation="submit",
                )
            if not isinstance(spec, Spec):
                raise InvalidRequest(
                    f"expected a taskhub spec, got {type(spec).__name__}; pass vendor fields "
                    "as keywords (submit(**fields))",
                    field="spec",
                    vendor=self.vendor,
                    operation="submit",
                )
            if spec.vendor != self.vendor:
                raise InvalidRequest(
                    f"{type(spec).__name__} is a {spec.vendor} spec; this hub is {self.vendor} "
                    f"(backend {self.backend!r})",
                    field="spec",
                    vendor=self.vendor,
                    operation="submit",
                )
            fields = spec.fields()
        elif self.adapter.specs:
            # Keyword fields (a [jobs.NAME] spec, a pipeline's dict) get the typed checks too,
            # and both paths send exactly what the spec's fields() say.
            fields = spec_for(self.adapter.specs, fields).fields()
        with self._secrets():
            return self._seen(self.adapter.submit(**fields))

    def submit_job(self, name: str, /, **params: Any) -> Task:
        """Submit the configuration's ``[jobs.NAME]`` spec with its ``${name}`` placeholders
        filled from ``params``, then the environment (see :meth:`taskhub.config.Job.resolve`).

        The job must run on this hub's backend (its ``backend`` key, or none); an unfilled
        placeholder or a parameter the spec does not use is a ConfigError naming it.
        """
        if self.config is None:
            raise ConfigError(
                f"this hub was not opened from a configuration, so it has no job {name!r}; "
                "use taskhub.connect(NAME, config=...)",
                path="jobs",
            )
        job = self.config.job(name)
        if job.backend is not None and job.backend != self.backend:
            raise ConfigError(
                f"job {name!r} runs on backend {job.backend!r}, not on {self.backend!r}; "
                f"open it with taskhub.connect({job.backend!r}, config=...)",
                path=f"jobs.{name}.backend",
            )
        return self.submit(**job.resolve(params))

    def get(self, task_id: TaskRef) -> Task:
        """Fetch one task by its id."""
        with self._secrets():
            return self._seen(self.adapter.get(self._id(task_id)))

    def list(
        self,
        *,
        state: State | str | Iterable[State | str] | None = None,
        limit: int | None = None,
        **filters: Any,
    ) -> Iterator[Task]:
        """Stream tasks page by page (the generator fetches the next page only when needed)."""
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 1
        ):
            raise InvalidRequest(
                "limit must be a positive whole number",
                field="limit",
                vendor=self.vendor,
                operation="list",
            )
        states = _states(state)
        return self._stream(self.adapter.list(state=states, limit=limit, **filters))

    def _stream(self, tasks: Iterator[Task]) -> Iterator[Task]:
        for task in tasks:
            yield self._seen(task)

    def cancel(self, task_id: TaskRef, *, reason: str | None = None, force: bool = False) -> Task:
        """Ask the vendor to stop a task.

        A task this hub knows is finished cannot be cancelled: InvalidTransition naming its
        state, before any request, unless ``force=True`` sends the cancel anyway. Whatever
        the vendor answers, the returned task's state is the Tracker's (a finished task stays
        finished).
        """
        self._require("cancel")
        task_id = self._id(task_id)
        if not force:
            self._check(f"{self.backend}:{task_id}", State.CANCELLED, "cancel")
        with self._secrets():
            return self._seen(self.adapter.cancel(task_id, reason=reason))

    def retry(self, task_id: TaskRef) -> Task:
        """Run a finished task again; its next state may leave the terminal one."""
        self._require("retry")
        task_id = self._id(task_id)
        ref = f"{self.backend}:{task_id}"
        try:
            with self._secrets():
                task = self.adapter.retry(task_id)
        except OutcomeUnknown:
            # It may have restarted the task: the next read decides, and the hub must be
            # able to answer what it says (the Tracker still keeps out stale data).
            self.tracker.expect_retry(ref)
            raise
        # Armed only once the vendor accepted the retry: a refused one (UnsupportedOperation,
        # Conflict, any error) is no evidence of a new attempt, so a stale poll arriving after
        # it must still be kept out. The answer itself is fresh, whatever its timestamp.
        self.tracker.expect_retry(ref, answer=task.status)
        return self._seen(task)

    def report(
        self, task_id: TaskRef, state: State | str, *, force: bool = False, **fields: Any
    ) -> Task:
        """As the worker running ``task_id``, report its new state (and output or error).

        Raises InvalidTransition, before the report is sent, when the vendor does not let a
        worker send that state or when the task's current state does not allow it: the
        Tracker's, or — when this hub has not seen the task, as in a fresh process — the state
        read from the vendor first (one GET, where the vendor can read a task by its id);
        ``force=True`` skips that second check (not the vendor's words). A vendor's own
        refusal of the change is InvalidTransition too.
        """
        self._require("report")
        task_id = self._id(task_id)
        target = _state(state)
        words = self.adapter.statuses.report
        if target not in words:
            allowed = ", ".join(s.value for s in words) or "nothing"
            raise InvalidTransition(
                f"a worker cannot report {target.value} to {self.vendor} (it takes: {allowed})",
                vendor=self.vendor,
                operation="report",
            )
        with self._secrets():
            self.adapter.check_report(task_id, target, **fields)
            ref = f"{self.backend}:{task_id}"
            if not force and self.tracker.state(ref) is None:
                # A fresh process (the CLI, a stateless worker) knows nothing of the task: one
                # read tells whether the change is legal, so a finished task is never moved.
                known = self.adapter.current(task_id)
                if known is not None:
                    self._seen(known)
            if not force:
                self._check(ref, target, "report")
            return self._seen(self.adapter.report(task_id, target, **fields))

    def find_submitted(self, lookup: Mapping[str, Any] | OutcomeUnknown) -> Task | None:
        """The task a submit whose outcome was unknown created, or None if it created none:
        give the ``OutcomeUnknown`` (or its ``lookup``). Look before submitting again, so the
        work is not done twice. A vendor that cannot tell (no client id, several candidates)
        raises OutcomeUnknown saying so; an adapter with no way to look up raises
        UnsupportedOperation (None would read as "not created" and invite a second submit)."""
        wanted = lookup.lookup if isinstance(lookup, OutcomeUnknown) else lookup
        if not self.adapter.can_find_submitted():
            raise UnsupportedOperation(
                self.vendor,
                "find_submitted",
                "check the vendor for the work before submitting it again",
            )
        with self._secrets():
            found = self.adapter.find_submitted(wanted)
        return None if found is None else self._seen(found)

    def parse(self, payload: Any) -> Task:
        """Turn a vendor task JSON you already hold into a Task, with no request."""
        return self.adapter.parse(payload)

    @property
    def takes_webhooks(self) -> bool:
        """True when the vendor sends webhooks taskhub can verify (:meth:`webhook`)."""
        return self.adapter.webhook_parser() is not None

    def webhook(
        self, body: bytes, headers: Mapping[str, str], secret: str, *, seen: Any = None
    ) -> tuple[str, Task]:
        """Verify one webhook delivery with the vendor's own rules and return its event id
        and its task, adopted as a read of this hub's (its id checked, its text capped and
        masked). Raises WebhookRejected (a ValueError) naming the reason; UnsupportedOperation
        for a vendor that sends none. ``seen``: the vendor parser's replay memory (None: the
        caller de-duplicates on the event id, as ``taskhub serve`` does in its store)."""
        parse = self.adapter.webhook_parser()
        if parse is None:
            raise UnsupportedOperation(self.vendor, "webhook", "poll the task instead")
        event = parse(body, headers, secret, seen=seen, backend=self.backend)
        return str(event.id), self.adapter.adopt(event.task)

    # -- waiting and watching ------------------------------------------------------------------

    @property
    def poll_policy(self) -> PollPolicy:
        """How this hub polls its vendor (the vendor's default, adjusted by the options)."""
        return self.adapter.poll_policy()

    def wait(
        self,
        task_id: TaskRef,
        timeout: float | None = None,
        on_update: Callable[[Transition], object] | None = None,
        poll: PollPolicy | None = None,
        stale_after: float | None = None,
        on_progress: Callable[[Task], object] | None = None,
        *,
        unreachable_after: float | None = None,
        whole: bool = True,
    ) -> Task:
        """Poll until the task is terminal and return it.

        ``timeout``: seconds to wait in all; the default, None, waits as long as the task keeps
        changing — media work runs for hours, and a task that stops changing is caught by
        ``stale_after`` instead. ``on_update`` is called with each :class:`Transition` (a change
        of state, the Task attached); ``on_progress`` with the Task each time its progress
        moves without a change of state. Raises :class:`WaitTimeout` (with the last task seen)
        after ``timeout``, and :class:`StaleTask` when nothing at all changed for
        ``stale_after`` seconds (default: :attr:`stale_after`). A failed read raises at once,
        unless ``unreachable_after`` is set: then reads that fail with VendorUnavailable or
        RateLimited are waited out for that many seconds in a row. Where the shared cycle's
        read carries less than ``get`` (Cognite, Veritone, Edge: no outputs or subtasks), the
        finished task is read once more, whole; ``whole=False`` returns it as the cycle read
        it, with no request of its own (for many waiters at once).
        """
        run = self.waiting(
            task_id,
            timeout=timeout,
            stale_after=stale_after,
            unreachable_after=unreachable_after,
            whole=whole,
            on_update=on_update,
            on_progress=on_progress,
        )
        with run, Merge[TaskHub]() as merge:
            merge.follow(self.refresher(poll), [run.task_id], self)
            while True:
                item = merge.get(run.patience.pause(1.0))
                if item is not None:
                    run.note(item[2])
                done = run.outcome()
                if done is not None:
                    return self.get(done.id) if run.reread else done

    @property
    def stale_after(self) -> float | None:
        """Seconds without any change after which a wait is stale, unless it says otherwise:
        the backend's ``stale_after`` option, else the vendor's default (None: never)."""
        return self.options.stale_after or self.adapter.stale_after

    def waiting(
        self,
        task_id: TaskRef,
        *,
        timeout: float | None = None,
        stale_after: float | None = None,
        unreachable_after: float | None = None,
        whole: bool = True,
        on_update: Callable[[Transition], object] | None = None,
        on_progress: Callable[[Task], object] | None = None,
    ) -> Waiting:
        """The rules of one :meth:`wait` on this hub, with no I/O
        (:class:`taskhub.following.Waiting`): what ``wait`` and the asyncio hub drive."""
        task_id = self._id(task_id)
        patience = Patience(
            self.clock,
            timeout=timeout,
            stale_after=stale_after if stale_after is not None else self.stale_after,
            unreachable_after=unreachable_after,
            refs=[f"{self.backend}:{task_id}"],
        )
        return Waiting(
            self,
            self.backend,
            task_id,
            patience,
            vendor=self.vendor,
            reread=whole and self.adapter.partial_refresh,
            on_update=on_update,
            on_progress=on_progress,
        )

    def watch(
        self,
        task_ids: Iterable[TaskRef] | None = None,
        *,
        timeout: float | None = None,
        poll: PollPolicy | None = None,
        **filters: Any,
    ) -> Iterator[Transition]:
        """Follow many tasks until each is terminal, yielding every transition.

        Give ``task_ids``, or list filters (``state=``, vendor filters) to watch the tasks a
        listing returns now. Each poll cycle refreshes every unfinished task at once through the
        vendor's listing where it has one (see docs/watching.md for the requests per cycle).
        """
        if task_ids is None:
            task_ids = [t.id for t in self.list(**filters) if not t.state.terminal]
            filters = {}
        return self._watch(self.watching(task_ids, timeout=timeout, **filters), poll)

    def watching(
        self, task_ids: Iterable[TaskRef], *, timeout: float | None = None, **filters: Any
    ) -> Watching:
        """The rules of one :meth:`watch` of ``task_ids`` on this hub, with no I/O
        (:class:`taskhub.following.Watching`); list filters beside ids are refused."""
        if filters:
            raise InvalidRequest(
                "give task ids or list filters, not both",
                field=sorted(filters)[0],
                vendor=self.vendor,
                operation="watch",
            )
        tasks = {f"{self.backend}:{i}": i for i in (self._id(t) for t in task_ids)}
        return Watching(
            tasks, Patience(self.clock, timeout=timeout, refs=tasks), vendor=self.vendor
        )

    def _watch(self, run: Watching, policy: PollPolicy | None) -> Iterator[Transition]:
        if run.finished:
            return
        refs = list(run.pending)
        self.tracker.watch(refs)
        try:
            with Merge[TaskHub]() as merge:
                merge.follow(self.refresher(policy), run.pending.values(), self)
                yield from _follow(merge, run)
        finally:
            self.tracker.unwatch(refs)

    def refresher(self, poll: PollPolicy | None = None) -> Refresher:
        """The process's shared refresher for this backend (``poll``: its schedule; default
        the vendor's, adjusted by the options) — what ``wait`` and ``watch`` follow tasks
        through, one read per cycle for every follower in the process."""
        clock = None if self.clock is SYSTEM else self.clock
        return refresher_for(self.adapter, policy=poll or self.poll_policy, clock=clock)

    # -- lifecycle -------------------------------------------------------------------------------

    def close(self) -> None:
        """Release the HTTP connections."""
        self.adapter.close()

    def __enter__(self: _Hub) -> _Hub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} backend={self.backend!r} vendor={self.vendor!r}>"

    # -- internals -------------------------------------------------------------------------------

    def _require(self, operation: str) -> None:
        """UnsupportedOperation before anything else (an id this vendor would refuse included)
        when the vendor lacks ``operation``."""
        if operation not in self.capabilities:
            raise self.adapter.unsupported(operation)

    def _check(self, ref: str, target: State, operation: str) -> None:
        """InvalidTransition, before any request, when the state machine forbids moving the
        task ``ref`` to ``target`` by command from the state this hub knows it in."""
        try:
            check_command(self.tracker.state(ref), target, vendor=self.vendor, operation=operation)
        except InvalidTransition as exc:
            raise InvalidTransition(
                f"{ref}: {exc.message} (force=True sends the {operation} anyway)",
                vendor=self.vendor,
                operation=operation,
            ) from None

    def _secrets(self) -> contextlib.AbstractContextManager[redact.Policy]:
        """This hub's redaction policy, current while an operation runs, so any error raised
        inside (by the adapter too) is scrubbed of this hub's own secret values."""
        return redact.using(self.policy)

    def _seen(self, task: Task) -> Task:
        """Record a task read from the vendor; the hub's answer about it (the Tracker's)."""
        return observe(self, task)[0]

    def _id(self, task: TaskRef) -> str:
        """The vendor id a call addresses: from a Task, a ``"backend:id"`` ref of this hub, or
        a bare id; a Task or ref of another backend is refused before any request."""
        if isinstance(task, Task):
            backend, task_id = task.backend, task.id
        elif isinstance(task, str) and task.startswith(f"{self.backend}:"):
            backend, task_id = self.backend, task[len(self.backend) + 1 :]
        elif isinstance(task, str) and ":" in task and self.adapter.id_rule.colon_is_ref:
            backend, task_id = split_ref(task)
        else:
            return self.adapter.require_id(task)
        if backend != self.backend:
            raise InvalidRequest(
                f"{backend}:{task_id[:60]} belongs to backend {backend!r}; this hub is "
                f"{self.backend!r} (connect to {backend!r} for it)",
                field="task_id",
                vendor=self.vendor,
            )
        return self.adapter.require_id(task_id)


class VendorCall(Generic[_P, _R]):
    """A vendor-only (``ex_``) method of a vendor's hub, made by :func:`forward`: the
    adapter's method of the same name and signature, run under the hub's redaction."""

    def __init__(self, method: Callable[..., Any], *, ref: bool = False) -> None:
        name = method.__name__

        def call(hub: TaskHub, /, *args: Any, **kwargs: Any) -> Any:
            with hub._secrets():
                if ref and args:
                    args = (hub._id(args[0]), *args[1:])
                result = getattr(hub.adapter, name)(*args, **kwargs)
            # A generator runs later, item by item: each step under the redaction too.
            return _redacted(result, hub.policy) if inspect.isgenerator(result) else result

        functools.update_wrapper(call, method)
        if ref:
            # What the hub takes in the adapter's id's place: a Task, a ref or an id.
            signature = inspect.signature(method)
            own, job, *rest = signature.parameters.values()
            own = own.replace(kind=own.POSITIONAL_ONLY)
            job = job.replace(annotation="Task | str", kind=job.POSITIONAL_ONLY)
            shown = signature.replace(parameters=[own, job, *rest])
            call.__signature__ = shown  # type: ignore[attr-defined]
        self._call = call

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._call.__qualname__ = f"{owner.__qualname__}.{name}"
        self._call.__name__ = name

    @overload
    def __get__(
        self, hub: None, owner: type[Any] | None = None
    ) -> Callable[Concatenate[TaskHub, _P], _R]: ...
    @overload
    def __get__(self, hub: TaskHub, owner: type[Any] | None = None) -> Callable[_P, _R]: ...
    def __get__(self, hub: TaskHub | None, owner: type[Any] | None = None) -> Any:
        return self._call if hub is None else types.MethodType(self._call, hub)


@overload
def forward(method: Callable[Concatenate[Any, _P], _R]) -> VendorCall[_P, _R]: ...
@overload
def forward(
    method: Callable[Concatenate[Any, str, _P], _R], *, ref: Literal[True]
) -> VendorCall[Concatenate[TaskRef, _P], _R]: ...
def forward(method: Callable[..., Any], *, ref: bool = False) -> VendorCall[Any, Any]:
    """Declare a vendor's ``ex_`` call on its hub class as its adapter's ``method``, once:

        class LivepeerHub(TaskHub):
            ex_asset = forward(LivepeerAdapter.asset)

    The hub's method has the adapter method's signature and docstring (type checkers see
    them), calls the hub's adapter, and runs under the hub's redaction policy, so any error
    raised inside is scrubbed of this hub's secret values — a generator it returns is read
    under it too. ``ref=True``: the first argument is a task the hub resolves to its id (a
    Task, a ``"backend:id"`` ref of this hub, or an id), as ``get`` does.
    """
    return VendorCall(method, ref=ref)


def _redacted(items: Iterator[Any], policy: redact.Policy) -> Iterator[Any]:
    """``items``, each one read with ``policy`` current (and none while the caller holds an
    item: the policy is per thread, and a generator runs in its caller's)."""
    try:
        while True:
            with redact.using(policy):
                try:
                    item = next(items)
                except StopIteration:
                    return
            yield item
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()


def hub_class_of(kind: type[Adapter]) -> type[TaskHub]:
    """The hub class an adapter class declares (:attr:`Adapter.hub_class`: a class, or
    ``"module:Class"`` for a hub module that imports the adapter's, as one whose ``ex_``
    calls are :func:`forward`-ed does), else TaskHub."""
    declared = kind.hub_class
    if isinstance(declared, str):
        module, _, name = declared.partition(":")
        declared = getattr(importlib.import_module(module), name)
    if declared is None:
        return TaskHub
    if not (isinstance(declared, type) and issubclass(declared, TaskHub)):
        raise TypeError(f"{kind.__name__}.hub_class is not a TaskHub subclass: {declared!r}")
    return declared


def _follow(merge: Merge[TaskHub], run: Watching) -> Iterator[Transition]:
    """Drive a watch's rules on a merged queue: every transition, until each task finished
    (or the timeout, or an error, raised by ``run``)."""
    while True:
        yield from run.outcome()
        if run.finished:
            return
        item = merge.get(run.patience.pause(1.0))
        if item is not None:
            hub, sub, update = item
            run.note(update, hub)
            for task in run.ended():
                sub.drop(task.id)


def _state(value: State | str) -> State:
    try:
        return State.parse(value)
    except ValueError as exc:
        raise InvalidRequest(str(exc), field="state") from None


def _states(value: State | str | Iterable[State | str] | None) -> frozenset[State] | None:
    if value is None:
        return None
    if isinstance(value, (State, str)):
        return frozenset({_state(value)})
    return frozenset(_state(v) for v in value)


#: Where a configuration comes from: a TOML file's path, a mapping, a loaded Config, or None
#: (``TASKHUB_CONFIG``, then ``./taskhub.toml``).
ConfigSource = Union[str, "os.PathLike[str]", Mapping[str, Any], _config.Config, None]


@overload
def connect(
    name_or_vendor: Literal["livepeer"], *, config: ConfigSource = None, **options: Any
) -> LivepeerHub: ...
@overload
def connect(
    name_or_vendor: Literal["cognite"], *, config: ConfigSource = None, **options: Any
) -> CogniteHub: ...
@overload
def connect(
    name_or_vendor: Literal["veritone"], *, config: ConfigSource = None, **options: Any
) -> VeritoneHub: ...
@overload
def connect(
    name_or_vendor: Literal["veritone-edge"], *, config: ConfigSource = None, **options: Any
) -> EdgeHub: ...
@overload
def connect(
    name_or_vendor: Literal["vionlabs"], *, config: ConfigSource = None, **options: Any
) -> VionlabsHub: ...
@overload
def connect(
    name_or_vendor: str | None = None, *, config: ConfigSource = None, **options: Any
) -> TaskHub: ...
def connect(
    name_or_vendor: str | None = None,
    *,
    config: str | os.PathLike[str] | Mapping[str, Any] | _config.Config | None = None,
    **options: Any,
) -> TaskHub:
    """Open a TaskHub on a configured backend or directly on a vendor.

    With no name: the configuration's default backend (TASKHUB_BACKEND overrides it). With a
    name: that configured backend, or else that vendor with ``options`` as its settings.
    Keyword options given next to a configured backend override the file's values.

    A vendor's name gives that vendor's hub class (``connect("livepeer")`` is a
    :class:`~taskhub.adapters.livepeer.hub.LivepeerHub`, with its ``ex_`` methods), for type
    checkers too: a configuration may not name a backend after another vendor. Any other
    backend's hub is its vendor's class as well; narrow it with ``isinstance``.
    """
    cfg = config if isinstance(config, _config.Config) else _config.load(config)
    name = name_or_vendor if name_or_vendor is not None else cfg.default_name()
    if not isinstance(name, str) or not name.strip():
        raise ConfigError("the backend or vendor name must be a non-empty string")
    if name in cfg.backends:
        if options and isinstance(cfg.backends, _config.Backends):
            entry = cfg.backends.with_options(name, options)
        elif options:
            entry = cfg.backends[name]
            merged = {**_option_values(entry.options), **options}
            entry = _config.Backend(
                name,
                entry.vendor,
                _config.options_for(entry.vendor, merged, path=f"backends.{name}"),
            )
        else:
            entry = cfg.backends[name]
        return open_backend(entry, config=cfg)
    # Nothing configured because no file was found: say so, and where taskhub looked.
    missing = f"; {_config.not_found()}" if config is None and cfg.source is None else ""
    if name in registry.names():
        try:
            values = _config.options_for(name, options, path=name)
        except ConfigError as exc:
            if not missing:
                raise
            raise ConfigError(f"{exc}{missing}") from None
        return open_backend(_config.Backend(name, name, values))
    raise ConfigError(registry.unknown_vendor_message(name, extra=list(cfg.backends)) + missing)


def open_backend(backend: _config.Backend, *, config: _config.Config | None = None) -> TaskHub:
    """A TaskHub for one validated backend (``config``: where its named jobs are)."""
    kind = registry.load(backend.vendor)
    adapter = kind(backend.options, backend=backend.name)
    return hub_class_of(kind)(adapter, config=config)


def connect_all(
    config: str | os.PathLike[str] | Mapping[str, Any] | _config.Config | None = None,
) -> dict[str, TaskHub]:
    """A TaskHub for every configured backend, by name (for dashboards across vendors)."""
    cfg = config if isinstance(config, _config.Config) else _config.load(config)
    return {name: open_backend(backend, config=cfg) for name, backend in cfg.backends.items()}


def watch_all(
    tasks: Iterable[TaskRef],
    hubs: Mapping[str, TaskHub],
    *,
    timeout: float | None = None,
) -> Iterator[Transition]:
    """Follow tasks of several backends at once (Tasks or ``"backend:id"`` refs, with
    ``hubs`` from :func:`connect_all`), yielding every transition as it comes until all are
    terminal. Each backend's shared refresher reads its tasks; one queue gathers them all."""
    groups: dict[str, builtins.list[str]] = {}
    for item in tasks:
        backend = item.backend if isinstance(item, Task) else split_ref(item)[0]
        if backend not in hubs:
            raise ConfigError(unknown_name(backend, list(hubs), "backend"), path="backends")
        groups.setdefault(backend, []).append(hubs[backend]._id(item))
    refs = {f"{b}:{i}": i for b, ids in groups.items() for i in ids}
    if not refs:
        return
    # One deadline needs one clock: the hubs' own when they share one (a test's virtual
    # clock), else the system's.
    clocks = {id(hubs[b].clock): hubs[b].clock for b in groups}
    clock = next(iter(clocks.values())) if len(clocks) == 1 else SYSTEM
    vendors = {hubs[b].vendor for b in groups}
    vendor = next(iter(vendors)) if len(vendors) == 1 else None
    run = Watching(refs, Patience(clock, timeout=timeout, refs=refs), vendor=vendor)
    watched: builtins.list[TaskHub] = []
    try:
        with Merge[TaskHub]() as merge:
            for backend, ids in groups.items():
                hub = hubs[backend]
                hub.tracker.watch(f"{backend}:{i}" for i in ids)
                watched.append(hub)
                merge.follow(hub.refresher(), dict.fromkeys(ids), hub)
            yield from _follow(merge, run)
    finally:
        for hub in watched:
            hub.tracker.unwatch(f"{hub.backend}:{i}" for i in groups[hub.backend])


def parse(vendor: str, payload: Any, *, backend: str | None = None) -> Task:
    """Turn a vendor's task JSON you already hold (an export, a webhook body, a queue message)
    into a Task, with no request, through the parser that vendor's adapter uses."""
    return registry.load(vendor).parse_detached(payload, backend)


def _option_values(options: Options) -> dict[str, Any]:
    import attrs

    return attrs.asdict(options, recurse=False)
