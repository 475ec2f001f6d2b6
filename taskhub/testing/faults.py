"""Fault plans and the request log of a simulator.

A fault rule matches requests by method and path (a regular expression searched in the path)
and fires a number of ``times`` (or with a seeded ``probability``), after skipping the first
``after`` matches. Kinds:

* ``status``: answer with ``status`` (and ``headers``, e.g. Retry-After) in the vendor's
  error shape, without touching the simulator's state;
* ``delay``: carry the request out, then hold the answer ``seconds`` (past the client's
  timeout, the client sees a timeout for something that did happen);
* ``drop``: close the connection without an answer (before the request is carried out, unless
  ``after_effect=True``);
* ``malformed``: carry the request out, then answer with a truncated, unparseable body;
* ``graphql``: carry nothing out and answer HTTP 200 with a GraphQL ``errors`` envelope;
* ``truncate``: carry the request out, send the headers and half the body, then close the
  connection (a download or an answer dropped mid-body).
"""

from __future__ import annotations

import random
import re
import threading
import time
from typing import Any, Literal

import attrs

Kind = Literal["status", "delay", "drop", "malformed", "graphql", "truncate"]
KINDS: tuple[str, ...] = ("status", "delay", "drop", "malformed", "graphql", "truncate")


@attrs.define
class Fault:
    """One rule of a fault plan."""

    kind: Kind = "status"
    status: int = 503
    body: Any = None
    headers: dict[str, str] = attrs.field(factory=dict)
    seconds: float = 0.0
    method: str | None = None
    path: str | None = None
    times: int | None = 1
    probability: float | None = None
    after: int = 0
    after_effect: bool = False
    #: GraphQL error name for ``kind="graphql"``.
    name: str = "service_unavailable"
    fired: int = 0
    seen: int = 0

    def matches(self, method: str, path: str) -> bool:
        """Whether the rule applies to this request (ignoring counts)."""
        if self.method and self.method.upper() != method.upper():
            return False
        return not self.path or re.search(self.path, path) is not None

    @property
    def exhausted(self) -> bool:
        """True once the rule has fired ``times`` times."""
        return self.times is not None and self.fired >= self.times


class FaultPlan:
    """The active fault rules of one simulator, thread-safe and seeded."""

    def __init__(self, seed: int = 0) -> None:
        self._rules: list[Fault] = []
        self._lock = threading.Lock()
        self._rng = random.Random(seed)

    def add(self, fault: Fault) -> Fault:
        """Add a rule; it is checked after the ones added before it."""
        if fault.kind not in KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}; expected one of {KINDS}")
        if fault.probability is not None and not 0 <= fault.probability <= 1:
            raise ValueError("probability must be between 0 and 1")
        with self._lock:
            self._rules.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    def match(self, method: str, path: str) -> Fault | None:
        """The rule that fires for this request, if any (counting it as fired)."""
        with self._lock:
            for rule in self._rules:
                if rule.exhausted or not rule.matches(method, path):
                    continue
                rule.seen += 1
                if rule.seen <= rule.after:
                    continue
                if rule.probability is not None and self._rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                return rule
        return None

    @property
    def rules(self) -> list[Fault]:
        """A copy of the rules."""
        with self._lock:
            return list(self._rules)


@attrs.frozen
class Record:
    """One request a simulator received, and what it answered."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    status: int | None
    fault: str | None
    at: float = attrs.field(factory=time.time)
    #: The path as sent, still percent-encoded.
    raw_path: str = ""

    def json(self) -> Any:
        """The request body parsed as JSON."""
        import json

        return json.loads(self.body or b"null")


class RequestLog:
    """Every request a simulator received, in order (thread-safe)."""

    def __init__(self) -> None:
        self._records: list[Record] = []
        self._lock = threading.Lock()

    def append(self, record: Record) -> None:
        """Add a record."""
        with self._lock:
            self._records.append(record)

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._records.clear()

    def __len__(self) -> int:
        return len(self._records)

    def all(self) -> list[Record]:
        """A copy of the records."""
        with self._lock:
            return list(self._records)

    def find(self, method: str | None = None, path: str | None = None) -> list[Record]:
        """Records whose method equals and whose path matches the regular expression."""
        return [
            r
            for r in self.all()
            if (method is None or r.method == method.upper())
            and (path is None or re.search(path, r.path))
        ]
