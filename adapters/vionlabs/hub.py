"""The Vionlabs hub: the portable operations, plus the catalog as ``ex_`` calls."""

from __future__ import annotations

from taskhub.hub import TaskHub, forward

from .adapter import VionlabsAdapter


class VionlabsHub(TaskHub):
    """A TaskHub on Vionlabs (``taskhub.connect("vionlabs", …)`` returns one).

    Vionlabs processes catalog items, so a pipeline puts an item in the catalog before it
    submits an :class:`~taskhub.adapters.vionlabs.specs.Analysis` of it. The catalog is
    Vionlabs' own: its methods are prefixed ``ex_``.
    """

    adapter: VionlabsAdapter

    ex_upsert_item = forward(VionlabsAdapter.upsert_item)
    ex_item = forward(VionlabsAdapter.item)
    ex_items = forward(VionlabsAdapter.items)


__all__ = ["VionlabsHub"]
