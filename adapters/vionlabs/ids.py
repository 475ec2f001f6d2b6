"""One string for a Vionlabs task: its (inventory_id, product, version) triple.

Each part is percent-encoded (every character but unreserved ones) and the three are joined
with ``/``, so any id the vendor allows round-trips, and each part is already safe to put in
the request path as one segment.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

from taskhub.errors import InvalidRequest

PARTS = ("inventory_id", "product", "version")


def make_id(inventory_id: str, product: str, version: str) -> str:
    """The taskhub id of the task for this item, product and version."""
    for name, value in zip(PARTS, (inventory_id, product, version), strict=True):
        check_part(name, value)
    return "/".join(quote(p, safe="") for p in (inventory_id, product, version))


def check_part(name: str, value: object) -> str:
    """One part of the triple as the API can address it.

    The API's framework decodes the path before routing, so a ``/`` inside a part (even sent
    as ``%2F``) splits it and the task cannot be reached (404); ``.`` and ``..`` are path steps.
    Such parts are refused before any request.
    """
    if not isinstance(value, str) or not value:
        raise InvalidRequest(f"{name} must be a non-empty string", field=name, vendor="vionlabs")
    if "/" in value or value in (".", "..") or any(ord(c) < 32 for c in value):
        raise InvalidRequest(
            f"{name} {value[:40]!r} cannot be addressed by the Vionlabs API (no '/', control "
            "characters, '.' or '..')",
            field=name,
            vendor="vionlabs",
        )
    return value


def split_id(task_id: str) -> tuple[str, str, str]:
    """The (inventory_id, product, version) a taskhub id stands for."""
    parts = task_id.split("/")
    if len(parts) != 3 or not all(parts):
        raise InvalidRequest(
            f"{task_id!r} is not a Vionlabs task id: expected inventory_id/product/version "
            "(as made by submit)",
            field="task_id",
            vendor="vionlabs",
        )
    decoded = [unquote(p) for p in parts]
    for name, part, value in zip(PARTS, parts, decoded, strict=True):
        try:
            check_part(name, value)
        except InvalidRequest as exc:
            raise InvalidRequest(exc.message, field="task_id", vendor="vionlabs") from None
        if quote(value, safe="") != part:
            raise InvalidRequest(
                f"{task_id[:80]!r} is not a Vionlabs task id: its {name} is not percent-encoded "
                "as submit makes it",
                field="task_id",
                vendor="vionlabs",
            )
    inventory_id, product, version = decoded
    return inventory_id, product, version
