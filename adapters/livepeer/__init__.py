"""Livepeer Studio tasks (vendor ``livepeer``)."""

from .adapter import LivepeerAdapter, LivepeerOptions
from .statuses import STATUSES

__all__ = ["STATUSES", "LivepeerAdapter", "LivepeerOptions"]
