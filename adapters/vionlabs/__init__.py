"""Vionlabs Tasks API (vendor ``vionlabs``)."""

from .adapter import VionlabsAdapter, VionlabsOptions
from .statuses import STATUSES

__all__ = ["STATUSES", "VionlabsAdapter", "VionlabsOptions"]
