"""Livepeer Studio tasks (vendor ``livepeer``)."""

from .adapter import LivepeerAdapter, LivepeerOptions
from .parse import parse_task
from .statuses import STATUSES
from .webhooks import SeenEvents, WebhookEvent, parse_webhook, sign

__all__ = [
    "STATUSES",
    "LivepeerAdapter",
    "LivepeerOptions",
    "SeenEvents",
    "WebhookEvent",
    "parse_task",
    "parse_webhook",
    "sign",
]
