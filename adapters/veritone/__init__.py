"""Veritone aiWARE GraphQL (vendor ``veritone``)."""

from .adapter import VeritoneAdapter, VeritoneOptions
from .parse import parse_asset, parse_job, parse_task
from .statuses import STATUSES

__all__ = [
    "STATUSES",
    "VeritoneAdapter",
    "VeritoneOptions",
    "parse_asset",
    "parse_job",
    "parse_task",
]
