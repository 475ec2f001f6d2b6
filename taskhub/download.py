"""Downloading a file safely: streamed, size-capped, to a safe name, never half-written.

The body goes to a hidden temporary file in the target directory and is renamed into place
only when complete, so a dropped connection or an oversize body leaves nothing behind. The
name comes from the caller or the URL, reduced to a plain file name that cannot leave the
directory. Signed URLs are secrets: no URL query appears in an error or a log line.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

import requests
import urllib3.exceptions

from taskhub.errors import (
    DeadlineExceeded,
    DownloadError,
    InvalidRequest,
    OriginRefused,
    TaskhubError,
)
from taskhub.http import Streamed, Transport, caused_by

log = logging.getLogger("taskhub.download")

#: Default cap on one download: 2 GiB.
MAX_BYTES = 2 * 1024**3
#: Default time one download may take in all, in seconds.
DEADLINE = 3600.0
_CHUNK = 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]")
_REASONS = {401: "not_allowed", 403: "not_allowed", 404: "not_found", 410: "not_found"}


def safe_name(name: str | None, fallback: str = "download") -> str:
    """A plain file name: no directories, no leading dots, only harmless characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE.sub("_", base).strip(" .")
    if not base or base in (".", ".."):
        base = _UNSAFE.sub("_", fallback).strip(" .") or "download"
    return base[:200]


def target_path(directory: str | os.PathLike[str], name: str, *, vendor: str | None = None) -> Path:
    """Where a file called ``name`` goes in ``directory``: inside it, and never through a
    symbolic link (the directory is resolved once; the file's own name never is)."""
    target_dir = Path(directory).resolve()
    if not target_dir.is_dir():
        raise _error("error", f"{target_dir} is not a directory", vendor)
    target = target_dir / safe_name(name)
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise _error(
            "unsafe_name",
            f"{target.name} in the target directory is a link or not a regular file",
            vendor,
        )
    return target


def download(
    url: str,
    directory: str | os.PathLike[str],
    *,
    name: str | None = None,
    max_bytes: int = MAX_BYTES,
    transport: Transport | None = None,
    deadline: float = DEADLINE,
    timeout: float | None = None,
    vendor: str | None = None,
) -> Path:
    """Fetch ``url`` into ``directory`` and return the path of the complete file.

    Through ``transport`` (a hub's), the download uses that hub's session — its TLS, CA and
    proxy settings — and its credentials only if ``url`` is on the hub's own origin; a signed
    storage URI gets none. ``deadline`` bounds the whole download; ``timeout`` each read.
    """
    from_url = safe_name(unquote(urlsplit(url).path.rsplit("/", 1)[-1]))
    target = target_path(directory, safe_name(name, fallback=from_url), vendor=vendor)
    own = transport is None
    if transport is None:
        from taskhub.adapter import Options

        transport = Transport(vendor=vendor or "download", base_url="", options=Options())
    vendor = vendor or transport.vendor
    shown = transport.policy.url(url)
    failure: BaseException | None = None
    try:
        with transport.stream(url, operation="download", deadline=deadline, timeout=timeout) as r:
            return _save(r, target, max_bytes, shown, vendor)
    except (TaskhubError, OSError, urllib3.exceptions.HTTPError) as exc:
        if isinstance(exc, DownloadError):
            raise
        failure = exc
    finally:
        if own:
            transport.close()
    raise _failed(failure, shown, vendor)


def _save(response: Streamed, target: Path, max_bytes: int, shown: str, vendor: str) -> Path:
    if response.status_code >= 400:
        raise DownloadError(
            f"{shown} answered HTTP {response.status_code}",
            reason=_REASONS.get(response.status_code, "error"),
            vendor=vendor,
            operation="download",
            http_status=response.status_code,
        )
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise _error(
            "too_large", f"{shown} is {declared} bytes, over the cap of {max_bytes}", vendor
        )
    fd, temp = tempfile.mkstemp(prefix=".taskhub-", suffix=".part", dir=target.parent)
    written = 0
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in response.chunks(_CHUNK):
                written += len(chunk)
                if written > max_bytes:
                    raise _error(
                        "too_large", f"{shown} is over the cap of {max_bytes} bytes", vendor
                    )
                out.write(chunk)
        # A body shorter than its Content-Length is an error (urllib3 2 raises it), never a
        # complete file.
        os.replace(temp, target)
    except BaseException:
        _remove(temp)
        raise
    log.debug("downloaded %s (%d bytes) to %s", shown, written, target)
    return target


def _failed(exc: BaseException | None, shown: str, vendor: str) -> DownloadError:
    if isinstance(exc, DeadlineExceeded):
        error = _error("timeout", f"the download of {shown} took longer than its deadline", vendor)
    elif isinstance(exc, OriginRefused):
        error = _error("unsafe_redirect", f"{shown}: {exc.message}", vendor)
    elif isinstance(exc, InvalidRequest):
        error = _error("error", f"{shown}: {exc.message}", vendor)
    elif isinstance(exc, requests.ConnectTimeout):
        error = _error("timeout", f"no connection to {shown}", vendor)
    elif isinstance(exc, requests.Timeout):
        error = _error("timeout", f"no answer from {shown}", vendor)
    elif isinstance(exc, requests.ConnectionError) and not isinstance(
        exc, requests.exceptions.ChunkedEncodingError
    ):
        error = _error("connection_refused", f"could not connect to {shown}", vendor)
    elif isinstance(exc, requests.exceptions.TooManyRedirects):
        error = _error("unsafe_redirect", f"too many redirects from {shown}", vendor)
    else:
        error = _error("error", f"the download of {shown} broke off", vendor)
    if exc is not None:
        caused_by(error, exc)
    return error


def write_file(directory: str | os.PathLike[str], name: str, data: bytes) -> Path:
    """Write ``data`` to a safe ``name`` in ``directory``, all or nothing."""
    target = target_path(directory, name)
    fd, temp = tempfile.mkstemp(prefix=".taskhub-", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temp, target)
    except BaseException:
        _remove(temp)
        raise
    return target


def _error(reason: str, message: str, vendor: str | None) -> DownloadError:
    return DownloadError(message, reason=reason, vendor=vendor, operation="download")


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
