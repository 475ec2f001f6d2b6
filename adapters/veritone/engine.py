"""Run a Veritone batch engine: the whole PAYLOAD_FILE task flow around one function.

    from taskhub.adapters.veritone import engine

    def detect(job: engine.EngineInput) -> dict:
        return {"series": [{"found": "cat", "start": 0, "end": 1000}]}

    raise SystemExit(engine.run(detect, supported_types=("video/mp4",)))

or ``taskhub engine veritone mymodule:detect --payload payload.json``. The flow: read the
payload, set the task running, fetch the recording's assets, take the oldest of a supported
type, download it, call the function, upload the files it returns as assets, then set the task
complete with the series as ``outputString``. Any failure sets the task failed with
``output: {error}`` and a fitting failureReason, stops, and makes the exit code non-zero. The
payload's token becomes a secret of the hub's redaction policy when the hub is opened; the
function sees the payload without it.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import attrs

from taskhub import redact
from taskhub.errors import (
    AuthError,
    DownloadError,
    InvalidRequest,
    TaskhubError,
    TaskNotFound,
)
from taskhub.http import parse_json
from taskhub.hub import connect
from taskhub.model import Asset
from taskhub.states import State

from .adapter import FAILURE_REASONS, VeritoneAdapter

log = logging.getLogger("taskhub.engine")

REQUIRED = ("veritoneApiBaseUrl", "token", "jobId", "taskId", "recordingId")
DEFAULT_TYPES = ("video/", "audio/")
EXIT_OK, EXIT_FAILED, EXIT_BAD_PAYLOAD = 0, 1, 2
_DOWNLOAD_REASONS = {
    "not_found": "url_not_found",
    "not_allowed": "url_not_allowed",
    "timeout": "url_timeout",
    "connection_refused": "url_connection_refused",
}


class PayloadError(InvalidRequest):
    """The task payload is missing, unreadable, or lacks a required field."""


class EngineFailure(Exception):
    """Raise from your function to fail the task with a chosen TaskFailureReason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason if reason in FAILURE_REASONS else "other"
        self.message = message


@attrs.frozen
class EngineInput:
    """What the function gets: the downloaded file, its asset, and the task payload."""

    path: Path
    asset: Asset
    #: ``taskPayload``: the engine-specific parameters.
    task_payload: dict[str, Any]
    #: The whole payload, without its token.
    payload: dict[str, Any]


@attrs.frozen
class OutputFile:
    """A file to store as an asset of the recording."""

    path: Path
    content_type: str | None = None
    #: The asset type: transcript, text, media, v-vlf ...
    type: str = "text"


@attrs.frozen
class EngineOutput:
    """What the function returns: a series (``outputString``) and/or files (assets)."""

    series: Any = None
    files: tuple[OutputFile, ...] = ()


Process = Callable[[EngineInput], Any]


