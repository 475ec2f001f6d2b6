"""Livepeer Studio: tasks spawned by asset, transcode and clip endpoints."""

from __future__ import annotations

import builtins
import json
import uuid
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple
from urllib.parse import parse_qs, urlsplit

import attrs
import requests

from taskhub import redact
from taskhub.adapter import (
    CLOCK_SKEW_MS,
    Adapter,
    Options,
    lookup_since,
    secret,
    select,
    url_field,
    wanted_states,
)
from taskhub.errors import (
    Conflict,
    InvalidRequest,
    MalformedResponse,
    OutcomeUnknown,
    TaskhubError,
    TaskNotFound,
)
from taskhub.http import ErrorInfo, Transport, body_json
from taskhub.model import Asset, Task
from taskhub.polling import PollPolicy
from taskhub.states import State

from .parse import asset_from, mask_credentials, masked_object_store_url, parse_payload
from .specs import Clip, Transcode, Upload
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
    base_url: str = url_field(default="https://livepeer.studio/api")
    #: Tasks per list request (the server allows 1 to 1000).
    page_size: int = attrs.field(default=100, validator=_page_size)


def error_info(response: requests.Response) -> ErrorInfo:
    """Livepeer's ``{"errors": ["..."]}`` body."""
    try:
        body = body_json(response)
    except ValueError:
        return ErrorInfo(response.text[:200] or None)
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors:
        return ErrorInfo("; ".join(str(e) for e in errors[:5]))
    return ErrorInfo(None)


#: Studio's ``DUPLICATE_ASSETS_THRESHOLD`` (packages/api/src/store/asset-table.ts): a repeated
#: import of a URL is answered with an earlier import made in the last 15 minutes.
DUPLICATE_IMPORT_MS = 15 * 60 * 1000

#: How many handed-out tasks an adapter remembers, to tell identical submissions apart.
_REMEMBERED = 10_000


class _Returned(NamedTuple):
    """A task a submit (or a lookup) handed out, and the submit it answered."""

    task_id: str
    kind: str
    source: str | None
    created: int | None
    submit_id: str | None


#: Where each ``submit(kind=...)`` posts (what it needs is the specs' to say: specs.py).
_SUBMIT: dict[str, str] = {
    "upload": "/asset/upload/url",
    "transcode-file": "/transcode",
    "clip": "/clip",
}


