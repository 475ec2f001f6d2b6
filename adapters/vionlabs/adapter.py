"""Vionlabs Tasks API: one task per (catalog item, product, version)."""

from __future__ import annotations

from typing import ClassVar, Literal

import attrs

from taskhub.adapter import Adapter, Options, secret

from .statuses import STATUSES


@attrs.frozen(kw_only=True)
class VionlabsOptions(Options):
    """Options of the ``vionlabs`` vendor."""

    api_key: str = secret()
    #: The Tasks/Catalog API root. Vionlabs publishes no default host.
    base_url: str
    #: ``query`` sends ``?key=`` (preferred); ``header`` the deprecated ``X-API-Key``.
    auth: Literal["query", "header"] = attrs.field(
        default="query", validator=attrs.validators.in_(("query", "header"))
    )


class VionlabsAdapter(Adapter):
    """Client for the Vionlabs Tasks and Catalog APIs."""

    vendor = "vionlabs"
    options_class = VionlabsOptions
    statuses = STATUSES
    alternatives: ClassVar[dict[str, str]] = {
        "list": "the Tasks API has no listing; keep the (item, product, version) ids you "
        "submitted, or list catalog items",
        "retry": "submit the same (item, product, version) again",
        "report": "tasks are advanced by Vionlabs' own processing",
    }
