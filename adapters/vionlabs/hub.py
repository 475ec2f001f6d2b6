"""The Vionlabs hub: the portable operations, plus the catalog as ``ex_`` calls."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from taskhub.hub import TaskHub
from taskhub.model import Asset

if TYPE_CHECKING:
    from .adapter import VionlabsAdapter


class VionlabsHub(TaskHub):
    """A TaskHub on Vionlabs (``taskhub.connect("vionlabs", …)`` returns one).

    Vionlabs processes catalog items, so a pipeline puts an item in the catalog before it
    submits an :class:`~taskhub.adapters.vionlabs.specs.Analysis` of it. The catalog is
    Vionlabs' own: its methods are prefixed ``ex_``.
    """

    adapter: VionlabsAdapter

    def ex_upsert_item(
        self, id: str, type: str, title: str, asset_url: str | None = None, **fields: Any
    ) -> Asset:
        """Create or replace catalog item ``id`` (``PUT /catalog/v1/item``)."""
        with self._secrets():
            return self.adapter.upsert_item(id, type, title, asset_url, **fields)

    def ex_item(self, type: str, inventory_id: str) -> Asset:
        """One catalog item."""
        with self._secrets():
            return self.adapter.item(type, inventory_id)

    def ex_items(self, *, page_size: int = 500, allow_deleted: bool = False) -> Iterator[Asset]:
        """Every catalog item, fetched page by page as the iterator is read."""
        return self.adapter.items(page_size=page_size, allow_deleted=allow_deleted)


__all__ = ["VionlabsHub"]