class LivepeerAdapter(Adapter):
    """Client for Livepeer Studio's task API."""

    vendor = "livepeer"
    hub_class = "taskhub.adapters.livepeer.hub:LivepeerHub"
    specs = (Upload, Transcode, Clip)
    options_class = LivepeerOptions
    statuses = STATUSES
    simulator = "taskhub.adapters.livepeer.simulator:LivepeerSimulator"
    webhooks = "taskhub.adapters.livepeer.webhooks:parse_webhook"
    poll = PollPolicy(initial=2.0, factor=1.5, ceiling=30.0)
    # No server-side timeout: a task whose worker never reports stays waiting forever.
    stale_after = 1800.0
    alternatives: ClassVar[dict[str, str]] = {
        "cancel": "Livepeer has no cancel endpoint; deleting the output asset "
        "(hub.ex_delete_asset(), DELETE /asset/{id}) fails the task",
        "report": "tasks are advanced by Livepeer's own workers",
    }

    # A transcode's storage carries object-store credentials; a web3 export carries a proof.
    secret_fields = ("credentials", "secretAccessKey", "proof", "signature")

    options: LivepeerOptions
    #: Tasks a page of a refresh's listing (the server's most).
    refresh_page = 1000

    def __init__(
        self,
        options: Options,
        *,
        backend: str | None = None,
        session: requests.Session | None = None,
    ) -> None:
        super().__init__(options, backend=backend, session=session)
        # The tasks this adapter's submits (and lookups) handed out, the newest 10,000.
        self._returned: deque[_Returned] = deque(maxlen=_REMEMBERED)

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

    parser = staticmethod(parse_payload)

    def get(self, task_id: str) -> Task:
        try:
            body = self.transport.request_json(
                "GET", self.transport.path("task", self.require_id(task_id)), operation="get"
            )
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

    def refresh(self, task_ids: Sequence[str]) -> Iterator[Task | TaskhubError]:
        """Many tasks through ``GET /task`` pages of ``refresh_page``: only what changed since
        the last cycle (``updatedAt`` after its high-water mark), created between the oldest
        and the newest followed task (``createdAt``); a task that did not change is served
        from its last observation (:meth:`Adapter.refresh_changed`)."""
        return self.refresh_changed(task_ids, self._changed, page=self.refresh_page)

    def _changed(self, since: int | None, created: tuple[int, int] | None) -> Iterator[Task]:
        # ``updatedAt`` is status.updatedAt, set by every status write (phase, progress,
        # retries); both are integer fields (ms), which take {gt|gte|lt|lte: n}, one
        # comparison to a filter entry.
        filters: builtins.list[dict[str, Any]] = []
        if created is not None:
            filters.append({"id": "createdAt", "value": {"gte": created[0]}})
            filters.append({"id": "createdAt", "value": {"lte": created[1]}})
        if since is not None:
            filters.append({"id": "updatedAt", "value": {"gt": since}})
        # Changes newest first, so the first page holds the newest change (the next mark);
        # a full read by creation, which tasks updating during the walk do not reorder.
        order = "updatedAt-true,createdAt-true" if since is not None else "createdAt-true"
        params = {"limit": str(self.refresh_page), "order": order}
        if filters:
            params["filters"] = json.dumps(filters, separators=(",", ":"))
        return self._pages(params)

    def _pages(self, params: dict[str, str]) -> Iterator[Task]:
        url: str | None = "/task"
        query: dict[str, str] | None = params
        previous: set[str] = set()
        guard = self.pages("list")
        while url is not None:
            response = self.transport.request("GET", url, operation="list", params=query)
            page = self.transport.json(response, "list")
            if not isinstance(page, list):
                raise MalformedResponse(
                    "expected a JSON array of tasks", vendor=self.vendor, operation="list"
                )
            current: set[str] = set()
            for task in self.parse_rows(page):
                current.add(task.id)
                if task.id not in previous:
                    yield task
            previous = current
            link = _next_link(response)
            # The link is resolved against this page and must stay on the API's origin: the
            # bearer token goes wherever it points.
            url = self.transport.resolve(link, response.url) if link else None
            if not guard.turn(next=url, count=len(page)):
                return
            query = None

    def submit(self, kind: str = "upload", **spec: Any) -> Task:
        """Start work that spawns a task: ``upload`` (from a URL), ``transcode-file``, ``clip``.

        ``spec`` is the vendor's request body (camelCase keys), e.g.
        ``submit(kind="upload", url="https://…/in.mp4", name="in")``, checked before it
        gets here by the one validation of a submit, the specs (:mod:`.specs`), through
        which ``hub.submit`` passes every submit, typed or by keywords.
        """
        path = _SUBMIT[kind]
        source = _source(kind, spec, self.policy)
        since = lookup_since()
        submit_id = uuid.uuid4().hex
        try:
            body = self.transport.request_json(
                "POST", path, operation="submit", creates=True, json=spec
            )
            task = self.parse(body) if kind == "transcode-file" else self._spawned(body, kind)
        except OutcomeUnknown as exc:
            exc.lookup.update(
                {
                    "kind": kind,
                    "source": source,
                    "created_after": since,
                    "submit_id": submit_id,
                    # Tasks for the same input this client already handed out: not this
                    # submit's work, whatever their creation time.
                    "known": self._known(kind, source, since),
                }
            )
            raise
        self._remember(task, kind, source, submit_id)
        return task

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
        """The task a submit with an unknown outcome spawned, or None if it spawned none.

        Livepeer takes no client id, so the candidates are the tasks of the submit's kind with
        the same source (import URL, clip playback id and start, transcode input) created since
        the submit started (less the clock-skew allowance), leaving out every task this client
        already handed out for another submit (``lookup["known"]`` and this adapter's memory).

        An import follows the server's own rule for a repeated URL (studio's
        ``findDuplicateUrlUpload``): an import of the same URL by the same user and project,
        not deleted, still waiting or processing, created in the 15 minutes before the submit,
        is what the server answers it with -- so it is the submit's task, even if it was
        handed out before (the first by asset id, as the server orders them). Without one,
        only an import created after the submit started and not handed out before can be the
        submit's: an earlier import that finished, failed or was deleted never is.

        When more than one candidate is left, taskhub cannot tell which one (if any) is the
        submit's, and says so instead of guessing: OutcomeUnknown whose message and
        ``lookup["candidates"]`` list their ids. Asking again with the same lookup gives the
        same answer.
        """
        kind, source = lookup.get("kind"), lookup.get("source")
        if kind not in _SUBMIT or source is None:
            return None  # not a submit's lookup (a retry's names its task: get it)
        since = int(lookup.get("created_after") or 0)
        submit_id = lookup.get("submit_id")
        known = {str(i) for i in lookup.get("known") or ()}
        known.update(r.task_id for r in list(self._submitted()) if r.submit_id != submit_id)
        if kind == "upload":
            started = since + CLOCK_SKEW_MS  # lookup_since() allows the skew before the start
            tasks = self._same_source(kind, source, started - DUPLICATE_IMPORT_MS)
            duplicate = self._duplicate_import(tasks, source, started)
            if duplicate is not None:
                self._remember(duplicate, kind, source, submit_id)
                return duplicate
            since = started
        else:
            tasks = self._same_source(kind, source, since)
        candidates = [t for t in tasks if t.id not in known and _created_ms(t) >= since]
        if len(candidates) > 1:
            ids = [t.id for t in candidates]
            raise OutcomeUnknown(
                f"{len(ids)} {kind} tasks with the same input were created since the submit "
                f"started and none of them was handed out by this client: {', '.join(ids)}; "
                "taskhub cannot tell which one (if any) the submit created. Get them and "
                "decide before submitting again",
                lookup={**lookup, "candidates": ids},
                vendor=self.vendor,
                operation="find_submitted",
            )
        if not candidates:
            return None
        self._remember(candidates[0], kind, source, submit_id)
        return candidates[0]

    def _same_source(self, kind: str, source: str, since: int) -> builtins.list[Task]:
        """The ``kind`` tasks created since ``since`` (epoch ms) with the same source."""
        found: builtins.list[Task] = []
        for task in self.list(type=kind):
            if _created_ms(task) < since:
                break  # newest first: everything further is older still
            if _source(str(task.kind), _spec_of(task), self.policy) == source:
                found.append(task)
        return found

    def _duplicate_import(self, tasks: Sequence[Task], url: str, started: int) -> Task | None:
        """Of ``tasks`` (imports of ``url``), the one whose asset studio's
        ``findDuplicateUrlUpload`` answers a repeat made at ``started`` with: not deleted
        (a deleted asset reads 404), imported from that very URL, waiting or processing,
        created in the 15 minutes before; the first by asset id."""
        found: dict[str, Task] = {}
        for task in tasks:
            asset_id = task.raw.get("outputAssetId") if isinstance(task.raw, dict) else None
            if not isinstance(asset_id, str) or not asset_id:
                continue
            try:
                asset = self.transport.request_json(
                    "GET", self.transport.path("asset", asset_id), operation="find_submitted"
                )
            except TaskNotFound:
                continue  # deleted
            source = asset.get("source") if isinstance(asset, dict) else None
            status = asset.get("status") if isinstance(asset, dict) else None
            created = asset.get("createdAt") if isinstance(asset, dict) else None
            if (
                isinstance(source, dict)
                and source.get("type") == "url"
                and self.policy.url(str(source.get("url"))) == url
                and isinstance(status, dict)
                and status.get("phase") in ("waiting", "processing")
                and isinstance(created, int)
                and created > started - DUPLICATE_IMPORT_MS
            ):
                found[asset_id] = task
        return found[min(found)] if found else None

    def _submitted(self) -> deque[_Returned]:
        """The tasks this adapter's submits (and lookups) handed out, the newest 10,000."""
        return self._returned

    def _remember(self, task: Task, kind: str, source: str | None, submit_id: object) -> None:
        created = int(task.created_at.timestamp() * 1000) if task.created_at else None
        self._submitted().append(
            _Returned(task.id, kind, source, created, None if submit_id is None else str(submit_id))
        )

    def _known(self, kind: str, source: str | None, since: int) -> builtins.list[str]:
        """Ids already handed out for the same kind and source, created since ``since``."""
        return [
            r.task_id
            for r in list(self._submitted())
            if (r.kind, r.source) == (kind, source) and (r.created is None or r.created >= since)
        ]

    def retry(self, task_id: str) -> Task:
        """Run a failed task again (``POST /task/{id}/retry``); retries restart from 0."""
        try:
            # Never sent twice: a retry that timed out may have restarted the task already.
            self.transport.request(
                "POST",
                self.transport.path("task", self.require_id(task_id), "retry"),
                operation="retry",
                creates=True,
            )
        except InvalidRequest as exc:
            raise Conflict(
                exc.message, vendor=self.vendor, operation="retry", http_status=exc.http_status
            ) from exc
        except OutcomeUnknown as exc:
            raise self.not_repeated(
                exc, "retry", task_id, "get the task and look at its state before retrying again"
            ) from exc
        return self.get(task_id)

    def asset(self, asset: Asset | str) -> Asset:
        """One asset (``GET /asset/{id}``), by id or as a task's ``outputs`` hold it: what an
        upload, transcode or clip task makes."""
        body = self.transport.request_json(
            "GET",
            self.transport.path("asset", self.require_id(_asset_id(asset), "asset_id")),
            operation="asset",
        )
        return asset_from(body)

    def delete_asset(self, asset: Asset | str) -> None:
        """Delete an asset (by id, or as a task's ``outputs`` hold it). A task still producing
        it fails ("task cancelled, asset has been deleted"): Livepeer's only way to stop work,
        which ``cancel`` does not offer."""
        self.transport.request(
            "DELETE",
            self.transport.path("asset", self.require_id(_asset_id(asset), "asset_id")),
            operation="delete_asset",
        )


def _created_ms(task: Task) -> int:
    return int(task.created_at.timestamp() * 1000) if task.created_at else 0


def _source(kind: str, spec: Mapping[str, Any], policy: redact.Policy) -> str | None:
    """What identifies a submission of ``kind`` on the server side, masked: it is kept in a
    lookup, which outlives the call (an Airflow task's state, a log), and an import URL may
    be a signed one. Both sides of a comparison are masked alike."""
    if kind == "upload":
        return policy.url(str(spec.get("url")))
    if kind == "clip":
        strategy = spec.get("clipStrategy") or spec
        return f"{strategy.get('playbackId')}@{strategy.get('startTime')}"
    if kind == "transcode-file":
        source = spec.get("input")
        if not isinstance(source, dict):
            return None
        url = source.get("url")
        if url:
            return mask_credentials(str(url))
        # An S3 input object: the server stores the object-store URL it makes of it, masked.
        return masked_object_store_url(source)
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


def _asset_id(asset: Asset | str) -> str:
    # An Asset with no id cannot be addressed; the id check refuses it before any request.
    return (asset.id or "") if isinstance(asset, Asset) else asset


__all__ = ["LivepeerAdapter", "LivepeerOptions"]
