"""The base every vendor adapter extends: its options, its operations, its capabilities.

An adapter implements the operations its vendor has and leaves the others to this base, which
raises :class:`UnsupportedOperation` naming the nearest real alternative. ``capabilities`` is
derived from what a subclass overrides, so it can never claim an operation that is not there.
"""

from __future__ import annotations

import builtins
import importlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
import requests

from taskhub import redact, signals
from taskhub.errors import (
    InvalidRequest,
    MalformedResponse,
    OutcomeUnknown,
    TaskhubError,
    TaskNotFound,
    UnsupportedOperation,
)
from taskhub.http import Transport
from taskhub.model import MESSAGE_CAP, REASON_CAP, WORD_CAP, Status, Task, cap
from taskhub.options import Options, secret, url_field
from taskhub.paging import PageGuard
from taskhub.polling import PollPolicy
from taskhub.states import State
from taskhub.statuses import StatusTable

if TYPE_CHECKING:
    from taskhub.hub import TaskHub
    from taskhub.spec import Spec

log = logging.getLogger("taskhub.adapter")


@attrs.frozen
class IdRule:
    """What a valid id looks like for a vendor: its alphabet (a regular expression the whole
    id must match) and its longest length. Checked before any request, so an id can never
    steer the request's path or query, and a 100 KB id never reaches the wire."""

    pattern: re.Pattern[str]
    #: Said in the error: what the pattern allows, in words.
    allows: str
    max_length: int = 128
    #: True when no id of this vendor has a colon, so ``"x:y"`` can only be a ref.
    colon_is_ref: bool = True
    #: True when the pattern itself excludes control characters (no ``.`` or negated class
    #: that lets them through), so an id that matches needs no separate scan for them.
    controls_excluded: bool = False

    def check(self, value: object, what: str, *, vendor: str) -> str:
        """``value`` if it is a valid id, else InvalidRequest naming ``what``."""
        if not isinstance(value, str):
            raise InvalidRequest(
                f"{what} must be a string, not {type(value).__name__}", field=what, vendor=vendor
            )
        if not value.strip():
            raise InvalidRequest(f"{what} must not be empty", field=what, vendor=vendor)
        if len(value) > self.max_length:
            raise InvalidRequest(
                f"{what} is {len(value)} characters long; {vendor} ids have at most "
                f"{self.max_length}",
                field=what,
                vendor=vendor,
            )
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise InvalidRequest(f"{what} contains control characters", field=what, vendor=vendor)
        if self.pattern.fullmatch(value) is None:
            raise InvalidRequest(
                f"{what} {value[:40]!r} is not a {vendor} {what.replace('_', ' ')} ({self.allows})",
                field=what,
                vendor=vendor,
            )
        return value


#: Letters, digits, '_', '-', '.' and '~', starting with a letter or digit: every id the
#: built-in vendors hand out (UUIDs, Veritone's ``19041508_nZEz…``), and never a path.
PLAIN_ID = IdRule(
    re.compile(r"[A-Za-z0-9][A-Za-z0-9_.~-]*"),
    "letters, digits and _ - . ~, starting with a letter or digit",
    controls_excluded=True,
)

#: A file or output name: anything but a path separator, and not ``.`` or ``..``; sent
#: percent-encoded as one path segment.
NAME = IdRule(re.compile(r"(?!\.\.?\Z)[^/\\]+"), "any characters but / and \\, not . or ..", 255)

#: The operations a TaskHub forwards to its adapter.
OPERATIONS = ("submit", "get", "list", "cancel", "retry", "report")


#: How far a server's clock may be behind ours when an interrupted submit is looked up.
CLOCK_SKEW_MS = 5 * 60 * 1000


def lookup_since() -> int:
    """Epoch ms from which to search for what a submit starting now may have created.

    Lookups match by a marker or by content, so this bound only narrows the search; it is
    set early enough to allow for clock skew between client and server.
    """
    return int(time.time() * 1000) - CLOCK_SKEW_MS


