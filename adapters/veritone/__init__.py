"""Veritone aiWARE GraphQL (vendor ``veritone``)."""

from .adapter import VeritoneAdapter, VeritoneOptions
from .statuses import STATUSES

__all__ = ["STATUSES", "VeritoneAdapter", "VeritoneOptions"]
