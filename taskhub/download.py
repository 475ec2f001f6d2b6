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

from taskhub import redact
from taskhub.errors import DownloadError
from taskhub.http import scrubbed

log = logging.getLogger("taskhub.download")

#: Default cap on one download: 2 GiB.
MAX_BYTES = 2 * 1024**3
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


def download(
    url: str,
    directory: str | os.PathLike[str],
    *,
    name: str | None = None,
    max_bytes: int = MAX_BYTES,
    session: requests.Session | None = None,
    timeout: tuple[float, float] = (5.0, 60.0),
    vendor: str | None = None,
) -> Path:
    """Fetch ``url`` into ``directory`` and return the path of the complete file."""
    target_dir = Path(directory).resolve()
    if not target_dir.is_dir():
        raise DownloadError(
            f"{target_dir} is not a directory", reason="error", vendor=vendor, operation="download"
        )
    from_url = safe_name(unquote(urlsplit(url).path.rsplit("/", 1)[-1]))
    target = (target_dir / safe_name(name, fallback=from_url)).resolve()
    if target.parent != target_dir:
        raise DownloadError(
            "the file name would leave the target directory",
            reason="unsafe_name",
            vendor=vendor,
            operation="download",
        )
    shown = redact.url(url)
    client = session or requests.Session()
    try:
        response = client.get(url, stream=True, timeout=timeout)
    except requests.ConnectTimeout as exc:
        raise _error("timeout", f"no connection to {shown}", vendor) from scrubbed(exc)
    except requests.Timeout as exc:
        raise _error("timeout", f"no answer from {shown}", vendor) from scrubbed(exc)
    except requests.ConnectionError as exc:
        raise _error("connection_refused", f"could not connect to {shown}", vendor) from scrubbed(
            exc
        )
    with response:
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
        fd, temp = tempfile.mkstemp(prefix=".taskhub-", suffix=".part", dir=target_dir)
        written = 0
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in response.iter_content(_CHUNK):
                    written += len(chunk)
                    if written > max_bytes:
                        raise _error(
                            "too_large", f"{shown} is over the cap of {max_bytes} bytes", vendor
                        )
                    out.write(chunk)
            os.replace(temp, target)
        except DownloadError:
            _remove(temp)
            raise
        except (requests.RequestException, OSError) as exc:
            _remove(temp)
            raise _error(
                "error", f"the download of {shown} broke off after {written} bytes", vendor
            ) from scrubbed(exc)
        except BaseException:
            _remove(temp)
            raise
    log.debug("downloaded %s (%d bytes) to %s", shown, written, target)
    return target


def write_file(directory: str | os.PathLike[str], name: str, data: bytes) -> Path:
    """Write ``data`` to a safe ``name`` in ``directory``, all or nothing."""
    target_dir = Path(directory).resolve()
    target = (target_dir / safe_name(name)).resolve()
    if target.parent != target_dir:
        raise DownloadError(
            "the file name would leave the target directory",
            reason="unsafe_name",
            operation="download",
        )
    fd, temp = tempfile.mkstemp(prefix=".taskhub-", suffix=".part", dir=target_dir)
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
