"""A task's input and output assets as the URIs lineage and Airflow assets name them.

No Airflow here. One rule for both: an asset's URI keeps its scheme, host (and port) and
path, and loses its query, fragment and user info — a signed URI's signature and any
credential live there, and an asset is the same asset whatever signature served it. An
asset the vendor names only by id (a Livepeer asset, a Veritone TDO) is
``<vendor>://<API host>/<kind>/<id>``, so the same asset has the same name in every DAG
that touches it. The OpenLineage dataset of a URI has the scheme and host as its namespace
and the path as its name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import attrs


@attrs.frozen
class Named:
    """One asset, named: its URI (no query), and the OpenLineage namespace and name."""

    uri: str
    namespace: str
    name: str
    #: The asset's kind as the vendor's adapter gave it (``media``, ``hls``, ``asset``, ...).
    kind: str | None = None


def named(asset: Mapping[str, Any], *, vendor: str, api: str | None) -> Named | None:
    """``asset`` (a ``Task.to_dict()`` asset) named; None when it has neither a URI with a
    host nor an id (``api``: the vendor's base URL, for an asset known only by id)."""
    kind = asset.get("kind") if isinstance(asset.get("kind"), str) else None
    uri = asset.get("uri")
    if isinstance(uri, str) and uri:
        found = _from_uri(uri, kind)
        if found is not None:
            return found
    asset_id = asset.get("id")
    host = _authority(api) if api else None
    if not isinstance(asset_id, str) or not asset_id or host is None:
        return None
    path = f"/{quote(kind or 'asset', safe='')}/{quote(asset_id, safe='')}"
    namespace = f"{vendor}://{host}"
    return Named(f"{namespace}{path}", namespace, path, kind)


def of_task(task: Mapping[str, Any] | None, key: str, *, api: str | None) -> tuple[Named, ...]:
    """The named ``inputs`` or ``outputs`` (``key``) of a task dict, each once."""
    if not isinstance(task, Mapping):
        return ()
    vendor = task.get("vendor")
    assets = task.get(key)
    if not isinstance(vendor, str) or not isinstance(assets, Iterable):
        return ()
    found: dict[str, Named] = {}
    for asset in assets:
        if isinstance(asset, Mapping):
            item = named(asset, vendor=vendor, api=api)
            if item is not None:
                found.setdefault(item.uri, item)
    return tuple(found.values())


def _from_uri(uri: str, kind: str | None) -> Named | None:
    try:
        parts = urlsplit(uri)
    except ValueError:
        return None
    host = _authority(uri)
    if not parts.scheme or host is None:
        return None
    namespace = f"{parts.scheme.lower()}://{host}"
    path = parts.path or "/"
    return Named(f"{namespace}{path}", namespace, path, kind)


def _authority(url: str) -> str | None:
    """``host[:port]`` of ``url``, without user info; None when it has no host."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host:
        return None
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    return f"{host}:{port}" if port is not None else host


__all__ = ["Named", "named", "of_task"]
