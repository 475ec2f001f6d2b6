"""The base every vendor adapter extends: its options, its operations, its capabilities.

An adapter implements the operations its vendor has and leaves the others to this base, which
raises :class:`UnsupportedOperation` naming the nearest real alternative. ``capabilities`` is
derived from what a subclass overrides, so it can never claim an operation that is not there.
"""

from __future__ import annotations

import builtins
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

import attrs
import requests

from taskhub import redact
from taskhub.errors import (
    InvalidRequest,
    MalformedResponse,
    OutcomeUnknown,
    TaskhubError,
    TaskNotFound,
    UnsupportedOperation,
)
from taskhub.http import Transport
from taskhub.model import Task
from taskhub.options import Options, secret, url_field
from taskhub.paging import PageGuard
from taskhub.polling import PollPolicy
from taskhub.states import State
from taskhub.tables import StatusTable


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
    #: How ``wait`` and ``watch`` poll this vendor unless the options say otherwise.
    poll: ClassVar[PollPolicy] = PollPolicy(initial=1.0, factor=1.5, ceiling=30.0)
    #: Seconds without change after which a task is reported stale (None: never).
    stale_after: ClassVar[float | None] = None
    #: For each operation the vendor lacks, the nearest real alternative, said to the user.
    alternatives: ClassVar[Mapping[str, str]] = {}
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

    def make_transport(self, session: requests.Session | None) -> Transport:
        """Build the Transport; vendors override to add auth and their error parser."""
        return Transport(vendor=self.vendor, base_url="", options=self.options, session=session)

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

    def parse(self, payload: Any) -> Task:
        """Turn the vendor's JSON for one task into a Task, with no request."""
        raise NotImplementedError

    @classmethod
    def parse_detached(cls, payload: Any, backend: str | None = None) -> Task:
        """Parse vendor JSON with no configured adapter (no options, no connection)."""
        # parse() needs only the backend name and the vendor's tables, so an instance that was
        # never connected serves; nothing else may be called on it.
        parser = cls.__new__(cls)
        parser.backend = backend or cls.vendor
        return parser.parse(payload)

    def find_submitted(self, lookup: Mapping[str, Any]) -> Task | None:
        """The task a submit created when its outcome was unknown (``OutcomeUnknown.lookup``),
        or None if it was not created. Adapters that can tell override this."""
        return None

    def refresh(self, task_ids: Sequence[str]) -> Iterator[Task | TaskhubError]:
        """The current state of many tasks, for the refresher's cycle.

        The default reads each by id, ``max_concurrency`` at a time on the hub's connection
        pool (for a vendor with no listing and no batch read). A vendor that can do better
        overrides this (a listing: :meth:`refresh_from`; a batch read by id). A task that
        could not be read is yielded as its error (carrying ``task_id``), so one bad id
        reaches only its own followers.
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
        pool = self.__dict__.get("_executor")
        if pool is None:
            # Threads share the transport's session: its pool holds at least this many
            # connections (taskhub.watchdog mounts it so).
            pool = ThreadPoolExecutor(
                self.options.max_concurrency, thread_name_prefix=f"taskhub-{self.vendor}"
            )
            self.__dict__["_executor"] = pool
        return pool

    def refresh_from(
        self, listing: Iterator[Task], task_ids: Sequence[str], *, page: int = 1000
    ) -> Iterator[Task | TaskhubError]:
        """``refresh`` through a newest-first listing: read until every id was seen (at most a
        page more than there are ids), then read the ones not found by id. For one or two
        ids, reads by id are cheaper than a page of a thousand, so those go by id at once."""
        if len(task_ids) <= 2:
            yield from self.read_each(task_ids)
            return
        missing = set(task_ids)
        budget = len(missing) + page
        for task in listing:
            if task.id in missing:
                missing.discard(task.id)
                yield task
            budget -= 1
            if not missing or budget <= 0:
                break
        yield from self.read_each([t for t in task_ids if t in missing])

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
        return [self.parse(p) for p in payloads]

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
        pool = self.__dict__.pop("_executor", None)
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