def wanted_states(state: State | Iterable[State] | None) -> frozenset[State] | None:
    """``list``'s ``state`` argument as a set (None: every state)."""
    if state is None:
        return None
    return frozenset({state}) if isinstance(state, State) else frozenset(state)


def select(
    tasks: Iterable[Task], wanted: frozenset[State] | None, limit: int | None
) -> Iterator[Task]:
    """Keep the tasks in ``wanted`` states and stop after ``limit``, consuming no more pages."""
    if limit is not None and limit <= 0:
        return
    sent = 0
    for task in tasks:
        if wanted is not None and task.state not in wanted:
            continue
        yield task
        sent += 1
        if limit is not None and sent >= limit:
            return


def _capped(status: Status, policy: redact.Policy) -> Status:
    """``status`` with the vendor's free text cut to size and its message masked."""
    raw = cap(status.raw, WORD_CAP)
    reason = cap(status.reason, REASON_CAP)
    message = status.message
    if message:
        message = policy.text(cap(message, MESSAGE_CAP) or "")
    if raw is status.raw and reason is status.reason and message == status.message:
        return status
    return attrs.evolve(status, raw=raw, reason=reason, message=message)


def _skipped(vendor: str, why: str) -> None:
    log.warning("%s: a row was skipped: %s", vendor, why)
    if signals.on_skipped_row:
        signals.emit(signals.on_skipped_row, vendor, why)


def _epoch_ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


@attrs.define
class Changes:
    """What :meth:`Adapter.refresh_changed` keeps between cycles."""

    #: Epoch ms on the vendor's clock: every change after it is in the next change listing.
    mark: int | None = None
    #: The last observation of each followed task, served again while it does not change.
    seen: dict[str, Task] = attrs.field(factory=dict)
    #: Change-only cycles since the last full one.
    cycles: int = 0


