"""A Vionlabs simulator: the Tasks API keyed by (item, product, version) and the Catalog API.

Tasks go ``pending`` -> ``processing`` (after ``pending_s``) -> ``done`` (after
``processing_s`` more). Failures come through ``error``, with the documented messages, chosen
by the catalog item: not in the catalog -> "Asset not found in the provided S3 location.";
``asset_url`` containing ``corrupt`` -> "Probe failed with error = …"; containing ``short`` ->
"Asset shorter than the minimum required length.". The status word a failed task shows and the
one DELETE answers with are not published; they are the settings ``failure_status`` and
``deactivated_status``. Validation errors are FastAPI's 422 ``{"detail": [...]}``, each entry
``{type, loc, msg, input[, ctx]}`` in Pydantic v2's words, path and body problems together.

Routing is on the decoded path, as the API's framework (FastAPI on an ASGI server) does: a
``%2F`` inside an inventory id becomes a ``/`` before routing, so no route matches (404
``{"detail": "Not Found"}``).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from email.message import Message
from typing import Any
from urllib.parse import quote

import attrs
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from taskhub.testing import Answer, Simulator

from .adapter import ITEM_TYPES
from .specs import PRODUCTS

NOT_FOUND = "Asset not found in the provided S3 location."
PROBE = "Probe failed with error = Invalid data found when processing input"
TOO_SHORT = "Asset shorter than the minimum required length."


@attrs.define
class _Task:
    inventory_id: str
    product: str
    version: str
    priority: str
    created: float
    deactivated: bool = False


class VionlabsSimulator(Simulator):
    """Vionlabs' Tasks and Catalog APIs."""

    vendor = "vionlabs"
    # The API's framework routes on the decoded path: "%2F" inside an id is a "/" by then, so
    # such an id cannot be reached (404). The base class routes on PATH_INFO, decoded likewise.
    raw_paths = False

    def __init__(
        self,
        *,
        api_key: str | None = None,
        pending_s: float = 2.0,
        processing_s: float = 4.0,
        priorities: tuple[str, ...] = ("low", "medium", "high"),
        failure_status: str = "processing",
        deactivated_status: str = "deactivated",
        auto_products: tuple[tuple[str, str], ...] = (),
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.rng = random.Random(kw.get("seed", 0))
        self.api_key = api_key or f"vl-sim-{self.rng.getrandbits(64):016x}"
        self.pending_s = pending_s
        self.processing_s = processing_s
        self.priorities = priorities
        self.failure_status = failure_status
        self.deactivated_status = deactivated_status
        self.auto_products = auto_products
        self.items: dict[str, dict[str, Any]] = {}
        self.deleted: set[str] = set()
        self.tasks: dict[tuple[str, str, str], _Task] = {}

    def routes(self) -> Iterable[Rule]:
        task = "/tasks/catalog-item/<inventory_id>/product/<product>/version/<version>"
        return [
            Rule(task, endpoint="get_task", methods=["GET"]),
            Rule(task, endpoint="create_task", methods=["POST"]),
            Rule(task, endpoint="deactivate_task", methods=["DELETE"]),
            Rule("/catalog/v1/item", endpoint="list_items", methods=["GET"]),
            Rule("/catalog/v1/item", endpoint="upsert_item", methods=["PUT"]),
            Rule(
                "/catalog/v1/item/<item_type>/<inventory_id>", endpoint="get_item", methods=["GET"]
            ),
        ]

    def error(self, status: int, message: str, headers: Any = None) -> Response:
        # An unmatched route or method gets the framework's own words (Starlette's).
        message = _FRAMEWORK.get(message, message)
        return self.json({"detail": message}, status, headers)

    def client_options(self, url: str) -> dict[str, Any]:
        return {"base_url": url, "api_key": self.api_key}

    def secrets(self) -> list[str]:
        return [self.api_key]

    # -- helpers ----------------------------------------------------------------------------

    def _auth(self, request: Request) -> None:
        key = request.args.get("key") or request.headers.get("X-API-Key")
        if key != self.api_key:
            raise Answer(self.error(401, "Invalid or missing API key"))

    def _invalid(
        self,
        loc: list[str | int],
        msg: str,
        kind: str,
        value: Any,
        ctx: dict[str, Any] | None = None,
    ) -> Answer:
        return self._unprocessable([_problem(loc, msg, kind, value, ctx)])

    def _unprocessable(self, problems: list[dict[str, Any]]) -> Answer:
        return Answer(self.json({"detail": problems}, 422))

    def _product(self, product: str) -> None:
        problem = _product_problem(product)
        if problem is not None:
            raise self._unprocessable([problem])

    def _json_body(self, request: Request) -> Any:
        """The body as FastAPI reads it for a JSON body parameter.

        No bytes: no body (``None``). A JSON content type, or none at all: parsed as JSON
        (undecodable JSON is a 422 ``json_invalid`` at the position the decoder stopped). Any
        other content type: the raw bytes, which then fail the model as "not a dictionary".
        """
        raw = request.get_data(cache=True)
        if not raw:
            return None
        content_type = request.headers.get("Content-Type")
        if content_type:
            message = Message()
            message["content-type"] = content_type
            subtype = message.get_content_subtype()
            if message.get_content_maintype() != "application" or not (
                subtype == "json" or subtype.endswith("+json")
            ):
                return raw
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise self._unprocessable(
                [
                    _problem(
                        ["body", exc.pos],
                        "JSON decode error",
                        "json_invalid",
                        {},
                        {"error": exc.msg},
                    )
                ]
            ) from None
        except ValueError:  # not text at all: FastAPI's generic answer
            raise Answer(
                self.json({"detail": "There was an error parsing the body"}, 400)
            ) from None

    def status(self, task: _Task) -> tuple[str, str | None]:
        """(status word, error) of ``task`` now."""
        if task.deactivated:
            return self.deactivated_status, None
        age = self.now() - task.created
        if age < self.pending_s:
            return "pending", None
        failure = self._failure(task)
        if failure is not None:
            return self.failure_status, failure
        return ("processing", None) if age < self.pending_s + self.processing_s else ("done", None)

    def _failure(self, task: _Task) -> str | None:
        item = self.items.get(task.inventory_id)
        if item is None or task.inventory_id in self.deleted:
            return NOT_FOUND
        url = str(item.get("asset_url") or "")
        if "corrupt" in url:
            return PROBE
        if "short" in url:
            return TOO_SHORT
        return None

    def _existing(self, request: Request, inventory_id: str, product: str, version: str) -> _Task:
        """The task at this triple, after the checks every task route makes; else 404."""
        self._auth(request)
        self._product(product)
        task = self.tasks.get((inventory_id, product, version))
        if task is None:
            raise Answer(self.error(404, "Not Found"))
        return task

    def _answer(self, task: _Task) -> Response:
        status, error = self.status(task)
        path = "/tasks/catalog-item/{}/product/{}/version/{}".format(
            *(quote(p, safe="") for p in (task.inventory_id, task.product, task.version))
        )
        links = {
            "self": {"href": path, "method": "GET"},
            "deactivate": {"href": path, "method": "DELETE"},
        }
        return self.json({"status": status, "error": error, "_links": links})

    def demo_spec(self) -> dict[str, Any]:
        self.add_item(
            {
                "id": "demo-film",
                "type": "standalone",
                "title": "Demo Film",
                "asset_url": "s3://demo-bucket/demo-film.mp4",
            }
        )
        return {"inventory_id": "demo-film", "product": "markers", "version": "1.0.1"}

    def add_item(self, item: dict[str, Any]) -> None:
        """Ingest an item as the catalog would (and create its automatic tasks)."""
        self.items[item["id"]] = {
            **item,
            "vionlabs_id": self.items.get(item["id"], {}).get(
                "vionlabs_id", f"vl-{self.rng.getrandbits(40):010x}"
            ),
        }
        self.deleted.discard(item["id"])
        for product, version in self.auto_products:
            self.tasks.setdefault(
                (item["id"], product, version),
                _Task(item["id"], product, version, "low", self.now()),
            )

    # -- tasks ----------------------------------------------------------------------------

    def on_get_task(
        self, request: Request, inventory_id: str, product: str, version: str
    ) -> Response:
        return self._answer(self._existing(request, inventory_id, product, version))

    def on_create_task(
        self, request: Request, inventory_id: str, product: str, version: str
    ) -> Response:
        # FastAPI reads the body before it resolves anything else, then reports every path and
        # body problem in one answer (path first). The body model is optional: no body, or
        # JSON null, means the default priority; unknown fields are ignored.
        body = self._json_body(request)
        self._auth(request)
        problems = [p for p in (_product_problem(product),) if p is not None]
        priority = "low"
        if body is not None and not isinstance(body, dict):
            problems.append(_problem(["body"], _NOT_A_MODEL, "model_attributes_type", _shown(body)))
        elif body is not None:
            priority = body.get("priority", "low")
            if priority not in self.priorities:
                problems.append(_enum_problem(["body", "priority"], priority, self.priorities))
        if problems:
            raise self._unprocessable(problems)
        key = (inventory_id, product, version)
        task = self.tasks.get(key)
        if task is None or task.deactivated:
            # Creating again after a deactivation starts a fresh task; otherwise it is a no-op.
            task = _Task(inventory_id, product, version, priority, self.now())
            self.tasks[key] = task
        return self._answer(task)

    def on_deactivate_task(
        self, request: Request, inventory_id: str, product: str, version: str
    ) -> Response:
        task = self._existing(request, inventory_id, product, version)
        task.deactivated = True
        return self._answer(task)

    # -- catalog ---------------------------------------------------------------------------

    def on_upsert_item(self, request: Request) -> Response:
        body = self._json_body(request)
        self._auth(request)
        if body is None:  # the item is a required body
            raise self._invalid(["body"], "Field required", "missing", None)
        if not isinstance(body, dict):
            raise self._invalid(["body"], _NOT_A_MODEL, "model_attributes_type", _shown(body))
        problems = _item_problems(body)
        if problems:
            raise self._unprocessable(problems)
        self.add_item(body)
        return self.json(None)

    def on_list_items(self, request: Request) -> Response:
        self._auth(request)
        try:
            page_num = int(request.args.get("page_num", "0"))
            page_size = int(request.args.get("page_size", "500"))
        except ValueError:
            raise self._invalid(
                ["query", "page_num"],
                "Input should be a valid integer",
                "int_parsing",
                request.args.get("page_num"),
            ) from None
        if page_num < 0 or page_size < 1:
            raise self._invalid(
                ["query", "page_size"], "Input should be greater than 0", "greater_than", page_size
            )
        allow_deleted = request.args.get("allow_deleted", "false").lower() == "true"
        rows = [i for k, i in self.items.items() if allow_deleted or k not in self.deleted]
        page = rows[page_num * page_size : (page_num + 1) * page_size]
        return self.json(
            [{"id": i["id"], "vionlabs_id": i["vionlabs_id"], "type": i["type"]} for i in page]
        )

    def on_get_item(self, request: Request, item_type: str, inventory_id: str) -> Response:
        self._auth(request)
        item = self.items.get(inventory_id)
        if item is None or item["type"] != item_type:
            return self.error(404, "Item not found")
        return self.json(item)


#: Starlette's answers for an unmatched route or method, for the base class's generic words.
_FRAMEWORK = {"not found": "Not Found", "method not allowed": "Method Not Allowed"}
_NOT_A_MODEL = "Input should be a valid dictionary or object to extract fields from"


def _problem(
    loc: list[str | int], msg: str, kind: str, value: Any, ctx: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One entry of FastAPI's 422 ``detail``, keys in Pydantic v2's order."""
    problem: dict[str, Any] = {"type": kind, "loc": loc, "msg": msg, "input": value}
    if ctx:
        problem["ctx"] = ctx
    return problem


def _expected(values: Iterable[str]) -> str:
    """Pydantic's list of enum members: ``'a', 'b' or 'c'``."""
    quoted = [f"'{v}'" for v in values]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def _enum_problem(loc: list[str | int], value: Any, values: Iterable[str]) -> dict[str, Any]:
    expected = _expected(values)
    return _problem(loc, f"Input should be {expected}", "enum", value, {"expected": expected})


def _product_problem(product: str) -> dict[str, Any] | None:
    return None if product in PRODUCTS else _enum_problem(["path", "product"], product, PRODUCTS)


def _shown(value: Any) -> Any:
    """The offending input as FastAPI's JSON encoder shows it (bytes as text)."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _item_problems(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every problem of a catalog item body (Pydantic reports them all, in field order)."""
    problems: list[dict[str, Any]] = []
    for field in ("id", "type", "title"):
        value = body.get(field)
        if field not in body:
            problems.append(_problem(["body", field], "Field required", "missing", body))
        elif field == "type":
            if value not in ITEM_TYPES:
                problems.append(_enum_problem(["body", "type"], value, ITEM_TYPES))
        elif not isinstance(value, str):
            problems.append(
                _problem(["body", field], "Input should be a valid string", "string_type", value)
            )
        elif field == "id" and not value:
            problems.append(
                _problem(
                    ["body", "id"],
                    "String should have at least 1 character",
                    "string_too_short",
                    value,
                    {"min_length": 1},
                )
            )
    return problems
