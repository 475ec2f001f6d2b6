"""Livepeer Studio: tasks spawned by asset, transcode and clip endpoints."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import attrs
import requests

from taskhub.adapter import Adapter, Options, lookup_since, secret, select, wanted_states
from taskhub.errors import (
    Conflict,
    InvalidRequest,
    MalformedResponse,
    OutcomeUnknown,
    TaskhubError,
    TaskNotFound,
)
from taskhub.http import ErrorInfo, Transport
from taskhub.model import Asset, Task
from taskhub.polling import PollPolicy
from taskhub.states import State

from .parse import asset_from, mask_credentials, parse_task
from .statuses import STATUSES


def _page_size(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not 1 <= value <= 1000:
        raise ValueError("page_size must be between 1 and 1000")


@attrs.frozen(kw_only=True)
class LivepeerOptions(Options):
    """Options of the ``livepeer`` vendor."""

    #: A Studio API key (sent as ``Authorization: Bearer``).
    api_key: str = secret()
    #: The API root, including the ``/api`` prefix.
    base_url: str = "https://livepeer.studio/api"
    #: Tasks per list request (the server allows 1 to 1000).
    page_size: int = attrs.field(default=100, validator=_page_size)


def error_info(response: requests.Response) -> ErrorInfo:
    """Livepeer's ``{"errors": ["..."]}`` body."""
    try:
        body = response.json()
    except ValueError:
        return ErrorInfo(response.text[:200] or None)
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors:
        return ErrorInfo("; ".join(str(e) for e in errors[:5]))
    return ErrorInfo(None)


#: What each ``submit(kind=...)`` posts to, the fields it needs, and the answer's shape.
_SUBMIT: dict[str, tuple[str, tuple[str, ...]]] = {
    "upload": ("/asset/upload/url", ("url", "name")),
    "transcode-file": ("/transcode", ("input", "storage", "outputs")),
    "clip": ("/clip", ("playbackId", "startTime")),
}


