"""Veritone aiWARE GraphQL: jobs and their tasks; the engine (worker) flow."""

from __future__ import annotations

from typing import ClassVar

import attrs

from taskhub.adapter import Adapter, Options, secret

from .statuses import STATUSES


@attrs.frozen(kw_only=True)
class VeritoneOptions(Options):
    """Options of the ``veritone`` vendor."""

    #: An API key, login token or engine token (sent as ``Authorization: Bearer``).
    token: str = secret()
    #: The endpoint is ``base_url + "/v3/graphql"``.
    base_url: str = "https://api.veritone.com"


class VeritoneAdapter(Adapter):
    """Client for aiWARE jobs over GraphQL."""

    vendor = "veritone"
    options_class = VeritoneOptions
    statuses = STATUSES
    alternatives: ClassVar[dict[str, str]] = {}
