"""Livepeer Studio: tasks spawned by asset, transcode and clip endpoints."""

from __future__ import annotations

from typing import ClassVar

import attrs

from taskhub.adapter import Adapter, Options, secret

from .statuses import STATUSES


def _page_size(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not 1 <= value <= 1000:
        raise ValueError("page_size must be between 1 and 1000")


@attrs.frozen(kw_only=True)
class LivepeerOptions(Options):
    """Options of the ``livepeer`` vendor."""

    #: A Studio API key (sent as ``Authorization: Bearer``).
    api_key: str = secret()
    #: The API root, including the ``/api`` prefix.
    base_url: str = "https://livepeer.studio/api"
    #: Tasks per list request (the server allows 1 to 1000).
    page_size: int = attrs.field(default=100, validator=_page_size)


class LivepeerAdapter(Adapter):
    """Client for Livepeer Studio's task API."""

    vendor = "livepeer"
    options_class = LivepeerOptions
    statuses = STATUSES
    alternatives: ClassVar[dict[str, str]] = {
        "cancel": "Livepeer has no cancel endpoint; deleting the output asset "
        "(DELETE /asset/{id}) fails the task",
        "report": "tasks are advanced by Livepeer's own workers",
    }
