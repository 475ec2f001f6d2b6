"""Status tables: each vendor's words mapped onto State, and the one normalize function.

A vendor declares a :class:`StatusTable` in its adapter folder; the core only ever reaches it
through the registry. Lookups ignore case and surrounding white space, while ``Status.raw``
keeps the word exactly as received. A word the table does not know becomes ``unknown`` with
one :class:`UnknownStatusWarning` per (vendor, word) — never a crash, because a vendor adding
a status word must not take down a dashboard that lists a thousand tasks.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import NamedTuple

import attrs

from taskhub import signals
from taskhub.errors import UnknownStatus, UnknownStatusWarning
from taskhub.model import Status
from taskhub.states import State


@attrs.frozen
class Rule:
    """What one vendor word means: a state, and optionally a reason and retryability."""

    state: State
    reason: str | None = None
    retryable: bool | None = None


class Hints(NamedTuple):
    """What else the vendor said next to the status word, for rules that depend on it."""

    # A NamedTuple, not an attrs class: one is built per normalized status, on the hot path.
    message: str | None = None
    retries: int | None = None
    progress: float | None = None
    reason: str | None = None
    retryable: bool | None = None


#: A vendor's refinement: given the table's rule (None for an unknown word) and the hints,
#: return the rule that applies. Vionlabs uses it to fail any task whose ``error`` is set.
Refine = Callable[[Rule | None, Hints], Rule | None]

#: The (vendor, word) pairs already warned about, oldest first, at most :data:`WARNED_MAX`:
#: a vendor sending a new word in every answer must not grow memory (or stderr) for ever.
_warned: OrderedDict[tuple[str, str], None] = OrderedDict()
_warned_lock = threading.Lock()
WARNED_MAX = 1000
#: The most characters of an unknown word a warning shows.
WORD_SHOWN = 64


class StatusTable:
    """One vendor's status vocabularies (task, job, execution ...) and their meaning.

    ``vocabularies`` maps a vocabulary name to ``{word: Rule or State}``; the first one is the
    default. ``report`` maps the states a worker may report to the word the vendor takes.
    ``notes`` are sentences for the generated docs, describing what ``refine`` does;
    ``refine_states`` limits it to words of those states (None: every word).
    """

    def __init__(
        self,
        vendor: str,
        vocabularies: Mapping[str, Mapping[str, Rule | State]],
        *,
        refine: Refine | None = None,
        refine_states: frozenset[State] | None = None,
        report: Mapping[State, str] | None = None,
        notes: tuple[str, ...] = (),
    ) -> None:
        if not vocabularies:
            raise ValueError("a status table needs at least one vocabulary")
        self.vendor = vendor
        self.refine = refine
        #: When set, ``refine`` only sees words of these states (and unknown words), which
        #: spares the hot path a call for every other word.
        self.refine_states = refine_states
        self.report: Mapping[State, str] = dict(report or {})
        self.notes = notes
        self.vocabularies: dict[str, dict[str, Rule]] = {
            name: {word: r if isinstance(r, Rule) else Rule(r) for word, r in words.items()}
            for name, words in vocabularies.items()
        }
        self.default = next(iter(self.vocabularies))
        # Exact spellings and their case variants up front, so the common lookup is one dict hit.
        self._index: dict[str, dict[str, Rule]] = {}
        for name, words in self.vocabularies.items():
            index: dict[str, Rule] = {}
            for word, rule in words.items():
                for variant in (word, word.lower(), word.upper(), word.strip().casefold()):
                    index[variant] = rule
            self._index[name] = index

    def lookup(self, word: str, vocabulary: str | None = None) -> Rule | None:
        """The rule for ``word``, or None when the vocabulary does not have it."""
        index = self._index[vocabulary or self.default]
        rule = index.get(word)
        if rule is None and isinstance(word, str):
            rule = index.get(word.strip().casefold())
        return rule

    def normalize(
        self,
        raw: str | None,
        vocabulary: str | None = None,
        *,
        strict: bool = False,
        message: str | None = None,
        retries: int | None = None,
        progress: float | None = None,
        reason: str | None = None,
        retryable: bool | None = None,
        updated_at: datetime | None = None,
    ) -> Status:
        """Build the Status for one vendor word and what came with it."""
        index = self._index.get(vocabulary or self.default)
        if index is None:
            raise ValueError(
                f"{self.vendor} has no status vocabulary {vocabulary!r}; "
                f"known: {', '.join(self._index)}"
            )
        word = raw if type(raw) is str or isinstance(raw, str) else None
        rule = None
        if word is not None:
            rule = index.get(word)
            if rule is None:
                rule = index.get(word.strip().casefold())
        if self.refine is not None and (
            self.refine_states is None or rule is None or rule.state in self.refine_states
        ):
            rule = self.refine(rule, Hints(message, retries, progress, reason, retryable))
        if rule is None:
            shown = repr(raw) if word is None else word
            if strict:
                raise UnknownStatus(self.vendor, shown)
            if signals.on_unknown_status:
                signals.emit(signals.on_unknown_status, self.vendor, shown)
            _warn_once(self.vendor, shown)
            rule = _UNKNOWN
        return Status(
            state=rule.state,
            raw=word if word is not None else (None if raw is None else str(raw)),
            vendor=self.vendor,
            reason=rule.reason,
            message=message or None,
            retryable=rule.retryable if rule.retryable is not None else retryable,
            progress=progress
            if type(progress) is float and 0.0 <= progress <= 1.0
            else (None if progress is None else _clamp(progress)),
            retries=retries,
            updated_at=updated_at,
        )

    def words(self, vocabulary: str | None = None) -> dict[str, Rule]:
        """The documented words of one vocabulary, as declared."""
        return dict(self.vocabularies[vocabulary or self.default])


_UNKNOWN = Rule(State.UNKNOWN)


def _warn_once(vendor: str, word: str) -> None:
    shown = word if len(word) <= WORD_SHOWN else word[: WORD_SHOWN - 1] + "…"
    key = (vendor, shown)
    with _warned_lock:
        if key in _warned:
            _warned.move_to_end(key)
            return
        _warned[key] = None
        if len(_warned) > WARNED_MAX:
            _warned.popitem(last=False)
    warnings.warn(
        f"{vendor} sent the unknown status word {shown!r}; it is normalized to 'unknown'",
        UnknownStatusWarning,
        stacklevel=4,
    )


def _clamp(progress: float | None) -> float | None:
    if progress is None or isinstance(progress, bool):
        return None
    try:
        value = float(progress)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(value):
        return None
    return min(1.0, max(0.0, value))