class LivepeerAdapter(Adapter):
    """Client for Livepeer Studio's task API."""

    vendor = "livepeer"
    options_class = LivepeerOptions
    statuses = STATUSES
    simulator = "taskhub.adapters.livepeer.simulator:LivepeerSimulator"
    poll = PollPolicy(initial=2.0, factor=1.5, ceiling=30.0)
    # No server-side timeout: a task whose worker never reports stays waiting forever.
    stale_after = 1800.0
    alternatives: ClassVar[dict[str, str]] = {
        "cancel": "Livepeer has no cancel endpoint; deleting the output asset "
        "(DELETE /asset/{id}) fails the task",
        "report": "tasks are advanced by Livepeer's own workers",
    }

    options: LivepeerOptions

    def make_transport(self, session: requests.Session | None) -> Transport:
        return Transport(
            vendor=self.vendor,
            base_url=self.options.base_url,
            options=self.options,
            headers={
                "Authorization": f"Bearer {self.options.api_key}",
                "Accept": "application/json",
            },
            error_info=error_info,
            session=session,
        )

    def parse(self, payload: Any) -> Task:
        return parse_task(payload, self.backend)

    def get(self, task_id: str) -> Task:
        try:
            body = self.transport.request_json("GET", f"/task/{task_id}", operation="get")
        except TaskNotFound as exc:
            exc.task_id = task_id
            raise
        return self.parse(body)

    def list(
        self,
        *,
        state: State | Iterable[State] | None = None,
        limit: int | None = None,
        type: str | None = None,
        **filters: Any,
    ) -> Iterator[Task]:
        """Every task, newest first, following ``Link: rel="next"``.

        ``type`` filters on the server; ``state`` on the client (Livepeer cannot filter by
        phase). Offset paging may show a task twice while tasks are being created: the ids of
        the previous page are remembered so such a repeat is dropped.
        """
        self.refuse_unknown(filters, "list", what="list filter", takes="type")
        wanted = wanted_states(state)
        page_size = self.options.page_size
        if limit is not None and wanted is None:
            page_size = min(page_size, limit)
        params: dict[str, str] = {"limit": str(page_size), "order": "createdAt-true"}
        if type is not None:
            params["filters"] = json.dumps([{"id": "type", "value": type}], separators=(",", ":"))
        return select(self._pages(params), wanted, limit)

    def refresh(self, task_ids: Sequence[str]) -> Iterator[Task]:
        """Many tasks through newest-first pages of 1000: one request per 1000 tasks."""
        return self.refresh_from(
            self._pages({"limit": "1000", "order": "createdAt-true"}), task_ids
        )

    def _pages(self, params: dict[str, str]) -> Iterator[Task]:
        url: str | None = "/task"
        query: dict[str, str] | None = params
        previous: set[str] = set()
        while url is not None:
            response = self.transport.request("GET", url, operation="list", params=query)
            page = self.transport.json(response, "list")
            if not isinstance(page, list):
                raise MalformedResponse(
                    "expected a JSON array of tasks", vendor=self.vendor, operation="list"
                )
            current: set[str] = set()
            for item in page:
                task = self.parse(item)
                current.add(task.id)
                if task.id not in previous:
                    yield task
            previous = current
            url, query = _next_link(response), None

    def submit(self, kind: str = "upload", **spec: Any) -> Task:
        """Start work that spawns a task: ``upload`` (from a URL), ``transcode-file``, ``clip``.

        ``spec`` is the vendor's request body (camelCase keys), e.g.
        ``submit(kind="upload", url="https://…/in.mp4", name="in")``.
        """
        if kind not in _SUBMIT:
            raise self.invalid(
                f"unknown kind {kind!r}; livepeer can submit {', '.join(_SUBMIT)}",
                field="kind",
                operation="submit",
            )
        path, required = _SUBMIT[kind]
        missing = [f for f in required if spec.get(f) in (None, "")]
        if missing:
            raise self.invalid(
                f"{kind} needs {', '.join(missing)}", field=missing[0], operation="submit"
            )
        if kind == "upload" and not str(spec["url"]).startswith(
            ("http://", "https://", "ipfs://", "ar://")
        ):
            raise self.invalid(
                "url must start with http://, https://, ipfs:// or ar://",
                field="url",
                operation="submit",
            )
        lookup = {"kind": kind, "source": _source(kind, spec), "created_after": lookup_since()}
        try:
            body = self.transport.request_json(
                "POST", path, operation="submit", creates=True, json=spec
            )
            if kind == "transcode-file":
                return self.parse(body)
            return self._spawned(body, kind)
        except OutcomeUnknown as exc:
            exc.lookup.update(lookup)
            raise

    def _spawned(self, body: Any, kind: str) -> Task:
        # upload/url and clip answer {asset, task: {id}}; the task itself is fetched, but a
        # read replica may not have it yet, so the answer alone makes a faithful first Task.
        try:
            task_id = body["task"]["id"]
            asset = asset_from(body["asset"])
        except (KeyError, TypeError, MalformedResponse) as exc:
            raise OutcomeUnknown(
                f"the create answer has no task id ({exc}); the work was accepted",
                vendor=self.vendor,
                operation="submit",
            ) from None
        try:
            task = self.get(task_id)
        except TaskhubError:
            # The task exists (its id is in the answer); a failed read must not hide it.
            status = STATUSES.normalize("pending")
            task = Task(self.backend, self.vendor, task_id, status, kind=kind, raw=body)
        outputs = task.outputs or (asset,)
        return attrs.evolve(task, outputs=tuple(_merge(outputs, asset)))

    def find_submitted(self, lookup: Mapping[str, Any]) -> Task | None:
        """The task a submit with an unknown outcome spawned: the newest of its kind with the
        same source (import URL, clip playback id, transcode input), created after it."""
        since = int(lookup.get("created_after") or 0)
        for task in self.list(type=lookup.get("kind")):
            created = task.created_at.timestamp() * 1000 if task.created_at else 0
            if created < since:
                return None
            if _source(str(task.kind), _spec_of(task)) == lookup.get("source"):
                return task
        return None

    def retry(self, task_id: str) -> Task:
        """Run a failed task again (``POST /task/{id}/retry``); retries restart from 0."""
        try:
            self.transport.request("POST", f"/task/{task_id}/retry", operation="retry")
        except InvalidRequest as exc:
            raise Conflict(
                exc.message, vendor=self.vendor, operation="retry", http_status=exc.http_status
            ) from exc
        return self.get(task_id)

    def asset(self, asset_id: str) -> Asset:
        """One asset (``GET /asset/{id}``)."""
        body = self.transport.request_json(
            "GET", f"/asset/{self.require_id(asset_id, 'asset_id')}", operation="asset"
        )
        return asset_from(body)

    def delete_asset(self, asset_id: str) -> None:
        """Delete an asset; a task still producing it fails ("task cancelled, asset has been
        deleted") — Livepeer's only way to stop work."""
        self.transport.request(
            "DELETE", f"/asset/{self.require_id(asset_id, 'asset_id')}", operation="delete_asset"
        )


def _source(kind: str, spec: Mapping[str, Any]) -> str | None:
    """What identifies a submission of ``kind`` on the server side."""
    if kind == "upload":
        return str(spec.get("url"))
    if kind == "clip":
        strategy = spec.get("clipStrategy") or spec
        return f"{strategy.get('playbackId')}@{strategy.get('startTime')}"
    if kind == "transcode-file":
        source = spec.get("input")
        url = source.get("url") if isinstance(source, dict) else None
        return mask_credentials(str(url)) if url else None
    return None


def _spec_of(task: Task) -> dict[str, Any]:
    value = task.params.get(task.kind or "")
    return value if isinstance(value, dict) else {}


def _merge(outputs: tuple[Asset, ...], asset: Asset) -> list[Asset]:
    merged = [asset if o.id == asset.id else o for o in outputs]
    return merged if any(o.id == asset.id for o in outputs) else [*merged, asset]


def _next_link(response: requests.Response) -> str | None:
    link = response.links.get("next", {}).get("url")
    if not link:
        return None
    cursor = parse_qs(urlsplit(link).query).get("cursor", [""])[0]
    # The server links a short last page to cursor=undefined, which answers []: stop here.
    return None if cursor in ("", "undefined") else link


__all__ = ["LivepeerAdapter", "LivepeerOptions"]
