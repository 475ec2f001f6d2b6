"""The Veritone hub: the portable operations, plus aiWARE's assets as ``ex_`` calls."""

from __future__ import annotations

from taskhub.hub import TaskHub, forward

from .adapter import VeritoneAdapter


class VeritoneHub(TaskHub):
    """A TaskHub on Veritone aiWARE (``taskhub.connect("veritone", …)`` returns one).

    aiWARE keeps media and engine results as assets of a TDO (temporal data object); reading
    and writing them is aiWARE's own, so those methods are prefixed ``ex_``.
    """

    adapter: VeritoneAdapter

    ex_assets = forward(VeritoneAdapter.assets)
    ex_download = forward(VeritoneAdapter.download)
    ex_create_asset = forward(VeritoneAdapter.create_asset)


__all__ = ["VeritoneHub"]
