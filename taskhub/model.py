"""Task, Status and Asset, the one timestamp parser, and the one cattrs converter.

Everything here is frozen: a Task is a snapshot of what a vendor said at one moment. ``raw``
keeps the vendor's JSON for whoever needs a field taskhub does not model; it takes no part in
equality or repr, so two polls that say the same thing compare equal.
"""

from __future__ import annotations

import difflib
import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from dateutil import parser as _dateutil

from taskhub import redact
from taskhub.errors import InvalidRequest
from taskhub.options import InvalidOption as InvalidOption  # defined in the leaf module
from taskhub.states import State

UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A number at or above this is milliseconds: as seconds it would be past the year 5000.
_MS_THRESHOLD = 100_000_000_000
# fromtimestamp is used below this (the year 9999); beyond it, and for negatives, timedelta.
_FAST_LIMIT_MS = 253_402_300_800_000
_NUMERIC = re.compile(r"^[+-]?\d+(\.\d+)?$")


def parse_time(value: object) -> datetime | None:
    """Turn any vendor timestamp into an aware UTC datetime (None stays None).

    Accepts epoch seconds and epoch milliseconds (numbers or numeric strings), ISO 8601 with or
    without a zone (a zoneless time is taken as UTC, which is what every vendor here means),
    and datetimes. Anything else raises ``ValueError`` naming the value.
    """
    if type(value) is int:  # the common case first: epoch s or ms from JSON
        return _from_number(value)
    if value is None or value == "":
        return None
    if type(value) is str:
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            if _NUMERIC.match(text):
                return parse_time(float(text) if "." in text else int(text))
            return _parse_iso(text)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, str):
        return parse_time(str(value))
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"not a timestamp: {value!r}")
        return _from_number(value)
    raise ValueError(f"not a timestamp: {value!r}")


def _from_number(value: float) -> datetime:
    try:
        if abs(value) >= _MS_THRESHOLD:
            if 0 <= value < _FAST_LIMIT_MS:
                # 2.4x faster than epoch + timedelta, and exact to the millisecond here.
                return datetime.fromtimestamp(value / 1000, UTC)
            return _EPOCH + timedelta(milliseconds=value)
        if 0 <= value < _FAST_LIMIT_MS // 1000:
            return datetime.fromtimestamp(value, UTC)
        return _EPOCH + timedelta(seconds=value)
    except OverflowError:
        raise ValueError(f"timestamp out of range: {value!r}") from None