class Adapter:
    """One vendor's client. Subclasses set the class attributes and override what they have."""

    #: The vendor name, as registered.
    vendor: ClassVar[str]
    #: The attrs class of this vendor's options.
    options_class: ClassVar[type[Options]]
    #: The vendor's status table.
    statuses: ClassVar[StatusTable]
    #: ``"module:Class"`` of the vendor's simulator, for ``taskhub.testing.simulate``.
    simulator: ClassVar[str | None] = None
    #: ``"module:function"`` that runs a worker engine: ``run(function, types, *, payload,
    #: engine_id) -> exit code``, for ``taskhub engine VENDOR``; None when there is none.
    engine: ClassVar[str | None] = None
    #: ``"module:function"`` that verifies one webhook delivery: ``parse(body, headers, secret,
    #: *, seen, backend) -> WebhookEvent`` (``event.id``, ``event.task``), raising
    #: WebhookRejected; None when the vendor sends no webhooks taskhub can verify. ``taskhub
    #: serve`` takes deliveries at ``/webhooks/{backend}`` for every backend that has one.
    webhooks: ClassVar[str | None] = None
    #: How ``wait`` and ``watch`` poll this vendor unless the options say otherwise.
    poll: ClassVar[PollPolicy] = PollPolicy(initial=1.0, factor=1.5, ceiling=30.0)
    #: Seconds without change after which a task is reported stale (None: never).
    stale_after: ClassVar[float | None] = None
    #: For each operation the vendor lacks, the nearest real alternative, said to the user.
    alternatives: ClassVar[Mapping[str, str]] = {}
    #: True when ``refresh`` reads less than ``get`` (a listing without outputs or subtasks):
    #: ``wait`` then reads a finished task once more, whole, before returning it.
    partial_refresh: ClassVar[bool] = False
    #: The TaskHub subclass a hub of this vendor is: its typed vendor-only ``ex_`` surface
    #: (None: plain TaskHub). A class, or ``"module:Class"`` when the hub's module imports
    #: this one (a hub whose ``ex_`` calls are ``taskhub.hub.forward``-ed adapter methods).
    hub_class: ClassVar[type[TaskHub] | str | None] = None
    #: The typed specs ``submit`` takes (taskhub.spec); ``hub.submit`` checks every submit,
    #: typed or keyword, through them before any request. Empty: the adapter checks alone.
    specs: ClassVar[tuple[type[Spec], ...]] = ()
    #: What this vendor's task ids look like (checked before any request).
    id_rule: ClassVar[IdRule] = PLAIN_ID
    #: Secret names this vendor uses beyond the common ones (taskhub.redact): headers, query
    #: keys and JSON fields. Every hub of this vendor masks them in whatever it renders.
    secret_headers: ClassVar[tuple[str, ...]] = ()
    secret_params: ClassVar[tuple[str, ...]] = ()
    secret_fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "vendor" in cls.__dict__:
            redact.declare(
                cls.vendor,
                headers=cls.secret_headers,
                params=cls.secret_params,
                fields=cls.secret_fields,
            )

    def __init__(
        self,
        options: Options,
        *,
        backend: str | None = None,
        session: requests.Session | None = None,
    ) -> None:
        if not isinstance(options, type(self).options_class):
            raise TypeError(f"{self.vendor} needs {type(self).options_class.__name__}")
        self.options = options
        self.backend = backend or self.vendor
        self.transport = self.make_transport(session)
        # The threads of concurrent reads (read_each), made on first use: most adapters of a
        # process (a hub's, not its refresher's) never read concurrently.
        self._executor: ThreadPoolExecutor | None = None
        # What refresh_changed keeps between cycles, and the lock around it.
        self._changes = Changes()
        self._changes_lock = threading.Lock()

    def make_transport(self, session: requests.Session | None) -> Transport:
        """Build the Transport; vendors override to add auth and their error parser."""
        return Transport(vendor=self.vendor, base_url="", options=self.options, session=session)

    @classmethod
    def webhook_parser(cls) -> Callable[..., Any] | None:
        """The function :attr:`webhooks` names, imported; None when there is none."""
        if not cls.webhooks:
            return None
        module, _, name = cls.webhooks.partition(":")
        parse: Callable[..., Any] = getattr(importlib.import_module(module), name)
        return parse

    @classmethod
    def capabilities(cls) -> frozenset[str]:
        """The operations this adapter really implements."""
        return frozenset(op for op in OPERATIONS if getattr(cls, op) is not getattr(Adapter, op))

    def unsupported(self, operation: str) -> UnsupportedOperation:
        """The error for an operation this vendor does not have."""
        return UnsupportedOperation(self.vendor, operation, self.alternatives.get(operation))

    # -- operations: the base raises; adapters override what their vendor has -----------------

    def submit(self, **spec: Any) -> Task:
        """Create the vendor's unit of work from a vendor-specific spec."""
        raise self.unsupported("submit")

    def get(self, task_id: str) -> Task:
        """Fetch one task (job, execution ...) by id."""
        raise self.unsupported("get")

    def list(
        self,
        *,
        state: State | Iterable[State] | None = None,
        limit: int | None = None,
        **filters: Any,
    ) -> Iterator[Task]:
        """Stream tasks, newest first where the vendor orders them, following its paging."""
        raise self.unsupported("list")

    def cancel(self, task_id: str, *, reason: str | None = None) -> Task:
        """Ask the vendor to stop a task."""
        raise self.unsupported("cancel")

    def retry(self, task_id: str) -> Task:
        """Ask the vendor to run a finished (failed) task again."""
        raise self.unsupported("retry")

    def report(self, task_id: str, state: State, **fields: Any) -> Task:
        """As the worker running ``task_id``, tell the vendor its new state."""
        raise self.unsupported("report")

    def check_report(self, task_id: str, state: State, **fields: Any) -> None:
        """Refuse a report's bad arguments before any request; ``report`` calls it first, and
        the hub calls it before it reads the task's current state."""

    def current(self, task_id: str) -> Task | None:
        """The task a worker reports on (``report``'s id), read by its own id, or None when
        the vendor has no such read; ``report`` from a fresh process checks against it."""
        return None

    @staticmethod
    def parser(payload: Any, backend: str) -> Task:
        """The vendor's pure parser: its JSON for one task and a backend name -> Task.

        A vendor sets ``parser = staticmethod(parse_payload)`` (a module-level function, so
        parsing needs no adapter, options or connection); ``parse``, ``parse_detached`` and
        ``taskhub.parse`` all call it.
        """
        raise NotImplementedError("this adapter declares no parser")

    def parse(self, payload: Any) -> Task:
        """Turn the vendor's JSON for one task into a Task, with no request (adopted: see
        :meth:`adopt`)."""
        return self.adopt(self._parsed(self.parser(payload, self.backend)))

    @property
    def policy(self) -> redact.Policy:
        """This backend's redaction policy: the vendor's secret names and this hub's own
        secret values."""
        return self.transport.policy

    def adopt(self, task: Task) -> Task:
        """A task this backend read, made safe to keep and to show.

        Its id must pass the vendor's id rule (else MalformedResponse: an id that could steer
        a later request, or a NUL or a right-to-left override shown on a page, is never kept);
        the vendor's free text is cut to the documented sizes and its message masked with this
        backend's policy (a vendor that echoes the API key back shows ``***``); and the task
        carries the policy, so whatever renders it later (``to_dict``, the store, the command,
        the Airflow events) masks with it. A subtask whose id fails is dropped, with a warning.
        """
        self._check_row_id(task.id)
        subtasks = task.subtasks
        if subtasks:
            kept = [self._adopted(sub) for sub in subtasks]
            if any(new is not old for new, old in zip(kept, subtasks, strict=True)):
                subtasks = tuple(sub for sub in kept if sub is not None)
        status = _capped(task.status, self.policy)
        if status is not task.status or subtasks is not task.subtasks:
            task = attrs.evolve(task, status=status, subtasks=subtasks)
        # The one field set after construction: a copy of every parsed task only to attach
        # the policy would double the cost of parsing a listing (bench/p4_parse.py).
        object.__setattr__(task, "policy", self.policy)
        return task

    def _adopted(self, task: Task) -> Task | None:
        try:
            return self.adopt(task)
        except MalformedResponse as exc:
            _skipped(self.vendor, str(exc))
            return None

    def parse_rows(self, payloads: Iterable[Any]) -> Iterator[Task]:
        """Parse a listing's rows; a row whose id fails the vendor's id rule is skipped with a
        warning (and ``signals.on_skipped_row``), and the rest of the page is kept."""
        for payload in payloads:
            task = self._parsed(self.parser(payload, self.backend))
            adopted = self._adopted(task)
            if adopted is not None:
                yield adopted

    def _check_row_id(self, task_id: str) -> None:
        rule = self.id_rule
        if (
            type(task_id) is str
            and len(task_id) <= rule.max_length
            and rule.pattern.fullmatch(task_id) is not None
            and (rule.controls_excluded or task_id.isprintable())
        ):
            return  # the common case, without the full check's per-character scan
        try:
            self.id_rule.check(task_id, "id", vendor=self.vendor)
        except InvalidRequest as exc:
            raise MalformedResponse(
                f"{self.vendor} answered with a task whose {exc.message}", vendor=self.vendor
            ) from None

    @classmethod
    def parse_detached(cls, payload: Any, backend: str | None = None) -> Task:
        """Parse vendor JSON with no configured adapter (no options, no connection)."""
        return cls._parsed(cls.parser(payload, backend or cls.vendor))

    @classmethod
    def _parsed(cls, task: Any) -> Task:
        # A parser that returns no Status is the adapter's mistake: say so here, not with an
        # AttributeError deep in the Tracker the first time the task is observed.
        if not isinstance(task, Task) or not isinstance(task.status, Status):
            got = (
                f"a Task whose status is {type(task.status).__name__}"
                if isinstance(task, Task)
                else type(task).__name__
            )
            raise TypeError(
                f"{cls.vendor}'s parser returned {got}, not a Task with a Status: make the "
                "status with the vendor's table, Task(backend, vendor, id, "
                "STATUSES.normalize(word)) (see docs/writing-an-adapter.md)"
            )
        return task

    def find_submitted(self, lookup: Mapping[str, Any]) -> Task | None:
        """The task a submit created when its outcome was unknown (``OutcomeUnknown.lookup``),
        or None if it was not created. Adapters that can tell override this."""
        return None

    @classmethod
    def can_find_submitted(cls) -> bool:
        """Whether this adapter can look up what a submit with an unknown outcome created:
        derived, like :meth:`capabilities`, from whether it overrides :meth:`find_submitted`
        (the base's None would read as "not created" and invite a second submit)."""
        return cls.find_submitted is not Adapter.find_submitted

    def refresh(self, task_ids: Sequence[str]) -> Iterator[Task | TaskhubError]:
        """The current state of many tasks, for the refresher's cycle.

        The default reads each by id, ``max_concurrency`` at a time on the hub's connection
        pool (for a vendor with no listing and no batch read). A vendor that can do better
        overrides this (a listing: :meth:`refresh_from`, or :meth:`refresh_changed` where it
        can list what changed; a batch read by id). A task that could not be read is yielded
        as its error (carrying ``task_id``), so one bad id reaches only its own followers.
        """
        return self.read_each(task_ids)

    def read_each(self, task_ids: Sequence[str]) -> Iterator[Task | TaskhubError]:
        """``get`` each id, up to ``options.max_concurrency`` at once, in the ids' order."""
        if len(task_ids) <= 1 or self.options.max_concurrency <= 1:
            for task_id in task_ids:
                yield self._read_one(task_id)
            return
        yield from self._pool().map(self._read_one, task_ids)

    def _read_one(self, task_id: str) -> Task | TaskhubError:
        try:
            return self.get(task_id)
        except TaskNotFound as exc:
            exc.task_id = exc.task_id or task_id
            return exc

    def _pool(self) -> ThreadPoolExecutor:
        pool = self._executor
        if pool is None:
            # Threads share the transport's session: its pool holds at least this many
            # connections (taskhub.watchdog mounts it so).
            pool = self._executor = ThreadPoolExecutor(
                self.options.max_concurrency, thread_name_prefix=f"taskhub-{self.vendor}"
            )
        return pool

    def refresh_from(
        self, listing: Iterator[Task], task_ids: Sequence[str], *, page: int = 1000
    ) -> Iterator[Task | TaskhubError]:
        """``refresh`` through a newest-first listing of ``page`` rows a page: read until every
        id was seen or another page would not pay (:meth:`walk_for`), then read the ones not
        found by id. For one or two ids, reads by id are cheaper than a page of a thousand, so
        those go by id at once."""
        if len(task_ids) <= 2:
            yield from self.read_each(task_ids)
            return
        missing = set(task_ids)
        found, _ = self.walk_for(listing, missing, page=page)
        yield from found
        yield from self.read_each([t for t in task_ids if t in missing])

    @staticmethod
    def walk_for(
        listing: Iterable[Task], missing: set[str], *, page: int
    ) -> tuple[builtins.list[Task], bool]:
        """The tasks of ``missing`` a listing holds, each removed from ``missing`` when found,
        and whether the listing was read to its end.

        The walk stops once every id was found, or when the next page would not pay: after
        ``k`` pages of ``page`` rows, once ``k`` reaches the ids still missing (reading those
        by id costs no more than the pages that might hold them), so a walk never costs more
        than twice the reads by id it replaces, and usually a page or two.
        """
        found: builtins.list[Task] = []
        rows = iter(listing)
        read = 0
        try:
            for task in rows:
                read += 1
                if task.id in missing:
                    missing.discard(task.id)
                    found.append(task)
                if not missing or (read % page == 0 and read // page >= len(missing)):
                    return found, False
            return found, True
        finally:
            close = getattr(rows, "close", None)
            if close is not None:
                close()  # a generator holding a page: let it go now

    def refresh_changed(
        self,
        task_ids: Sequence[str],
        listing: Callable[[int | None, tuple[int, int] | None], Iterator[Task]],
        *,
        page: int = 1000,
        overlap_ms: int = 2000,
        resync: int = 10,
    ) -> Iterator[Task | TaskhubError]:
        """``refresh`` through a listing the vendor narrows to what changed since a time:
        ``listing(changed_after, created)`` gives the tasks changed after ``changed_after``
        (None: every task) and created from ``created[0]`` to ``created[1]`` (None: any time;
        a listing may apply only the lower bound), ``page`` rows a page; times are epoch ms on
        the vendor's clock.

        The first cycle, and every ``resync``-th after it (which also notices deleted tasks),
        walks the listing unfiltered by change — created between the oldest and the newest
        followed task, once every followed task was seen — until every id was found
        (:meth:`walk_for`); the rest are read by id. Every other cycle lists only what
        changed since the high-water mark of the one before, less ``overlap_ms`` (for
        replication lag and coarse timestamps), and serves a followed task that did not
        change from its last observation; a followed task never observed is looked for in
        that listing, then read by id (more than two: looked for in the newest-first listing
        first). The listing is ordered newest first, by creation or by change. One or two ids
        are read by id.
        """
        if len(task_ids) <= 2:
            return self.read_each(task_ids)
        with self._changes_lock:
            return iter(
                self._changed_cycle(self._changes, task_ids, listing, page, overlap_ms, resync)
            )

    def _changed_cycle(
        self,
        state: Changes,
        task_ids: Sequence[str],
        listing: Callable[[int | None, tuple[int, int] | None], Iterator[Task]],
        page: int,
        overlap_ms: int,
        resync: int,
    ) -> builtins.list[Task | TaskhubError]:
        ids = builtins.list(dict.fromkeys(task_ids))
        seen = {i: state.seen[i] for i in ids if i in state.seen}
        born = [_epoch_ms(t.created_at) for t in seen.values()]
        known = [b for b in born if b is not None]
        # Bounds by creation only when every followed task's creation is known.
        window = (min(known), max(known)) if len(known) == len(ids) else None
        newest = window[1] if window else None
        tops: builtins.list[int | None] = []  # the newest change on each page read
        older: builtins.list[int] = []  # the first page with a row no newer than `newest`

        def marked(rows: Iterator[Task]) -> Iterator[Task]:
            # A page's newest change was made before the page was read. A followed task can
            # only be listed from the first page holding a task created no later than it
            # (newest first), so a change it makes after this walk passed it is newer than
            # every change on the pages up to that one: the next cycle lists changes after
            # the newest of those. (On a listing newest change first, that is the first page.)
            for n, task in enumerate(rows):
                if n % page == 0:
                    tops.append(None)
                stamp, created = _epoch_ms(task.updated_at), _epoch_ms(task.created_at)
                if stamp is not None:
                    tops[-1] = max(tops[-1] or stamp, stamp)
                if not older and (newest is None or created is None or created <= newest):
                    older.append(len(tops))
                yield task

        missing = set(ids)
        full = state.mark is None or state.cycles + 1 >= resync
        if full:
            found, _ = self.walk_for(marked(listing(None, window)), missing, page=page)
        else:
            assert state.mark is not None
            changes = marked(listing(state.mark - overlap_ms, window))
            found, complete = self.walk_for(changes, missing, page=page)
            if complete:  # every change was listed: the others did not change
                found += [seen[i] for i in ids if i in missing and i in seen]
                missing -= seen.keys()
            if len(missing) > 2:
                more, _ = self.walk_for(listing(None, None), missing, page=page)
                found += more
        read: dict[str, Task | TaskhubError] = {t.id: t for t in found}
        rest = [i for i in ids if i in missing]
        read.update(zip(rest, self.read_each(rest), strict=True))
        state.seen = {i: t for i, t in read.items() if isinstance(t, Task)}
        stamps = [t for t in tops[: older[0] if older else None] if t is not None]
        if stamps:
            state.mark = max(state.mark or 0, *stamps)
        state.cycles = 0 if full else state.cycles + 1
        return [read[i] for i in ids]

    def poll_policy(self) -> PollPolicy:
        """The poll schedule: the vendor's default, adjusted by the options."""
        policy = self.poll
        if self.options.poll_interval is not None:
            policy = attrs.evolve(policy, initial=self.options.poll_interval)
        if self.options.poll_max is not None:
            policy = attrs.evolve(policy, ceiling=self.options.poll_max)
        return policy

    def parse_many(self, payloads: builtins.list[Any]) -> builtins.list[Task]:
        """Parse a list of vendor task objects."""
        if not isinstance(payloads, builtins.list):
            raise MalformedResponse("expected a list of tasks", vendor=self.vendor)
        return builtins.list(self.parse_rows(payloads))

    # -- helpers for subclasses -----------------------------------------------------------------

    def invalid(self, message: str, *, field: str, operation: str) -> InvalidRequest:
        """The error for bad input, caught before any request."""
        return InvalidRequest(message, field=field, vendor=self.vendor, operation=operation)

    def not_repeated(
        self, exc: OutcomeUnknown, operation: str, subject: str, check: str
    ) -> OutcomeUnknown:
        """The error for a request that changes a task (retry, report), was sent, and got no
        answer (``creates=True`` on the transport, so it was not sent again): the server may
        have acted. ``check`` says how to find out; ``lookup`` names the operation and subject
        (it is for ``get``, not for ``find_submitted``)."""
        error = OutcomeUnknown(
            f"{exc.message}. The {operation} of {subject} is not sent again on its own, "
            f"since the server may have acted on it: {check}",
            lookup={"operation": operation, "task_id": subject},
            vendor=self.vendor,
            operation=operation,
            http_status=exc.http_status,
            request_id=exc.request_id,
        )
        error.__cause__ = exc
        return error

    def refuse_unknown(
        self,
        extra: Mapping[str, Any],
        operation: str,
        *,
        what: str = "argument",
        takes: str | None = None,
    ) -> None:
        """Raise for keyword arguments the operation does not take (``takes``: those it does)."""
        if extra:
            name = sorted(extra)[0]
            hint = f" ({self.vendor} takes {takes})" if takes else ""
            raise self.invalid(f"unknown {what} {name!r}{hint}", field=name, operation=operation)

    def require_id(self, value: object, what: str = "task_id", rule: IdRule | None = None) -> str:
        """Check an id argument against the vendor's id rule before any request is built."""
        return (rule or self.id_rule).check(value, what, vendor=self.vendor)

    def pages(self, operation: str) -> PageGuard:
        """The guard for one listing walk (see taskhub.paging)."""
        return PageGuard(self.vendor, operation, self.options.max_pages)

    def close(self) -> None:
        """Release the HTTP connections (and the threads of concurrent reads)."""
        pool, self._executor = self._executor, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        self.transport.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} backend={self.backend!r}>"


__all__ = [
    "NAME",
    "OPERATIONS",
    "PLAIN_ID",
    "Adapter",
    "IdRule",
    "Options",
    "lookup_since",
    "secret",
    "select",
    "url_field",
    "wanted_states",
]