def load_payload(
    path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Read the payload from ``path``, ``$PAYLOAD_FILE`` or ``$PAYLOAD_JSON``; check its fields."""
    env = os.environ if environ is None else environ
    source = str(path) if path is not None else env.get("PAYLOAD_FILE")
    if source:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise PayloadError(
                f"cannot read the payload file {source!r}: {exc.strerror}", field="PAYLOAD_FILE"
            ) from None
    elif env.get("PAYLOAD_JSON"):
        text, source = env["PAYLOAD_JSON"], "PAYLOAD_JSON"
    else:
        raise PayloadError(
            "no task payload: pass --payload FILE or set PAYLOAD_FILE", field="PAYLOAD_FILE"
        )
    try:
        payload = parse_json(text.encode("utf-8", "surrogatepass"))
    except ValueError as exc:
        problem = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise PayloadError(
            f"the payload in {source} is not JSON: {problem}", field="PAYLOAD_FILE"
        ) from None
    if not isinstance(payload, dict):
        raise PayloadError(f"the payload in {source} is not a JSON object", field="PAYLOAD_FILE")
    missing = [
        f for f in REQUIRED if not isinstance(payload.get(f), (str, int)) or payload[f] == ""
    ]
    if missing:
        raise PayloadError(f"the payload is missing {', '.join(missing)}", field=missing[0])
    return payload


def pick_asset(assets: Iterable[Asset], supported_types: Iterable[str]) -> Asset | None:
    """The oldest asset whose content type (or asset type) is supported."""
    types = tuple(supported_types)

    def supported(asset: Asset) -> bool:
        kind = (asset.content_type or "").lower()
        return any(
            kind == t or (t.endswith("/") and kind.startswith(t)) or asset.kind == t for t in types
        )

    oldest = datetime.max.replace(tzinfo=timezone.utc)
    usable = [a for a in assets if supported(a)]
    usable.sort(key=lambda a: a.created_at or oldest)
    return usable[0] if usable else None


def run(
    process: Process,
    supported_types: Iterable[str] = DEFAULT_TYPES,
    *,
    payload: str | os.PathLike[str] | Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    engine_id: str | None = None,
    workdir: str | os.PathLike[str] | None = None,
) -> int:
    """Run the whole task flow around ``process``; return the exit code (0 on success)."""
    try:
        data = dict(payload) if isinstance(payload, Mapping) else load_payload(payload, environ)
        if isinstance(payload, Mapping):
            data = load_payload(environ={"PAYLOAD_JSON": json.dumps(data)})
    except PayloadError as exc:
        log.error("%s", exc)
        return EXIT_BAD_PAYLOAD
    types = tuple(supported_types)
    task_id, job_id, tdo = str(data["taskId"]), str(data["jobId"]), str(data["recordingId"])
    hub = connect("veritone", token=data["token"], base_url=data["veritoneApiBaseUrl"])
    adapter = hub.adapter
    assert isinstance(adapter, VeritoneAdapter)
    try:
        adapter.report(task_id, State.RUNNING, job_id=job_id)
        asset = pick_asset(adapter.assets(tdo), types)
        if asset is None:
            raise EngineFailure(
                "invalid_data",
                f"recording {tdo} has no asset of a supported type ({', '.join(types)})",
            )
        with tempfile.TemporaryDirectory(prefix="taskhub-engine-", dir=workdir) as scratch:
            path = adapter.download(asset, scratch)
            clean = {k: v for k, v in data.items() if k != "token"}
            result = _as_output(
                process(EngineInput(path, asset, dict(data.get("taskPayload") or {}), clean))
            )
            for item in result.files:
                adapter.create_asset(
                    tdo,
                    type=item.type,
                    content_type=item.content_type
                    or mimetypes.guess_type(item.path.name)[0]
                    or "application/octet-stream",
                    file=item.path,
                    source_data={"name": engine_id or "taskhub-engine", "taskId": task_id},
                )
        adapter.report(
            task_id,
            State.SUCCEEDED,
            job_id=job_id,
            output=result.series if result.series is not None else {},
        )
        log.info("task %s complete", task_id)
        return EXIT_OK
    except Exception as exc:
        reason, message = _failure(exc)
        log.error("task %s failed (%s): %s", task_id, reason, message)
        try:
            adapter.report(
                task_id,
                State.FAILED,
                job_id=job_id,
                error=message,
                failure_reason=reason,
                failure_message=message,
            )
        except TaskhubError as report_error:
            log.error("could not report the failure of task %s: %s", task_id, report_error)
        return EXIT_FAILED
    finally:
        hub.close()


def _as_output(result: Any) -> EngineOutput:
    if isinstance(result, EngineOutput):
        return result
    if result is None:
        return EngineOutput()
    if isinstance(result, (str, os.PathLike)):
        return EngineOutput(files=(OutputFile(Path(result)),))
    if isinstance(result, OutputFile):
        return EngineOutput(files=(result,))
    if (
        isinstance(result, list)
        and result
        and all(isinstance(r, (str, os.PathLike, OutputFile)) for r in result)
    ):
        return EngineOutput(
            files=tuple(r if isinstance(r, OutputFile) else OutputFile(Path(r)) for r in result)
        )
    if isinstance(result, (dict, list)):
        return EngineOutput(series=result)
    raise TypeError(
        f"the engine function returned {type(result).__name__}; expected a dict "
        "(the output), file paths, or EngineOutput"
    )


def _failure(exc: Exception) -> tuple[str, str]:
    message = redact.text(str(exc)) or type(exc).__name__
    if isinstance(exc, EngineFailure):
        return exc.reason, message
    if isinstance(exc, DownloadError):
        return _DOWNLOAD_REASONS.get(exc.reason, "url_error"), message
    if isinstance(exc, AuthError):
        return (
            "api_authentication_error" if exc.http_status in (None, 200, 401) else "api_not_allowed"
        ), message
    if isinstance(exc, TaskNotFound):
        return "api_not_found", message
    if isinstance(exc, TaskhubError):
        return "api_error", message
    return "internal_error", f"{type(exc).__name__}: {message}"