def _parse_iso(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = _dateutil.isoparse(text)
        except (ValueError, OverflowError):
            raise ValueError(f"not a timestamp: {text!r}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def split_ref(ref: str) -> tuple[str, str]:
    """``(backend, id)`` from ``"<backend>:<id>"`` (split at the first colon: a backend name
    has none, an id may)."""
    backend, sep, task_id = ref.partition(":")
    if not sep or not backend.strip() or not task_id:
        raise InvalidRequest(f"{ref[:80]!r} is not a reference: expected BACKEND:ID", field="ref")
    return backend, task_id


def format_time(value: datetime) -> str:
    """The one textual form taskhub writes: ISO 8601 in UTC with a ``Z``."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


#: The most characters of a vendor's free text a Task keeps (docs/security.md): a status
#: message, and the status word and reason. Longer text is cut, ending with :data:`CUT`.
MESSAGE_CAP = 4000
WORD_CAP = 256
REASON_CAP = 128
#: What ends a string that was cut.
CUT = "…[cut]"


def cap(value: str | None, limit: int) -> str | None:
    """``value`` cut to ``limit`` characters, ending with :data:`CUT` when it was cut."""
    if value is None or len(value) <= limit:
        return value
    return value[: limit - len(CUT)] + CUT


def _redacted_repr(value: object) -> str:
    return redact.text(repr(value))


def _redacted_uri(value: str | None) -> str:
    return repr(redact.url(value)) if value else repr(value)


# Not slotted: attrs then fills a frozen instance's __dict__ directly instead of calling
# object.__setattr__ per field, which makes construction ~40% cheaper (see bench/p4).
@attrs.frozen
class Status:
    """One normalized status: the state, the vendor's own word, and why."""

    state: State
    #: The vendor's status word exactly as received.
    raw: str | None = None
    vendor: str | None = None
    #: A short machine word: ``timed_out``, ``terminal_error``, ``aborted``, ``retrying`` ...
    reason: str | None = None
    #: The vendor's error text, when it sent one.
    message: str | None = attrs.field(default=None, repr=_redacted_repr)
    #: Whether trying again can help: True, False, or None when the vendor does not say.
    retryable: bool | None = None
    #: 0.0 to 1.0, or None when the vendor reports no progress.
    progress: float | None = None
    #: The vendor's retry counter, when it keeps one.
    retries: int | None = None
    updated_at: datetime | None = None

    @property
    def terminal(self) -> bool:
        """The task will not change any more (short of a retry)."""
        return self.state.terminal


@attrs.frozen(slots=False)
class Asset:
    """A file a task reads or writes. A signed ``uri`` is a secret: repr shows no query string."""

    id: str | None = None
    uri: str | None = attrs.field(default=None, repr=_redacted_uri)
    content_type: str | None = None
    #: What the file is to the vendor: media, transcript, output ...
    kind: str | None = None
    name: str | None = None
    size: int | None = None
    created_at: datetime | None = None


@attrs.frozen(slots=False)
class Task:
    """One vendor task (or job, or execution) as taskhub sees it."""

    #: The configured backend name this task came through.
    backend: str
    vendor: str
    id: str
    status: Status
    #: job, execution, upload, transcode-file, an engine id, a product ...
    kind: str | None = None
    parent_id: str | None = None
    subtasks: tuple[Task, ...] = ()
    inputs: tuple[Asset, ...] = ()
    outputs: tuple[Asset, ...] = ()
    params: dict[str, Any] = attrs.field(factory=dict, repr=_redacted_repr)
    output: Any = attrs.field(default=None, repr=_redacted_repr)
    created_at: datetime | None = None
    started_at: datetime | None = None
    updated_at: datetime | None = None
    finished_at: datetime | None = None
    #: The vendor's JSON, untouched. Not part of equality, repr or ``to_dict()``.
    raw: Any = attrs.field(default=None, eq=False, repr=False)
    #: The redaction policy of the hub that read this task (None: made by hand or rebuilt
    #: from JSON). Everything that renders the task masks with it. Not part of equality,
    #: repr or ``to_dict()``.
    policy: redact.Policy | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def ref(self) -> str:
        """``"<backend>:<id>"``, the reference the CLI and dashboards use (see
        :func:`split_ref`); every hub call that takes an id takes a ref or a Task too."""
        return f"{self.backend}:{self.id}"

    @property
    def state(self) -> State:
        """Shorthand for ``task.status.state``."""
        return self.status.state

    @property
    def redaction(self) -> redact.Policy:
        """The policy that renders this task: its hub's, else its vendor's declared one."""
        return self.policy or redact.for_vendor(self.vendor)

    def to_dict(
        self,
        *,
        include_raw: bool = False,
        reveal_secrets: bool = False,
        policy: redact.Policy | None = None,
    ) -> dict[str, Any]:
        """This task as JSON-ready data, in the shape docs/task.schema.json describes.

        Secrets are masked unless ``reveal_secrets``: credential fields in ``params``,
        ``output`` and ``raw`` (a transcode's ``secretAccessKey``, any ``password`` or
        ``token``, and the names the vendor's adapter declares) and the query of a signed
        URI — and, for a task a hub read, that hub's own secret values wherever they appear
        (``policy``: render with this policy instead of the task's own). Dashboards, logs and
        the CLI get this masked form; ``reveal_secrets=True`` is the lossless form for a
        process that must hand a task on whole.
        """
        data: dict[str, Any] = {"ref": self.ref, **converter.unstructure(self)}
        if include_raw:
            data["raw"] = self.raw
        if reveal_secrets:
            return data
        masked: dict[str, Any] = (policy or self.redaction).data(data)
        return masked

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Task:
        """Rebuild a Task from :meth:`to_dict` output (``ref`` is derived, so it is ignored)."""
        if not isinstance(data, dict):
            raise InvalidRequest("a task must be a JSON object", field="task")
        data = {k: v for k, v in data.items() if k != "ref"}
        try:
            return converter.structure(data, cls)
        except (ClassValidationError, ForbiddenExtraKeysError) as exc:
            raise InvalidRequest("; ".join(describe_error(exc, "task")), field="task") from exc


# -- the converter ----------------------------------------------------------------------------
# Primitive hooks are strict on purpose: configuration values arrive as TOML or as strings
# from environment variables, and ``bool("false")`` being True is exactly the kind of silent
# surprise a configuration loader must not have.

_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


def _structure_str(value: object, _: type) -> str:
    if isinstance(value, str):
        return value
    raise TypeError("expected a string")


def _structure_bool(value: object, _: type) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise TypeError("expected true or false")


def _structure_int(value: object, _: type) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        return int(value)
    raise TypeError("expected a whole number")


def _structure_float(value: object, _: type) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise TypeError("expected a number")


def _structure_time(value: object, _: type) -> datetime:
    parsed = parse_time(value)
    if parsed is None:
        raise ValueError("expected a timestamp")
    return parsed


def _structure_state(value: object, _: type) -> State:
    return State.parse(value)


def make_converter() -> cattrs.Converter:
    """Build the converter taskhub uses everywhere (exposed for adapters' option classes)."""
    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(float, _structure_float)
    conv.register_structure_hook(datetime, _structure_time)
    conv.register_unstructure_hook(datetime, format_time)
    conv.register_structure_hook(State, _structure_state)
    conv.register_unstructure_hook(State, lambda s: s.value)
    return conv


converter = make_converter()
# A Task's JSON leaves out what belongs to this process: the vendor's raw answer (to_dict adds
# it on request) and the hub's redaction policy.
converter.register_unstructure_hook(
    Task,
    make_dict_unstructure_fn(Task, converter, raw=override(omit=True), policy=override(omit=True)),
)
converter.register_structure_hook(
    Task, make_dict_structure_fn(Task, converter, policy=override(omit=True))
)


def describe_error(exc: BaseException, path: str) -> list[str]:
    """Turn a cattrs structuring error into ``"path.to.key: what was wrong"`` lines."""
    if isinstance(exc, InvalidOption):
        return [f"{path}.{exc.name}: {exc.problem}"]
    if isinstance(exc, ForbiddenExtraKeysError):
        known = [a.name for a in attrs.fields(exc.cl)] if attrs.has(exc.cl) else []
        return [f"{path}: {unknown_name(k, known, 'option')}" for k in sorted(exc.extra_fields)]
    if isinstance(exc, ClassValidationError):
        out: list[str] = []
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            name = getattr(note, "name", None)
            out += describe_error(sub, f"{path}.{name}" if name else path)
        names = {a.name for a in attrs.fields(exc.cl)} if attrs.has(exc.cl) else set()
        for sub in without:
            # A validator names its option first ("page_size must be ..."): make it the path.
            first, _, rest = str(sub).partition(" ")
            if rest and first in names:
                out.append(f"{path}.{first}: {rest}")
            else:
                out += describe_error(sub, path)
        return out
    if isinstance(exc, IterableValidationError):
        found: list[str] = []
        indexed, plain = exc.group_exceptions()
        for sub, inote in indexed:
            found += describe_error(sub, f"{path}[{getattr(inote, 'index', '?')}]")
        for sub in plain:
            found += describe_error(sub, path)
        return found
    if isinstance(exc, KeyError):
        return [f"{path}: required option is missing"]
    message = str(exc) or type(exc).__name__
    if " not in literal " in message:
        # cattrs says "<value> not in literal typing.Literal[...]": a refusal never quotes
        # the value (it may be a secret put in the wrong key), only what was expected.
        choices = message.split(" not in literal ", 1)[1]
        inside = choices[choices.find("[") + 1 : choices.rfind("]")] if "[" in choices else choices
        return [f"{path}: expected one of {inside}"]
    return [f"{path}: {message}"]


def unknown_name(key: object, known: Any, what: str) -> str:
    """``unknown <what> 'key'`` with a did-you-mean, or the names that would do."""
    choices = [str(k) for k in known]
    text = f"unknown {what} {str(key)!r}"
    close = difflib.get_close_matches(str(key), choices, n=1)
    if close:
        text += f"; did you mean {close[0]!r}?"
    elif choices:
        text += f" (expected one of: {', '.join(choices)})"
    return text
