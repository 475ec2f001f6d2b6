"""The Veritone hub: the portable operations, plus aiWARE's assets as ``ex_`` calls."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from taskhub import download as _download
from taskhub.hub import TaskHub
from taskhub.model import Asset

if TYPE_CHECKING:
    from .adapter import VeritoneAdapter


class VeritoneHub(TaskHub):
    """A TaskHub on Veritone aiWARE (``taskhub.connect("veritone", …)`` returns one).

    aiWARE keeps media and engine results as assets of a TDO (temporal data object); reading
    and writing them is aiWARE's own, so those methods are prefixed ``ex_``.
    """

    adapter: VeritoneAdapter

    def ex_assets(self, tdo_id: str, *, types: Iterable[str] | None = None) -> list[Asset]:
        """The assets of TDO ``tdo_id`` (of ``types`` only, when given)."""
        with self._secrets():
            return self.adapter.assets(tdo_id, types=types)

    def ex_download(
        self,
        asset: Asset,
        directory: str | os.PathLike[str],
        *,
        name: str | None = None,
        max_bytes: int = _download.MAX_BYTES,
    ) -> Path:
        """Stream an asset from its signed URI into ``directory`` (the API token never goes
        to the storage host)."""
        with self._secrets():
            return self.adapter.download(asset, directory, name=name, max_bytes=max_bytes)

    def ex_create_asset(
        self,
        container_id: str,
        *,
        type: str,
        content_type: str,
        uri: str | None = None,
        file: str | os.PathLike[str] | BinaryIO | bytes | None = None,
        filename: str | None = None,
        name: str | None = None,
        source_data: dict[str, Any] | None = None,
    ) -> Asset:
        """``createAsset`` on TDO ``container_id``, by URI or by uploading ``file``."""
        with self._secrets():
            return self.adapter.create_asset(
                container_id,
                type=type,
                content_type=content_type,
                uri=uri,
                file=file,
                filename=filename,
                name=name,
                source_data=source_data,
            )


__all__ = ["VeritoneHub"]
