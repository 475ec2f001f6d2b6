"""A Livepeer Studio simulator: the task API and the endpoints that spawn tasks.

Lifecycle (on the simulator's clock): create -> ``pending`` -> ``waiting`` (at once) ->
``running`` after ``waiting_s`` with progress rising, capped at 0.99 -> ``completed`` after
``running_s``. The input URL (or clip playback id) picks a failure scenario:

* ``fail-retry``: the first attempt fails with a retriable error; the task goes back to
  ``waiting`` with ``retries`` 1 and ``errorMessage``, then succeeds;
* ``fail-always``: three retriable failures; ``failed`` after the third (at most 2 retries);
* ``fail-fatal``: an unretriable error; ``failed`` at once;
* ``stuck``: stays ``waiting`` forever (Livepeer has no server-side timeout).

A manual retry (``POST /task/{id}/retry``) of a failed task succeeds. ``cancelled`` never
occurs; deleting the output asset fails a running task with "task cancelled, asset has been
deleted".
"""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import attrs
import requests
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from taskhub.testing import Answer, Simulator

from .parse import mask_credentials
from .webhooks import sign

RETRIABLE = "internal error processing file"
FATAL = (
    "invalid video file codec or container, check your input file against the input codec "
    "and container support matrix"
)
DELETED = "task cancelled, asset has been deleted"
MAX_RETRIES = 2
TYPES = ("upload", "export", "export-data", "transcode-file", "clip")
_URL = re.compile(r"^(https?|ipfs|ar)://")
_FILTER_FIELDS = {
    "id",
    "name",
    "createdAt",
    "updatedAt",
    "userId",
    "user.email",
    "type",
    "inputAssetId",
    "outputAssetId",
    "projectId",
}
_INT_FIELDS = {"createdAt", "updatedAt"}


@attrs.define
class _Task:
    id: str
    type: str
    user: str
    created: int
    params: dict[str, Any]
    plan: list[str]  # outcome of each attempt: ok | retriable | fatal | stuck
    started: int | None  # when the current run of attempts began (None: still pending)
    input_asset: str | None = None
    output_asset: str | None = None
    failed_at: tuple[int, str] | None = None  # forced failure: (ms, message)
    forced: tuple[int, dict[str, Any]] | None = None  # an admin write: (ms, status)
    manual_retries: int = 0


