"""A small vendor, real over loopback, for testing the core without any real vendor.

"toy" has tasks that go queued -> running (after 1 s) -> done (after 3 s) on the simulator's
clock, Bearer auth, cursor paging, a cancel endpoint, ``{"error": {"code", "message"}}``
error bodies and an ``X-Request-Id`` header.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

import attrs
import requests
from werkzeug.routing import Rule as Route
from werkzeug.wrappers import Request, Response

from taskhub.adapter import Adapter, Options, secret, select, wanted_states
from taskhub.errors import MalformedResponse
from taskhub.http import ErrorInfo, Transport
from taskhub.model import Task, parse_time
from taskhub.states import State
from taskhub.statuses import StatusTable
from taskhub.testing import Answer, Simulator

TOKEN = "toy-secret-token-0123456789"

STATUSES = StatusTable(
    "toy",
    {
        "task": {
            "queued": State.QUEUED,
            "running": State.RUNNING,
            "done": State.SUCCEEDED,
            "failed": State.FAILED,
            "cancelled": State.CANCELLED,
        }
    },
    report={State.RUNNING: "running", State.SUCCEEDED: "done", State.FAILED: "failed"},
)


@attrs.frozen(kw_only=True)
class ToyOptions(Options):
    token: str = secret()
    base_url: str


def _error_info(response: requests.Response) -> ErrorInfo:
    body = response.json()
    error = body.get("error", {}) if isinstance(body, dict) else {}
    return ErrorInfo(error.get("message"), error.get("code"), None)


def parse_payload(payload: Any, backend: str) -> Task:
    """A toy task's JSON -> Task (the vendor's pure parser)."""
    try:
        status = STATUSES.normalize(
            payload["status"],
            updated_at=parse_time(payload.get("updated")),
            message=payload.get("error"),
        )
        return Task(
            backend,
            "toy",
            str(payload["id"]),
            status,
            kind="toy",
            params=payload.get("params") or {},
            created_at=parse_time(payload["created"]),
            raw=payload,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedResponse(f"not a toy task: {exc}", vendor="toy", operation="parse") from exc


class ToyAdapter(Adapter):
    vendor = "toy"
    options_class = ToyOptions
    statuses = STATUSES
    simulator: ClassVar[str | None] = "tests.toy:ToySimulator"
    alternatives: ClassVar[dict[str, str]] = {"retry": "submit the same work again"}

    options: ToyOptions
    parser = staticmethod(parse_payload)

    def make_transport(self, session: requests.Session | None) -> Transport:
        return Transport(
            vendor=self.vendor,
            base_url=self.options.base_url,
            options=self.options,
            headers={"Authorization": f"Bearer {self.options.token}"},
            error_info=_error_info,
            request_id_header="X-Request-Id",
            session=session,
        )

    def submit(self, **spec: Any) -> Task:
        body = self.transport.request_json(
            "POST", "/tasks", operation="submit", creates=True, json=spec
        )
        return self.parse(body)

    def get(self, task_id: str) -> Task:
        return self.parse(self.transport.request_json("GET", f"/tasks/{task_id}", operation="get"))

    def list(
        self,
        *,
        state: Iterable[State] | State | None = None,
        limit: int | None = None,
        **filters: Any,
    ) -> Iterator[Task]:
        self.refuse_unknown(filters, "list", what="list filter")
        return select(self._pages(), wanted_states(state), limit)

    def _pages(self) -> Iterator[Task]:
        cursor: str | None = None
        while True:
            params = {"cursor": cursor} if cursor else {}
            page = self.transport.request_json("GET", "/tasks", operation="list", params=params)
            yield from (self.parse(item) for item in page["items"])
            cursor = page.get("next")
            if not cursor:
                return

    def cancel(self, task_id: str, *, reason: str | None = None) -> Task:
        body = self.transport.request_json(
            "POST", f"/tasks/{task_id}/cancel", operation="cancel", json={}
        )
        return self.parse(body)

    def report(self, task_id: str, state: State, **fields: Any) -> Task:
        body = self.transport.request_json(
            "POST",
            f"/tasks/{task_id}/status",
            operation="report",
            json={"status": self.statuses.report[state], **fields},
        )
        return self.parse(body)


class ToySimulator(Simulator):
    vendor = "toy"
    base_path = "/v1"

    def __init__(self, *, page_size: int = 2, **kw: Any) -> None:
        super().__init__(**kw)
        self.page_size = page_size
        self.tasks: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._requests = itertools.count(1)

    def routes(self) -> list[Route]:
        return [
            Route("/tasks", endpoint="create", methods=["POST"]),
            Route("/tasks", endpoint="list", methods=["GET"]),
            Route("/tasks/<task_id>", endpoint="get", methods=["GET"]),
            Route("/tasks/<task_id>/cancel", endpoint="cancel", methods=["POST"]),
            Route("/tasks/<task_id>/status", endpoint="status", methods=["POST"]),
        ]

    def client_options(self, url: str) -> dict[str, Any]:
        return {"base_url": url, "token": TOKEN}

    def secrets(self) -> list[str]:
        return [TOKEN]

    def error(self, status: int, message: str, headers: Any = None) -> Response:
        return self.json(
            {"error": {"code": f"E{status}", "message": message}},
            status,
            {"X-Request-Id": f"req-{next(self._requests)}", **dict(headers or {})},
        )

    def _auth(self, request: Request) -> None:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            raise Answer(self.error(401, "bad token"))

    def _view(self, task: dict[str, Any]) -> dict[str, Any]:
        age = self.now() - task["created"]
        status = task["forced"] or ("done" if age >= 3 else "running" if age >= 1 else "queued")
        return {
            "id": task["id"],
            "status": status,
            "created": task["created"],
            "updated": self.now(),
            "params": task["params"],
        }

    def _task(self, task_id: str) -> dict[str, Any]:
        task = self.tasks.get(task_id)
        if task is None:
            raise Answer(self.error(404, f"no task {task_id}"))
        return task

    def on_create(self, request: Request) -> Response:
        self._auth(request)
        task_id = f"t{next(self._ids)}"
        self.tasks[task_id] = {
            "id": task_id,
            "created": self.now(),
            "forced": None,
            "params": self.body(request) or {},
        }
        return self.json(self._view(self.tasks[task_id]), 201)

    def on_get(self, request: Request, task_id: str) -> Response:
        self._auth(request)
        return self.json(self._view(self._task(task_id)))

    def on_list(self, request: Request) -> Response:
        self._auth(request)
        start = int(request.args.get("cursor") or 0)
        ids = sorted(self.tasks, key=lambda i: int(i[1:]))
        page = ids[start : start + self.page_size]
        more = start + self.page_size < len(ids)
        return self.json(
            {
                "items": [self._view(self.tasks[i]) for i in page],
                "next": str(start + self.page_size) if more else None,
            }
        )

    def on_cancel(self, request: Request, task_id: str) -> Response:
        self._auth(request)
        task = self._task(task_id)
        if self._view(task)["status"] == "done":
            raise Answer(self.error(409, "task already finished"))
        task["forced"] = "cancelled"
        return self.json(self._view(task))

    def on_status(self, request: Request, task_id: str) -> Response:
        self._auth(request)
        task = self._task(task_id)
        task["forced"] = (self.body(request) or {}).get("status")
        return self.json(self._view(task))
