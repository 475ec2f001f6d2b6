"""The Livepeer hub: the portable operations, plus Livepeer's own marked ``ex_``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from taskhub.hub import TaskHub
from taskhub.model import Asset

if TYPE_CHECKING:
    from .adapter import LivepeerAdapter


class LivepeerHub(TaskHub):
    """A TaskHub on Livepeer Studio (``taskhub.connect("livepeer", …)`` returns one).

    Methods prefixed ``ex_`` exist on Livepeer only: code that calls them does not move to
    another vendor by configuration alone.
    """

    adapter: LivepeerAdapter

    def ex_asset(self, asset: Asset | str) -> Asset:
        """One asset (``GET /asset/{id}``), by id or as a task's ``outputs`` hold it: what an
        upload, transcode or clip task makes."""
        with self._secrets():
            return self.adapter.asset(_asset_id(asset))

    def ex_delete_asset(self, asset: Asset | str) -> None:
        """Delete an asset. A task still producing it fails ("task cancelled, asset has been
        deleted"): Livepeer's only way to stop work, which ``cancel`` does not offer."""
        with self._secrets():
            self.adapter.delete_asset(_asset_id(asset))


def _asset_id(asset: Asset | str) -> str:
    # An Asset with no id cannot be addressed; the id check refuses it before any request.
    return (asset.id or "") if isinstance(asset, Asset) else asset


__all__ = ["LivepeerHub"]
