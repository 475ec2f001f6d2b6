"""Typed submit specs: what a vendor can be asked to do, checked when the spec is made.

Each vendor package defines frozen spec classes (``taskhub.adapters.livepeer.specs.Upload``,
``taskhub.adapters.cognite.specs.Run``, …) whose fields a type checker sees. A spec is
validated as it is constructed — before any hub exists, let alone a request — and raises
:class:`~taskhub.errors.InvalidRequest` naming the field, the way a bad ``[jobs.NAME]`` spec in a
configuration names its key. ``hub.submit(spec)`` hands :meth:`Spec.fields` to the same
adapter code that ``hub.submit(**fields)`` reaches, so both paths send the same request.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, ClassVar

import attrs

from taskhub import redact
from taskhub.errors import InvalidRequest

#: An attrs validator: (instance, attribute, value) -> None.
Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


@attrs.frozen(repr=False)
class Spec:
    """Base of every vendor's submit specs.

    A subclass declares attrs fields with validators from this module; ``wire`` names the
    fields whose submit keyword differs from the attribute (``playback_id`` is
    ``playbackId``), and a field named ``extra`` (a mapping) takes any other keyword as is.
    """

    #: The vendor whose hubs take this spec.
    vendor: ClassVar[str] = ""
    #: For a vendor with several specs: the ``kind`` keyword that selects this one.
    kind: ClassVar[str | None] = None
    #: Submit keyword of each attribute whose name differs.
    wire: ClassVar[Mapping[str, str]] = {}

    def fields(self) -> dict[str, Any]:
        """The keyword arguments of ``hub.submit(**fields)`` this spec stands for — the same
        keys a ``[jobs.NAME]`` spec holds in a configuration."""
        out: dict[str, Any] = {} if self.kind is None else {"kind": self.kind}
        extra: Mapping[str, Any] = {}
        for field in attrs.fields(type(self)):
            value = getattr(self, field.name)
            if field.name == "extra":
                extra = value
            elif value is not None:
                out[self.wire.get(field.name, field.name)] = plain(value)
        return {**out, **{k: plain(v) for k, v in extra.items()}}

    def __repr__(self) -> str:
        # A spec holds URLs, payloads and credentials as the caller wrote them: shown, they
        # are masked as anything taskhub renders is (signed queries, secret fields, tokens).
        policy = redact.current()
        shown = ", ".join(
            f"{a.name}={policy.data(getattr(self, a.name))!r}"
            for a in attrs.fields(type(self))
            if a.repr
        )
        return f"{type(self).__name__}({shown})"

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any]) -> Spec:
        """The spec that ``fields`` (submit keywords, as a configuration writes them) stand
        for, checked as if it was made in code; errors name the keyword as written."""
        if not isinstance(fields, Mapping):
            raise InvalidRequest(
                f"{cls.__name__} fields must be a mapping of submit keywords, "
                f"not {type(fields).__name__}",
                field="spec",
                vendor=cls.vendor,
                operation="submit",
            )
        attributes = {a.name for a in attrs.fields(cls)}
        names = {cls.wire.get(a, a): a for a in attributes if a != "extra"}
        kwargs: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in fields.items():
            if key == "kind" and cls.kind is not None:
                continue
            if key in names:
                kwargs[names[key]] = value
            elif "extra" in attributes:
                extra[key] = value
            else:
                raise InvalidRequest(
                    f"{cls.__name__} has no field {key!r} (it takes {', '.join(sorted(names))})",
                    field=key,
                    vendor=cls.vendor,
                    operation="submit",
                )
        if extra:
            kwargs["extra"] = extra
        missing = [
            cls.wire.get(a.name, a.name)
            for a in attrs.fields(cls)
            if a.default is attrs.NOTHING and a.name not in kwargs
        ]
        if missing:
            raise InvalidRequest(
                f"{cls.__name__} needs {', '.join(missing)}",
                field=missing[0],
                vendor=cls.vendor,
                operation="submit",
            )
        try:
            return cls(**kwargs)
        except InvalidRequest as exc:
            # Name the keyword as the caller wrote it: "playbackId", "bogus" (not "extra.bogus").
            name = exc.field or ""
            wire = name[len("extra.") :] if name.startswith("extra.") else cls.wire.get(name, name)
            raise InvalidRequest(
                exc.message.replace(f".{exc.field}:", f".{wire}:", 1),
                field=wire,
                vendor=cls.vendor,
                operation="submit",
            ) from None


def spec_for(specs: Sequence[type[Spec]], fields: Mapping[str, Any]) -> Spec:
    """The spec among a vendor's ``specs`` that ``fields`` stand for: chosen by their
    ``kind`` where the vendor has several (the first spec's kind when none is given)."""
    if len(specs) == 1 and specs[0].kind is None:
        return specs[0].from_fields(fields)
    kinds = {s.kind: s for s in specs}
    kind = fields.get("kind", specs[0].kind)
    chosen = kinds.get(kind) if isinstance(kind, str) else None
    if chosen is None:
        raise InvalidRequest(
            f"unknown kind {kind!r}; {specs[0].vendor} can submit "
            f"{', '.join(str(k) for k in kinds)}",
            field="kind",
            vendor=specs[0].vendor,
            operation="submit",
        )
    return chosen.from_fields(fields)


def invalid(spec: Spec, name: str, message: str) -> InvalidRequest:
    """The error for a spec field ``name`` (a validator's, or a spec's own check of how its
    fields go together)."""
    return InvalidRequest(
        f"{type(spec).__name__}.{name}: {message}",
        field=name,
        vendor=spec.vendor,
        operation="submit",
    )


def text(*, optional: bool = False, hint: str = "") -> Validator:
    """A non-blank string (or None when ``optional``); ``hint`` is added when it is not a
    string at all (``'versions too: "1", not 1'``)."""

    def check(spec: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        if not isinstance(value, str):
            more = f" ({hint})" if hint else ""
            raise invalid(
                spec, attribute.name, f"must be a string, not {type(value).__name__}{more}"
            )
        if not value.strip():
            raise invalid(spec, attribute.name, "must not be empty")

    return check


def one_of(choices: Sequence[str]) -> Validator:
    """One of ``choices``."""

    def check(spec: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value not in choices:
            raise invalid(
                spec,
                attribute.name,
                f"unknown {attribute.name} {value!r}; expected one of "
                f"{', '.join(map(str, choices))}",
            )

    return check


#: How deep a spec's JSON may nest (the transport refuses answers deeper than this too).
MAX_DEPTH = 100


def _json_problem(value: Any, path: str) -> tuple[str, str] | None:
    """The first place in ``value`` that JSON cannot carry faithfully, as (path, what is
    wrong): a key that is not a string, a value of no JSON type, a number that is not finite,
    nesting deeper than :data:`MAX_DEPTH`. Iterative, so no input can exhaust the stack."""
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            return where, f"nests deeper than {MAX_DEPTH} levels"
        if item is None or isinstance(item, (str, bool, int)):
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                return where, f"{item!r} is not a JSON number"
            continue
        if isinstance(item, Mapping):
            for key, inner in item.items():
                if not isinstance(key, str):
                    return where, f"has a key {key!r} that is not a string"
                stack.append((inner, f"{where}.{key}", depth + 1))
            continue
        if isinstance(item, (list, tuple)):
            stack.extend((inner, f"{where}[{n}]", depth + 1) for n, inner in enumerate(item))
            continue
        return where, f"a {type(item).__name__} is not a JSON value"
    return None


def _json(spec: Any, name: str, value: Any) -> None:
    problem = _json_problem(value, name)
    if problem is not None:
        raise invalid(spec, problem[0], problem[1])


def mapping(*, optional: bool = False, keys: Collection[str] | None = None) -> Validator:
    """A JSON object, or None when ``optional``; with ``keys``, only those top-level keys (the
    vendor's documented body fields), so a typo is caught here and not by the vendor."""

    def check(spec: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        if not isinstance(value, Mapping):
            raise invalid(spec, attribute.name, "expected a JSON object (a dict with str keys)")
        _json(spec, attribute.name, value)
        if keys is not None:
            for key in value:
                if key not in keys:
                    raise invalid(
                        spec,
                        f"{attribute.name}.{key}",
                        f"{type(spec).__name__} takes no field {key!r} (other fields it "
                        f"takes: {', '.join(sorted(keys))})",
                    )

    return check


def objects(*, optional: bool = False, empty: bool = False) -> Validator:
    """A list of JSON objects (non-empty unless ``empty``), or None when ``optional``."""

    def check(spec: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
            raise invalid(spec, attribute.name, "expected a list of JSON objects")
        if not value and not empty:
            raise invalid(spec, attribute.name, "must be a non-empty list")
        for n, item in enumerate(value):
            if not isinstance(item, Mapping):
                raise invalid(spec, f"{attribute.name}[{n}]", "expected a JSON object")
        _json(spec, attribute.name, list(value))

    return check


def number(*, optional: bool = False, minimum: float | None = None) -> Validator:
    """A real number (not a bool), at least ``minimum``; or None when ``optional``."""

    def check(spec: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise invalid(spec, attribute.name, "expected a number")
        if not math.isfinite(value):
            raise invalid(spec, attribute.name, f"{value!r} is not a JSON number")
        if minimum is not None and value < minimum:
            raise invalid(spec, attribute.name, f"must be at least {minimum}")

    return check


def flag(*, optional: bool = False) -> Validator:
    """A bool, or None when ``optional``."""

    def check(spec: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        if not isinstance(value, bool):
            raise invalid(spec, attribute.name, "expected true or false")

    return check


def plain(value: Any) -> Any:
    """``value`` with mappings and sequences copied into plain dicts and lists (what JSON and
    the adapters take), so a caller's later change to its own dict cannot reach a spec."""
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


__all__ = [
    "Spec",
    "flag",
    "invalid",
    "mapping",
    "number",
    "objects",
    "one_of",
    "plain",
    "spec_for",
    "text",
]
