"""Vionlabs Tasks API (vendor ``vionlabs``)."""

from .adapter import PRODUCTS, VionlabsAdapter, VionlabsOptions
from .ids import make_id, split_id
from .statuses import STATUSES

__all__ = ["PRODUCTS", "STATUSES", "VionlabsAdapter", "VionlabsOptions", "make_id", "split_id"]
