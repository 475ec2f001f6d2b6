"""Cognite Data Fusion workflows (vendor ``cognite``)."""

from .adapter import CogniteAdapter, CogniteOptions
from .statuses import STATUSES

__all__ = ["STATUSES", "CogniteAdapter", "CogniteOptions"]
