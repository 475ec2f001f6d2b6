"""Veritone aiWARE Edge REST (``/edge/v1``): jobs, tasks, outputs."""

from __future__ import annotations

from typing import ClassVar

import attrs

from taskhub.adapter import Adapter, Options, secret

from .statuses import STATUSES


@attrs.frozen(kw_only=True)
class EdgeOptions(Options):
    """Options of the ``veritone-edge`` vendor: a Bearer token or the spec's ``api_key``."""

    #: e.g. ``http://localhost:9000/edge/v1``.
    base_url: str
    token: str | None = secret(default=None)
    api_key: str | None = secret(default=None)
    organization_id: str | None = None

    def __attrs_post_init__(self) -> None:
        if not (self.token or self.api_key):
            raise ValueError("give token (Bearer) or api_key")


class EdgeAdapter(Adapter):
    """Client for an aiWARE Edge instance."""

    vendor = "veritone-edge"
    options_class = EdgeOptions
    statuses = STATUSES
    alternatives: ClassVar[dict[str, str]] = {
        "cancel": "Edge has no cancel; delete the job with POST /proc/job/{id}/delete",
    }
