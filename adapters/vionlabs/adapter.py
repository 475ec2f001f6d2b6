"""Vionlabs Tasks API: one task per (catalog item, product, version), plus the Catalog API."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Literal
from urllib.parse import quote, urlencode

import attrs
import requests

from taskhub.adapter import Adapter, IdRule, Options, secret, url_field
from taskhub.errors import MalformedResponse, OutcomeUnknown, TaskNotFound
from taskhub.http import ErrorInfo, Transport, body_json
from taskhub.model import Asset, Task
from taskhub.polling import PollPolicy

from .ids import check_part, make_id, split_id
from .parse import parse_payload
from .specs import PRIORITIES, PRODUCTS, Analysis
from .statuses import STATUSES

#: ProductType, the ``product`` path segment.
#: ItemType of catalog items.
ITEM_TYPES = ("standalone", "series", "season", "episode")


@attrs.frozen(kw_only=True)
class VionlabsOptions(Options):
    """Options of the ``vionlabs`` vendor."""

    api_key: str = secret()
    #: The Tasks/Catalog API root. Vionlabs publishes no default host.
    base_url: str = url_field()
    #: ``query`` sends ``?key=`` (preferred); ``header`` the deprecated ``X-API-Key``.
    auth: Literal["query", "header"] = attrs.field(
        default="query", validator=attrs.validators.in_(("query", "header"))
    )


class KeyParam(requests.auth.AuthBase):
    """Adds ``key=<API key>`` to every request's query string."""

    def __init__(self, key: str) -> None:
        self._key = key
        self._query = urlencode({"key": key})

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        # The URL is prepared already (requoted, fragment last): appending the encoded pair
        # gives what ``prepare_url(url, {"key": ...})`` gives, without parsing the URL again
        # and checking the params against requests' runtime protocols (~40 us a GET).
        base, mark, fragment = (request.url or "").partition("#")
        joiner = "&" if "?" in base else "?"
        request.url = f"{base}{joiner}{self._query}{mark}{fragment}"
        return request

    def __repr__(self) -> str:
        return "<KeyParam ***>"


def error_info(response: requests.Response) -> ErrorInfo:
    """FastAPI's ``{"detail": "..."}`` or ``{"detail": [{loc, msg, type}]}``."""
    try:
        body = body_json(response)
    except ValueError:
        return ErrorInfo(response.text[:200] or None)
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str):
        return ErrorInfo(detail)
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        problems = []
        for item in detail[:5]:
            loc = [str(p) for p in item.get("loc") or [] if p not in ("body", "path", "query")]
            problems.append(f"{'.'.join(loc) or 'request'}: {item.get('msg', 'invalid')}")
        first = detail[0].get("loc") or []
        return ErrorInfo(
            "; ".join(problems), detail[0].get("type"), field=str(first[-1]) if first else None
        )
    return ErrorInfo(None)


