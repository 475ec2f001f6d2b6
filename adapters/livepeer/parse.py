"""Livepeer task JSON -> Task. The one parser the adapter, webhooks and ``taskhub.parse`` share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from taskhub.errors import MalformedResponse, parsing
from taskhub.model import Asset, Task, parse_time

from .statuses import STATUSES

VENDOR = "livepeer"


def parse_task(payload: Any, backend: str) -> Task:
    """Turn one Livepeer task object into a Task (MalformedResponse if it is not one)."""
    with parsing(VENDOR, "Livepeer task"):
        return _parse(payload, backend)


#: The vendor's pure parser (``LivepeerAdapter.parser``): a Livepeer payload is one task.
parse_payload = parse_task


def _parse(payload: Any, backend: str) -> Task:
    if not isinstance(payload, dict):
        raise TypeError(f"expected an object, got {type(payload).__name__}")
    task_id = payload["id"]
    status = payload["status"]
    if not isinstance(task_id, str) or not task_id or not isinstance(status, dict):
        raise TypeError("id must be a non-empty string and status an object")
    updated = parse_time(status.get("updatedAt"))
    retries = status.get("retries")
    normalized = STATUSES.normalize(
        status.get("phase"),
        message=_text(status.get("errorMessage")),
        retries=retries if isinstance(retries, int) and not isinstance(retries, bool) else None,
        progress=status.get("progress"),
        updated_at=updated,
    )
    kind = payload.get("type")
    params = payload.get("params") or {}
    if not isinstance(params, dict):
        raise TypeError("params must be an object")
    return Task(
        backend=backend,
        vendor=VENDOR,
        id=task_id,
        status=normalized,
        kind=kind if isinstance(kind, str) else None,
        inputs=_inputs(payload, params),
        outputs=_outputs(payload),
        params=params,
        output=payload.get("output"),
        created_at=parse_time(payload.get("createdAt")),
        started_at=parse_time(payload.get("scheduledAt")),
        updated_at=updated,
        finished_at=updated if normalized.state.terminal else None,
        raw=payload,
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


#: params key -> where its input URL lives (the transcode input is nested once more).
_INPUT_URLS = {"upload": None, "clip": None, "transcode-file": "input"}


def _inputs(payload: dict[str, Any], params: dict[str, Any]) -> tuple[Asset, ...]:
    found: list[Asset] = []
    asset_id = payload.get("inputAssetId")
    if type(asset_id) is str:
        found.append(Asset(id=asset_id, kind="asset"))
    for key, value in params.items():  # one key per task type
        if key in _INPUT_URLS and type(value) is dict:
            nested = _INPUT_URLS[key]
            source = value.get(nested) if nested else value
            url = source.get("url") if type(source) is dict else None
            if type(url) is str:
                found.append(Asset(uri=url, kind="media"))
    return tuple(found)


def _outputs(payload: dict[str, Any]) -> tuple[Asset, ...]:
    found: list[Asset] = []
    if isinstance(payload.get("outputAssetId"), str):
        found.append(Asset(id=payload["outputAssetId"], kind="asset"))
    output = payload.get("output")
    transcode = output.get("transcodeFile") if isinstance(output, dict) else None
    if isinstance(transcode, dict) and isinstance(transcode.get("baseUrl"), str):
        base = transcode["baseUrl"].rstrip("/")
        hls = transcode.get("hls")
        if isinstance(hls, dict) and isinstance(hls.get("path"), str):
            found.append(Asset(uri=f"{base}/{hls['path'].lstrip('/')}", kind="hls"))
        for mp4 in transcode.get("mp4") or []:
            if isinstance(mp4, dict) and isinstance(mp4.get("path"), str):
                found.append(Asset(uri=f"{base}/{mp4['path'].lstrip('/')}", kind="mp4"))
    return tuple(found)


def asset_from(payload: Any) -> Asset:
    """A Livepeer asset object as an Asset."""
    if not isinstance(payload, dict) or not isinstance(payload.get("id"), str):
        raise MalformedResponse("not a Livepeer asset", vendor=VENDOR, operation="parse")
    found = payload.get("source")
    source: dict[str, Any] = found if isinstance(found, dict) else {}
    size = payload.get("size")
    return Asset(
        id=payload["id"],
        uri=source.get("url") if isinstance(source.get("url"), str) else None,
        content_type=None,
        kind="asset",
        name=payload.get("name") if isinstance(payload.get("name"), str) else None,
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        created_at=parse_time(payload.get("createdAt")),
    )


def mask_credentials(url: str) -> str:
    """A URL as Livepeer returns it: user and password replaced by ``***:***``."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, f"***:***@{host}", *parts[2:]))


def masked_object_store_url(storage: Mapping[str, Any]) -> str | None:
    """An S3-like ``{endpoint, bucket, credentials[, path]}`` object as Livepeer shows the URL
    it makes of it: ``s3+https://***:***@host/bucket[/path]`` (the credentials masked, the
    endpoint's path dropped, its default port left out, as ``new URL(endpoint).host`` gives).
    None when a part is missing or the endpoint has no host.
    """
    endpoint, bucket = storage.get("endpoint"), storage.get("bucket")
    if not isinstance(endpoint, str) or not isinstance(bucket, str) or not bucket:
        return None
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    scheme = parts.scheme.lower()
    if not host or scheme not in ("http", "https"):
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    url = f"s3+{scheme}://***:***@{host}/{bucket}"
    path = storage.get("path")
    if isinstance(path, str):
        url += path if path.startswith("/") else f"/{path}"
    return url
