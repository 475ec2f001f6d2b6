"""The Livepeer hub: the portable operations, plus Livepeer's own marked ``ex_``."""

from __future__ import annotations

from taskhub.hub import TaskHub, forward

from .adapter import LivepeerAdapter


class LivepeerHub(TaskHub):
    """A TaskHub on Livepeer Studio (``taskhub.connect("livepeer", …)`` returns one).

    Methods prefixed ``ex_`` exist on Livepeer only: code that calls them does not move to
    another vendor by configuration alone.
    """

    adapter: LivepeerAdapter

    ex_asset = forward(LivepeerAdapter.asset)
    ex_delete_asset = forward(LivepeerAdapter.delete_asset)


__all__ = ["LivepeerHub"]