class LivepeerSimulator(Simulator):
    """Livepeer Studio's task API, faithful to status codes, shapes and lifecycle."""

    vendor = "livepeer"
    base_path = "/api"

    def __init__(
        self,
        *,
        api_key: str | None = None,
        other_api_key: str | None = None,
        waiting_s: float = 1.0,
        running_s: float = 4.0,
        backoff_s: tuple[float, float] = (30.0, 180.0),
        max_active: int = 100,
        sdk_safe_outputs: bool = True,
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.rng = random.Random(kw.get("seed", 0))
        self.api_key = api_key or f"lp-sim-{self.rng.getrandbits(64):016x}"
        self.other_api_key = other_api_key or f"lp-other-{self.rng.getrandbits(64):016x}"
        self.users = {self.api_key: "user-1", self.other_api_key: "user-2"}
        self.project = str(self._uuid())
        self.waiting_ms = int(waiting_s * 1000)
        self.running_ms = int(running_s * 1000)
        self.backoff_ms = tuple(int(b * 1000) for b in backoff_s)
        self.max_active = max_active
        self.sdk_safe_outputs = sdk_safe_outputs
        self.tasks: dict[str, _Task] = {}
        self.order: list[str] = []  # creation order
        self.assets: dict[str, dict[str, Any]] = {}
        self.deleted_assets: set[str] = set()
        self.uploads: dict[str, str] = {}  # direct-upload token -> task id
        self.webhook_id = str(self._uuid())

    # -- framework hooks -----------------------------------------------------------------------

    def routes(self) -> Iterable[Rule]:
        return [
            Rule("/task", endpoint="list_tasks", methods=["GET"]),
            Rule("/task/<task_id>", endpoint="get_task", methods=["GET"]),
            Rule("/task/<task_id>/retry", endpoint="retry_task", methods=["POST"]),
            Rule("/asset/request-upload", endpoint="request_upload", methods=["POST"]),
            Rule("/asset/upload/url", endpoint="upload_url", methods=["POST"]),
            Rule("/asset/upload/direct", endpoint="direct_upload", methods=["PUT"]),
            Rule("/asset/<asset_id>", endpoint="get_asset", methods=["GET"]),
            Rule("/asset/<asset_id>", endpoint="delete_asset", methods=["DELETE"]),
            Rule("/transcode", endpoint="transcode", methods=["POST"]),
            Rule("/clip", endpoint="clip", methods=["POST"]),
        ]

    def error(self, status: int, message: str, headers: Any = None) -> Response:
        return self.json({"errors": [message]}, status, headers)

    def client_options(self, url: str) -> dict[str, Any]:
        return {"base_url": url, "api_key": self.api_key}

    def secrets(self) -> list[str]:
        return [self.api_key, self.other_api_key]

    # -- helpers -----------------------------------------------------------------------------

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def _user(self, request: Request) -> str:
        header = request.headers.get("Authorization")
        if not header:
            raise Answer(self.error(401, "request is not authenticated"))
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer":
            raise Answer(self.error(401, f"unsupported authorization header scheme: {scheme}"))
        user = self.users.get(value.strip())
        if user is None:
            raise Answer(self.error(401, f"no token {value.strip()} found"))
        if "projectId" in request.args:
            raise Answer(self.error(400, "projectId as query param not supported"))
        return user

    def _validate(self, body: Any, required: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise Answer(
                self.error(422, json.dumps({"keyword": "type", "message": "must be object"}))
            )
        missing = [f for f in required if f not in body]
        if missing:
            problems = [
                json.dumps(
                    {
                        "keyword": "required",
                        "params": {"missingProperty": f},
                        "message": f"must have required property '{f}'",
                    }
                )
                for f in missing
            ]
            raise Answer(self.json({"errors": problems}, 422))
        return body

    def _capacity(self, user: str) -> None:
        if len(self.tasks) < self.max_active:
            return  # fewer tasks than the quota in all: no need to look at each
        active = sum(
            1
            for t in self.tasks.values()
            if t.user == user and self.status(t)["phase"] in ("pending", "waiting", "running")
        )
        if active >= self.max_active:
            raise Answer(
                self.error(429, f"user {user} has reached the maximum number of pending tasks")
            )

    @staticmethod
    def _plan(source: str) -> list[str]:
        if "fail-always" in source:
            return ["retriable"] * (MAX_RETRIES + 1)
        if "fail-retry" in source:
            return ["retriable", "ok"]
        if "fail-fatal" in source:
            return ["fatal"]
        if "stuck" in source:
            return ["stuck"]
        return ["ok"]

    def _new_task(
        self, user: str, kind: str, params: dict[str, Any], source: str, pending: bool = False
    ) -> _Task:
        now = self.now_ms()
        task = _Task(
            str(self._uuid()), kind, user, now, params, self._plan(source), None if pending else now
        )
        self.tasks[task.id] = task
        self.order.append(task.id)
        return task

    def _new_asset(
        self, user: str, name: str, source: dict[str, Any], task: _Task
    ) -> dict[str, Any]:
        asset_id = str(self._uuid())
        asset: dict[str, Any] = {
            "id": asset_id,
            "name": name,
            "source": source,
            "playbackId": f"{self.rng.getrandbits(48):012x}",
            "userId": user,
            "projectId": self.project,
            "createdAt": self.now_ms(),
        }
        self.assets[asset_id] = asset
        task.output_asset = asset_id
        asset["_task"] = task.id
        return asset

    # -- the lifecycle, computed from the clock ----------------------------------------------

    def segments(self, task: _Task) -> list[tuple[int, dict[str, Any]]]:
        """Every status the task has had, as (start ms, status object), oldest first."""
        out: list[tuple[int, dict[str, Any]]] = [(task.created, {"phase": "pending"})]
        if task.started is None:
            return out
        t = task.started
        for attempt, outcome in enumerate(task.plan):
            waiting = {"phase": "waiting", "retries": attempt}
            if attempt and out[-1][1].get("errorMessage"):
                t += self.backoff_ms[min(attempt - 1, len(self.backoff_ms) - 1)]
            out.append((t, waiting))
            if outcome == "stuck":
                break
            t += self.waiting_ms
            out.append((t, {"phase": "running", "retries": attempt}))
            t += self.running_ms
            if outcome == "ok":
                out.append((t, {"phase": "completed"}))
            elif outcome == "retriable" and attempt < MAX_RETRIES:
                out.append(
                    (t, {"phase": "waiting", "retries": attempt + 1, "errorMessage": RETRIABLE})
                )
                continue
            else:
                message = FATAL if outcome == "fatal" else RETRIABLE
                out.append((t, {"phase": "failed", "retries": attempt, "errorMessage": message}))
            break
        if task.failed_at is not None:
            at, message = task.failed_at
            kept = [s for s in out if s[0] <= at]
            retries = kept[-1][1].get("retries", 0)
            out = [*kept, (at, {"phase": "failed", "retries": retries, "errorMessage": message})]
        if task.forced is not None:
            at, forced = task.forced
            out = [*(s for s in out if s[0] < at), (at, forced)]
        return out

    def status(self, task: _Task, now: int | None = None) -> dict[str, Any]:
        """The task's ``status`` object at ``now``."""
        now = self.now_ms() if now is None else now
        start, current = task.created, {"phase": "pending"}
        for at, status in self.segments(task):
            if at > now:
                break
            start, current = at, status
        status = {"phase": current["phase"], "updatedAt": start}
        if current["phase"] == "running":
            elapsed = now - start
            status["updatedAt"] = start + elapsed // 1000 * 1000  # a progress report a second
            status["progress"] = round(min(0.99, elapsed / max(self.running_ms, 1)), 3)
        for key in ("retries", "errorMessage"):
            if key in current and current["phase"] != "completed":
                status[key] = current[key]
        return dict(
            sorted(
                status.items(),
                key=lambda kv: (
                    ("phase", "updatedAt").index(kv[0]) if kv[0] in ("phase", "updatedAt") else 2
                ),
            )
        )

    def view(self, task: _Task, now: int | None = None) -> dict[str, Any]:
        """The task as ``GET /task/{id}`` shows it."""
        status = self.status(task, now)
        body: dict[str, Any] = {"id": task.id, "type": task.type, "createdAt": task.created}
        if task.started is not None:
            body["scheduledAt"] = task.started
        if task.input_asset:
            body["inputAssetId"] = task.input_asset
        if task.output_asset:
            body["outputAssetId"] = task.output_asset
        body["projectId"] = self.project
        body["userId"] = task.user
        body["params"] = task.params
        body["status"] = status
        if status["phase"] == "completed":
            body["output"] = self._output(task)
        return body

    def _output(self, task: _Task) -> dict[str, Any]:
        if task.type == "transcode-file":
            base = task.params["transcode-file"]["storage"]["url"]
            outputs = task.params["transcode-file"]["outputs"]
            out: dict[str, Any] = {"baseUrl": base}
            if "hls" in outputs:
                out["hls"] = {"path": f"{outputs['hls']['path'].rstrip('/')}/index.m3u8"}
            if "mp4" in outputs:
                out["mp4"] = [{"path": f"{outputs['mp4']['path'].rstrip('/')}/static720p0.mp4"}]
            return {"transcodeFile": out}
        asset = self.assets.get(task.output_asset or "", {})
        spec: dict[str, Any] = {
            "name": asset.get("name", "output"),
            "type": "video",
            "size": 1_048_576,
            "hash": [{"hash": f"{self.rng.getrandbits(128):032x}", "algorithm": "md5"}],
            "videoSpec": {"format": "mp4", "duration": 60.0},
        }
        if self.sdk_safe_outputs:
            spec = {"id": asset.get("id"), "source": asset.get("source"), **spec}
        return {"upload" if task.type == "upload" else "clip": {"assetSpec": spec}}

    def asset_view(self, asset: dict[str, Any]) -> dict[str, Any]:
        body = {k: v for k, v in asset.items() if not k.startswith("_")}
        task = self.tasks.get(asset.get("_task", ""))
        phase, updated = "waiting", asset["createdAt"]
        if task is not None:
            status = self.status(task)
            phase = {"running": "processing", "completed": "ready", "failed": "failed"}.get(
                status["phase"], "uploading" if status["phase"] == "pending" else "waiting"
            )
            updated = status["updatedAt"]
        if asset["id"] in self.deleted_assets:
            phase = "deleting"
        body["status"] = {"phase": phase, "updatedAt": updated}
        return body

    # -- endpoints ---------------------------------------------------------------------------

    def on_get_task(self, request: Request, task_id: str) -> Response:
        user = self._user(request)
        task = self.tasks.get(task_id)
        if task is None:
            return self.error(404, "not found")
        if task.user != user:
            return self.error(403, "user can only request information on their own tasks")
        return self.json(self.view(task))

    def on_retry_task(self, request: Request, task_id: str) -> Response:
        user = self._user(request)
        task = self.tasks.get(task_id)
        if task is None:
            return self.error(404, "task not found")
        if task.user != user:
            return self.error(403, "users may only retry their own tasks")
        if self.status(task)["phase"] not in ("failed", "cancelled"):
            return self.error(400, "task is not in a retryable state")
        task.started = self.now_ms()
        task.plan = ["ok"]
        task.failed_at = None
        task.forced = None
        task.manual_retries += 1
        return self.json({"id": task.id})

    def on_list_tasks(self, request: Request) -> Response:
        user = self._user(request)
        args = request.args
        try:
            limit = int(args.get("limit", "20"))
        except ValueError:
            limit = 20
        limit = 20 if limit < 1 else min(limit, 1000)
        now = self.now_ms()
        rows = self._filtered(user, args.get("filters"), now)
        rows = self._ordered(rows, args.get("order") or "updatedAt-true,createdAt-true", now)
        cursor = args.get("cursor")
        if cursor == "undefined":
            return self.json([])
        if cursor and cursor.startswith("skip"):
            try:
                offset = int(cursor[4:])
            except ValueError:
                return self.error(400, "invalid cursor")
            page = rows[offset : offset + limit]
        else:
            offset = 0
            if cursor:
                rows = [r for r in rows if r.id > cursor]
            page = rows[:limit]
        headers: dict[str, str] = {}
        if page:
            next_cursor = f"skip{offset + limit}" if len(page) == limit else "undefined"
            headers["Link"] = f'<{self._link(request, next_cursor)}>; rel="next"'
        if args.get("count"):
            headers["X-Total-Count"] = str(len(rows))
        return self.json([self.view(t, now) for t in page], 200, headers)

    def _filtered(self, user: str, raw: str | None, now: int) -> list[_Task]:
        rows = [self.tasks[i] for i in self.order if self.tasks[i].user == user]
        if not raw:
            return rows
        try:
            filters = json.loads(raw)
            assert isinstance(filters, list)
        except (ValueError, AssertionError):
            raise Answer(self.error(400, "error parsing filters: invalid JSON")) from None
        for item in filters:
            field, value = item.get("id"), item.get("value")
            if field not in _FILTER_FIELDS:
                raise Answer(
                    self.error(400, f'error parsing filters: Error: unknown field: "{field}"')
                )
            if isinstance(value, dict) and ("eq" in value or field not in _INT_FIELDS):
                raise Answer(self.error(400, "error parsing filters: unsupported operator"))
            rows = [t for t in rows if _match(self._field(t, field, now), value)]
        return rows

    def _field(self, task: _Task, field: str, now: int) -> Any:
        if field == "updatedAt":
            return self.status(task, now)["updatedAt"]
        if field == "createdAt":
            return task.created
        return {
            "id": task.id,
            "type": task.type,
            "userId": task.user,
            "projectId": self.project,
            "inputAssetId": task.input_asset,
            "outputAssetId": task.output_asset,
        }.get(field)

    def _ordered(self, rows: list[_Task], order: str, now: int) -> list[_Task]:
        keys: list[tuple[str, bool]] = []
        for part in order.split(","):
            name, _, direction = part.strip().rpartition("-")
            if name not in _FILTER_FIELDS:
                raise Answer(self.error(400, f'error parsing order: unknown field: "{name}"'))
            keys.append((name, direction == "true"))
        if keys[:1] == [("createdAt", True)] or keys[:1] == [("createdAt", False)]:
            # Creation order is already known: no need to compute every status to sort.
            return rows[::-1] if keys[0][1] else list(rows)
        for name, descending in reversed(keys):
            rows.sort(key=lambda t: _sortable(self._field(t, name, now)), reverse=descending)
        return rows

    def _link(self, request: Request, cursor: str) -> str:
        parts = urlsplit(request.url)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "cursor"]
        return urlunsplit((*parts[:3], urlencode([*query, ("cursor", cursor)]), ""))

    def on_upload_url(self, request: Request) -> Response:
        user = self._user(request)
        body = self._validate(self.body(request), ("name", "url"))
        if not isinstance(body["url"], str) or not _URL.match(body["url"]):
            problem = {
                "keyword": "pattern",
                "instancePath": "/url",
                "message": 'must match pattern "^(https?|ipfs|ar)://"',
            }
            return self.json({"errors": [json.dumps(problem)]}, 422)
        for task in self.tasks.values():
            if (
                task.user == user
                and task.type == "upload"
                and task.params["upload"].get("url") == body["url"]
            ):
                asset = self.assets[task.output_asset or ""]
                return self.json({"asset": self.asset_view(asset), "task": {"id": task.id}}, 200)
        self._capacity(user)
        params = {k: v for k, v in body.items() if k not in ("name",)}
        task = self._new_task(user, "upload", {"upload": params}, body["url"])
        asset = self._new_asset(user, body["name"], {"type": "url", "url": body["url"]}, task)
        return self.json({"asset": self.asset_view(asset), "task": {"id": task.id}}, 201)

    def on_request_upload(self, request: Request) -> Response:
        user = self._user(request)
        body = self._validate(self.body(request), ("name",))
        self._capacity(user)
        task = self._new_task(user, "upload", {"upload": {}}, body["name"], pending=True)
        asset = self._new_asset(user, body["name"], {"type": "directUpload"}, task)
        token = f"{self.rng.getrandbits(64):016x}"
        self.uploads[token] = task.id
        url = f"{self.root_url}{self.base_path}/asset/upload/direct?token={token}"
        return self.json(
            {
                "url": url,
                "tusEndpoint": f"{self.root_url}/upload/tus?token={token}",
                "asset": self.asset_view(asset),
                "task": {"id": task.id},
            },
            200,
        )

    def on_direct_upload(self, request: Request) -> Response:
        task_id = self.uploads.pop(request.args.get("token", ""), None)
        if task_id is None:
            return self.error(404, "not found")
        self.tasks[task_id].started = self.now_ms()
        return Response(status=200)

    def on_transcode(self, request: Request) -> Response:
        user = self._user(request)
        body = self._validate(self.body(request), ("input", "storage", "outputs"))
        self._capacity(user)
        params = json.loads(json.dumps(body))
        for key in ("input", "storage"):
            if isinstance(params.get(key), dict) and isinstance(params[key].get("url"), str):
                params[key]["url"] = mask_credentials(params[key]["url"])
        source = str((body.get("input") or {}).get("url", ""))
        task = self._new_task(user, "transcode-file", {"transcode-file": params}, source)
        first = self.view(task, task.created)
        first.pop("scheduledAt", None)
        first["status"] = {"phase": "pending", "updatedAt": task.created}
        return self.json(first, 200)

    def on_clip(self, request: Request) -> Response:
        user = self._user(request)
        body = self._validate(self.body(request), ("playbackId", "startTime"))
        self._capacity(user)
        params = {
            "clipStrategy": {
                "playbackId": body["playbackId"],
                "startTime": body["startTime"],
                "endTime": body.get("endTime"),
            }
        }
        task = self._new_task(user, "clip", {"clip": params}, str(body["playbackId"]))
        asset = self._new_asset(user, body.get("name") or "clip", {"type": "clip"}, task)
        return self.json({"asset": self.asset_view(asset), "task": {"id": task.id}}, 200)

    def on_get_asset(self, request: Request, asset_id: str) -> Response:
        user = self._user(request)
        asset = self.assets.get(asset_id)
        if asset is None or asset["userId"] != user:
            return self.error(404, "not found")
        return self.json(self.asset_view(asset))

    def on_delete_asset(self, request: Request, asset_id: str) -> Response:
        user = self._user(request)
        asset = self.assets.get(asset_id)
        if asset is None or asset["userId"] != user:
            return self.error(404, "not found")
        self.deleted_assets.add(asset_id)
        task = self.tasks.get(asset.get("_task", ""))
        if task is not None and self.status(task)["phase"] in ("pending", "waiting", "running"):
            task.failed_at = (self.now_ms(), DELETED)
        return Response(status=204)

    def demo_spec(self) -> dict[str, Any]:
        return {
            "kind": "upload",
            "url": "https://media.example.com/big-buck-bunny.mp4",
            "name": "big-buck-bunny.mp4",
        }

    def bulk(self, count: int, *, user: str = "user-1", kind: str = "upload") -> list[str]:
        """Create ``count`` tasks at once, as if submitted just now (for load and benchmarks)."""
        ids = []
        for n in range(count):
            url = f"https://media.example.com/bulk-{n}.mp4"
            task = self._new_task(user, kind, {kind: {"url": url}}, url)
            ids.append(task.id)
        return ids

    def force_phase(self, task_id: str, phase: str, message: str | None = None) -> None:
        """Write a phase as an admin would (``cancelled`` is in the enum but no worker sets it)."""
        task = self.tasks[task_id]
        status: dict[str, Any] = {"phase": phase, "retries": 0}
        if message:
            status["errorMessage"] = message
        task.forced = (self.now_ms(), status)

    # -- webhooks -----------------------------------------------------------------------------

    def events(self, until: int | None = None) -> list[dict[str, Any]]:
        """Every task event up to ``until`` (default: now), in time order, as webhook bodies."""
        until = self.now_ms() if until is None else until
        out = []
        for task_id in self.order:
            task = self.tasks[task_id]
            for n, (at, status) in enumerate(self.segments(task)):
                if at > until:
                    break
                names = ["task.spawned"] if n == 0 else ["task.updated"]
                if status["phase"] == "completed":
                    names.append("task.completed")
                elif status["phase"] == "failed":
                    names.append("task.failed")
                for name in names:
                    event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{task.id}/{n}/{name}"))
                    snapshot = self.view(task, at)
                    payload: dict[str, Any] = {
                        "task": {"id": task.id, "type": task.type, "snapshot": snapshot}
                    }
                    if name in ("task.completed", "task.failed"):
                        payload = {"success": name == "task.completed", **payload}
                    out.append(
                        {
                            "id": event_id,
                            "webhookId": self.webhook_id,
                            "createdAt": task.created if n == 0 else at,
                            "event": name,
                            "payload": payload,
                        }
                    )
        return sorted(out, key=lambda e: e["createdAt"])

    def delivery(self, event: dict[str, Any], secret: str | None) -> tuple[bytes, dict[str, str]]:
        """One signed delivery of ``event``: the raw body and the headers, as Livepeer sends."""
        timestamp = self.now_ms()
        body = json.dumps({**event, "timestamp": timestamp}, separators=(",", ":")).encode()
        headers = {"content-type": "application/json", "user-agent": "livepeer.studio"}
        if secret:
            headers["Livepeer-Signature"] = sign(body, secret, timestamp)
        return body, headers

    def deliver(self, url: str, secret: str | None, since: int = 0) -> list[int]:
        """POST every event after index ``since`` to ``url``; return the HTTP statuses."""
        statuses = []
        for event in self.events()[since:]:
            body, headers = self.delivery(event, secret)
            statuses.append(requests.post(url, data=body, headers=headers, timeout=30).status_code)
        return statuses


def _sortable(value: Any) -> tuple[int, Any]:
    return (0, 0) if value is None else (1, value)


def _match(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, dict):
        ops = {
            "gt": lambda a, b: a > b,
            "gte": lambda a, b: a >= b,
            "lt": lambda a, b: a < b,
            "lte": lambda a, b: a <= b,
        }
        return all(actual is not None and ops[k](actual, v) for k, v in wanted.items() if k in ops)
    return bool(actual == wanted)