class VionlabsAdapter(Adapter):
    """Client for the Vionlabs Tasks and Catalog APIs."""

    vendor = "vionlabs"
    hub_class = "taskhub.adapters.vionlabs.hub:VionlabsHub"
    specs = (Analysis,)
    options_class = VionlabsOptions
    statuses = STATUSES
    simulator = "taskhub.adapters.vionlabs.simulator:VionlabsSimulator"
    # Vionlabs asks for status checks "every 30-60 seconds".
    poll = PollPolicy(initial=30.0, factor=1.5, ceiling=60.0)
    alternatives: ClassVar[dict[str, str]] = {
        "list": "the Tasks API has no listing; keep the ids submit returned, or list the "
        "catalog items (hub.ex_items())",
        "retry": "cancel the task (Vionlabs deactivates it) and submit the same (item, product, "
        "version) again",
        "report": "tasks are advanced by Vionlabs' own processing",
    }

    # A task id is the triple, each part percent-encoded (see ids.py); split_id checks the rest.
    id_rule = IdRule(
        re.compile(r"[A-Za-z0-9_.~%-]+/[A-Za-z0-9_.~%-]+/[A-Za-z0-9_.~%-]+"),
        "inventory_id/product/version as submit makes it, each part percent-encoded",
        1024,
    )

    options: VionlabsOptions

    def make_transport(self, session: requests.Session | None) -> Transport:
        o = self.options
        headers = {"Accept": "application/json"}
        if o.auth == "header":
            headers["X-API-Key"] = o.api_key
        return Transport(
            vendor=self.vendor,
            base_url=o.base_url,
            options=o,
            headers=headers,
            auth=KeyParam(o.api_key) if o.auth == "query" else None,
            error_info=error_info,
            session=session,
        )

    # -- tasks -------------------------------------------------------------------------------

    parser = staticmethod(parse_payload)

    def parse(self, payload: Any, task_id: str | None = None) -> Task:
        """A ``TaskResponse``; ``task_id`` says which triple it answers for (it has no id)."""
        return self.adopt(parse_payload(payload, self.backend, task_id))

    def submit(
        self,
        inventory_id: str = "",
        product: str = "",
        version: str = "",
        priority: str = "low",
        **extra: Any,
    ) -> Task:
        """Create the processing task for an ingested catalog item and a product version."""
        self.refuse_unknown(extra, "submit")
        if product not in PRODUCTS:
            raise self.invalid(
                f"unknown product {product!r}; expected one of {', '.join(PRODUCTS)}",
                field="product",
                operation="submit",
            )
        if priority not in PRIORITIES:
            raise self.invalid(
                f"unknown priority {priority!r}; expected one of {', '.join(PRIORITIES)}",
                field="priority",
                operation="submit",
            )
        task_id = make_id(inventory_id, product, version)
        try:
            body = self.transport.request_json(
                "POST",
                self._path(task_id),
                operation="submit",
                creates=True,
                json={"priority": priority},
            )
        except OutcomeUnknown as exc:
            exc.lookup.update({"task_id": task_id})
            raise
        task = self.parse(body, task_id)
        return attrs.evolve(task, params={**task.params, "priority": priority})

    def find_submitted(self, lookup: Mapping[str, Any]) -> Task | None:
        """A task is its triple: it exists or it does not (and POST again is a no-op)."""
        try:
            return self.get(str(lookup["task_id"]))
        except TaskNotFound:
            return None

    def get(self, task_id: str) -> Task:
        """The task's status (``GET``)."""
        return self.parse(self._call("GET", task_id, "get"), task_id)

    def cancel(self, task_id: str, *, reason: str | None = None) -> Task:
        """Deactivate the task (``DELETE``, "Deactivate Task"); Vionlabs takes no reason."""
        return self.parse(self._call("DELETE", task_id, "cancel"), task_id)

    def _call(self, method: str, task_id: str, operation: str) -> Any:
        path = self._path(task_id)
        try:
            return self.transport.request_json(method, path, operation=operation)
        except TaskNotFound as exc:
            exc.task_id = task_id
            raise

    @staticmethod
    def _path(task_id: str) -> str:
        split_id(task_id)  # validates before any request: each part is one encoded segment
        inventory, product, version = task_id.split("/")
        return f"/tasks/catalog-item/{inventory}/product/{product}/version/{version}"

    # -- catalog -------------------------------------------------------------------------------

    def upsert_item(
        self, /, id: str, type: str, title: str, asset_url: str | None = None, **fields: Any
    ) -> Asset:
        """Create or replace catalog item ``id`` (``PUT /catalog/v1/item``), the
        prerequisite of an analysis; ``fields`` (other item fields) are sent as given."""
        if not isinstance(id, str) or not id:
            raise self.invalid("id must be a non-empty string", field="id", operation="upsert_item")
        if type not in ITEM_TYPES:
            raise self.invalid(
                f"type must be one of {', '.join(ITEM_TYPES)}",
                field="type",
                operation="upsert_item",
            )
        if not isinstance(title, str) or not title:
            raise self.invalid(
                "title must be a non-empty string", field="title", operation="upsert_item"
            )
        body = {"id": id, "type": type, "title": title, **fields}
        if asset_url is not None:
            body["asset_url"] = asset_url
        self.transport.request("PUT", "/catalog/v1/item", operation="upsert_item", json=body)
        return _item_asset(body)

    def items(self, *, page_size: int = 500, allow_deleted: bool = False) -> Iterator[Asset]:
        """Every catalog item, fetched page by page (``page_num`` from 0) as the iterator is
        read."""
        page_num = 0
        while True:
            page = self.transport.request_json(
                "GET",
                "/catalog/v1/item",
                operation="items",
                params={
                    "page_num": page_num,
                    "page_size": page_size,
                    "allow_deleted": str(allow_deleted).lower(),
                },
            )
            if not isinstance(page, list):
                raise MalformedResponse(
                    "expected a JSON array of items", vendor=self.vendor, operation="items"
                )
            yield from (_item_asset(item) for item in page)
            if len(page) < page_size:
                return
            page_num += 1

    def item(self, type: str, inventory_id: str) -> Asset:
        """One catalog item."""
        inventory_id = check_part("inventory_id", inventory_id)
        if type not in ITEM_TYPES:
            raise self.invalid(
                f"type must be one of {', '.join(ITEM_TYPES)}", field="type", operation="item"
            )
        body = self.transport.request_json(
            "GET", f"/catalog/v1/item/{type}/{quote(inventory_id, safe='')}", operation="item"
        )
        return _item_asset(body)


def _item_asset(item: Any) -> Asset:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        raise MalformedResponse("not a catalog item", vendor="vionlabs", operation="items")
    uri = item.get("asset_url")
    title = item.get("title")
    return Asset(
        id=item["id"],
        uri=uri if isinstance(uri, str) else None,
        kind=item.get("type") if isinstance(item.get("type"), str) else None,
        name=title if isinstance(title, str) else None,
    )
