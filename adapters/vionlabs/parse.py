"""Vionlabs TaskResponse JSON -> Task."""

from __future__ import annotations

from typing import Any

from taskhub.errors import MalformedResponse, parsing
from taskhub.model import Asset, Task

from .ids import split_id
from .statuses import STATUSES

VENDOR = "vionlabs"


def parse_payload(payload: Any, backend: str, task_id: str | None = None) -> Task:
    """A ``TaskResponse``; ``task_id`` says which triple it answers for (it has no id), else
    it is read from the response's links. The vendor's pure parser (``VionlabsAdapter.parser``).
    """
    with parsing(VENDOR, "Vionlabs TaskResponse"):
        return _parse(payload, backend, task_id)


def _parse(payload: Any, backend: str, task_id: str | None) -> Task:
    if not isinstance(payload, dict) or not isinstance(payload.get("status"), (str, type(None))):
        raise MalformedResponse("not a Vionlabs TaskResponse", vendor=VENDOR, operation="parse")
    error = payload.get("error")
    if task_id is None:
        task_id = _id_from_links(payload)
    inventory_id, product, version = split_id(task_id)
    status = STATUSES.normalize(
        payload.get("status"), message=error if isinstance(error, str) else None
    )
    return Task(
        backend=backend,
        vendor=VENDOR,
        id=task_id,
        status=status,
        kind=product,
        inputs=(Asset(id=inventory_id, kind="catalog-item"),),
        params={"inventory_id": inventory_id, "product": product, "version": version},
        raw=payload,
    )


def _id_from_links(payload: dict[str, Any]) -> str:
    # A TaskResponse has no id; a dashboard holding one can still parse it via its links.
    links = payload.get("_links")
    for link in links.values() if isinstance(links, dict) else ():
        href = link.get("href", "") if isinstance(link, dict) else ""
        marker = "/tasks/catalog-item/"
        if marker in href:
            rest = href.split(marker, 1)[1].split("?", 1)[0].split("/")
            if len(rest) == 5 and rest[1] == "product" and rest[3] == "version":
                return "/".join((rest[0], rest[2], rest[4]))
    raise MalformedResponse(
        "a TaskResponse names no task: pass the task id it answers for",
        vendor=VENDOR,
        operation="parse",
    )
