"""Cognite Data Fusion workflows: executions and their task executions."""

from __future__ import annotations

from typing import ClassVar

import attrs

from taskhub.adapter import Adapter, Options, secret

from .statuses import STATUSES


@attrs.frozen(kw_only=True)
class CogniteOptions(Options):
    """Options of the ``cognite`` vendor: a static token, or OAuth client credentials."""

    project: str
    #: The cluster URL, e.g. ``https://api.cognitedata.com``.
    base_url: str
    token: str | None = secret(default=None)
    client_id: str | None = None
    client_secret: str | None = secret(default=None)
    token_url: str | None = None
    scopes: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    #: Sent as ``x-cdp-app``.
    client_name: str = "taskhub"

    def __attrs_post_init__(self) -> None:
        oauth = (self.client_id, self.client_secret, self.token_url)
        if self.token is None and not all(oauth):
            raise ValueError("give either token, or client_id + client_secret + token_url")
        if self.token is not None and any(oauth):
            raise ValueError("give either token or client credentials, not both")


class CogniteAdapter(Adapter):
    """Client (and async-task worker) for CDF workflow executions."""

    vendor = "cognite"
    options_class = CogniteOptions
    statuses = STATUSES
    alternatives: ClassVar[dict[str, str]] = {}
