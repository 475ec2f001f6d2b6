"""Cognite Data Fusion workflows (vendor ``cognite``)."""

from .adapter import CogniteAdapter, CogniteOptions
from .parse import parse_execution, parse_task
from .statuses import STATUSES

__all__ = ["STATUSES", "CogniteAdapter", "CogniteOptions", "parse_execution", "parse_task"]
