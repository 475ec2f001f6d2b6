"""Vendor name -> adapter class, through the ``taskhub.adapters`` entry-point group.

The five built-in adapters are registered in setup.cfg exactly as a third-party adapter would
be, so a plugin is a peer. Classes are imported only when a name is first used, which keeps
``import taskhub`` light. A plugin may add vendors but never silently replace a built-in.
"""

from __future__ import annotations

import difflib
import importlib
import threading
import warnings
from datetime import datetime
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING

import attrs

from taskhub.errors import ConfigError

if TYPE_CHECKING:
    from taskhub.adapter import Adapter
    from taskhub.model import Status
    from taskhub.statuses import StatusTable

GROUP = "taskhub.adapters"
_BUILTIN_DIST = "taskhub"


@attrs.frozen
class Entry:
    """Where one vendor's adapter lives, and who provided it."""

    name: str
    target: str
    provider: str
    builtin: bool


_lock = threading.RLock()
_entries: dict[str, Entry] | None = None
_runtime: dict[str, Entry | type[Adapter]] = {}
_loaded: dict[str, type[Adapter]] = {}


def _discover() -> dict[str, Entry]:
    found: dict[str, Entry] = {}
    for ep in entry_points(group=GROUP):
        entry = _entry_from(ep)
        other = found.get(entry.name)
        if other is not None and other.builtin and not entry.builtin:
            warnings.warn(
                f"the plugin {entry.provider!r} also registers the vendor {entry.name!r}; "
                "the built-in adapter is kept (use register_adapter(..., replace=True) to "
                "replace it on purpose)",
                RuntimeWarning,
                stacklevel=2,
            )
            continue
        found[entry.name] = entry
    return found


def _entry_from(ep: EntryPoint) -> Entry:
    dist = getattr(ep, "dist", None)
    provider = dist.name if dist is not None else "unknown"
    return Entry(ep.name, ep.value, provider, provider == _BUILTIN_DIST)


def entries() -> dict[str, Entry]:
    """Every known vendor name and where its adapter lives."""
    global _entries
    with _lock:
        if _entries is None:
            _entries = _discover()
        merged: dict[str, Entry] = dict(_entries)
        for name, item in _runtime.items():
            merged[name] = (
                item
                if isinstance(item, Entry)
                else Entry(name, f"{item.__module__}:{item.__qualname__}", "runtime", False)
            )
        return dict(sorted(merged.items()))


def names() -> list[str]:
    """The vendor names that can be used in configuration."""
    return list(entries())


def register_adapter(name: str, target: str | type[Adapter], *, replace: bool = False) -> None:
    """Register an adapter at run time, by class or by ``"module:Class"`` string.

    Replacing a vendor that is already known (a built-in above all) needs ``replace=True``.
    """
    if not name or not isinstance(name, str):
        raise ConfigError("an adapter needs a non-empty vendor name")
    with _lock:
        current = entries().get(name)
        if current is not None and not replace:
            kind = "built-in" if current.builtin else f"from {current.provider}"
            raise ConfigError(
                f"the vendor {name!r} is already registered ({kind}); "
                "pass replace=True to replace it"
            )
        if isinstance(target, str):
            if ":" not in target:
                raise ConfigError(f"adapter target {target!r} must look like 'module:Class'")
            _runtime[name] = Entry(name, target, "runtime", False)
        else:
            _runtime[name] = target
        _loaded.pop(name, None)


def unregister_adapter(name: str) -> None:
    """Forget a run-time registration (the entry point, if any, applies again)."""
    with _lock:
        _runtime.pop(name, None)
        _loaded.pop(name, None)


def load(name: str) -> type[Adapter]:
    """The adapter class for ``name``; a ConfigError with the known names if there is none."""
    with _lock:
        cls = _loaded.get(name)
        if cls is not None:
            return cls
        item = _runtime.get(name)
        if item is not None and not isinstance(item, Entry):
            cls = item
        else:
            entry = entries().get(name)
            if entry is None:
                raise ConfigError(unknown_vendor_message(name))
            cls = _import(entry)
        _loaded[name] = cls
        return cls


def status_table(name: str) -> StatusTable:
    """The status table the vendor ``name`` declares."""
    return load(name).statuses


def normalize(
    vendor: str,
    raw: str | None,
    *,
    vocabulary: str | None = None,
    strict: bool = False,
    message: str | None = None,
    retries: int | None = None,
    progress: float | None = None,
    reason: str | None = None,
    retryable: bool | None = None,
    updated_at: datetime | None = None,
) -> Status:
    """Normalize one vendor status word (plus hints such as the error text) into a Status.

    ``vendor`` is a registered vendor name; ``vocabulary`` picks e.g. ``"execution"`` for a
    vendor with more than one; ``strict=True`` raises :class:`UnknownStatus` for a word the
    vendor's table does not know instead of returning ``unknown``.
    """
    return status_table(vendor).normalize(
        raw,
        vocabulary,
        strict=strict,
        message=message,
        retries=retries,
        progress=progress,
        reason=reason,
        retryable=retryable,
        updated_at=updated_at,
    )


def unknown_vendor_message(name: str, extra: list[str] | None = None) -> str:
    """'unknown vendor' with a did-you-mean and the known names."""
    known = sorted(set(names()) | set(extra or []))
    text = f"unknown vendor or backend {name!r}"
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        text += f"; did you mean {close[0]!r}?"
    return text + f" (known: {', '.join(known)})"


def _import(entry: Entry) -> type[Adapter]:
    module_name, _, attr = entry.target.partition(":")
    try:
        module = importlib.import_module(module_name)
        obj: object = module
        for part in attr.split("."):
            obj = getattr(obj, part)
    except ImportError as exc:
        missing = exc.name or module_name
        hint = (
            "reinstall taskhub"
            if entry.builtin
            else f"install the package that provides it ({entry.provider})"
        )
        raise ConfigError(
            f"the adapter for {entry.name!r} could not be imported: module {missing!r} is "
            f"missing; {hint}"
        ) from exc
    except AttributeError as exc:
        raise ConfigError(f"the adapter target {entry.target!r} does not exist") from exc
    from taskhub.adapter import Adapter

    if not (isinstance(obj, type) and issubclass(obj, Adapter)):
        raise ConfigError(f"{entry.target!r} is not a taskhub Adapter subclass")
    return obj
