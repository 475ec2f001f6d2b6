"""Veritone aiWARE Edge REST (vendor ``veritone-edge``)."""

from .adapter import EdgeAdapter, EdgeOptions
from .statuses import STATUSES

__all__ = ["STATUSES", "EdgeAdapter", "EdgeOptions"]
