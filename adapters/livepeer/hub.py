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

    def ex_asset(self, asset_id: str) -> Asset:
        """One asset (``GET /asset/{id}``): what an upload, transcode or clip task makes."""
        with self._secrets():
            return self.adapter.asset(asset_id)

    def ex_delete_asset(self, asset_id: str) -> None:
        """Delete an asset. A task still producing it fails ("task cancelled, asset has been
        deleted"): Livepeer's only way to stop work, which ``cancel`` does not offer."""
        with self._secrets():
            self.adapter.delete_asset(asset_id)


__all__ = ["LivepeerHub"]
