"""Vionlabs Tasks API (vendor ``vionlabs``)."""

from .adapter import VionlabsAdapter, VionlabsOptions
from .ids import make_id, split_id
from .specs import PRODUCTS
from .statuses import STATUSES

__all__ = ["PRODUCTS", "STATUSES", "VionlabsAdapter", "VionlabsOptions", "make_id", "split_id"]
