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
        if not isinstance(value, str) or not value:
            raise InvalidRequest(
                f"{name} must be a non-empty string", field=name, vendor="vionlabs"
            )
    return "/".join(quote(p, safe="") for p in (inventory_id, product, version))


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
    inventory_id, product, version = (unquote(p) for p in parts)
    return inventory_id, product, version
