"""What a Livepeer hub can submit: an import from a URL, a transcode of a file, a clip.

Field names are Python's; :meth:`~taskhub.spec.Spec.fields` gives the request body in the
API's camelCase, as a ``[jobs.NAME]`` spec in a configuration writes it. ``extra`` carries any
other documented body field (``playbackPolicy``, ``encryption``, …) as written in the API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import attrs

from taskhub.spec import Spec, flag, invalid, mapping, number, objects, text

_SCHEMES = ("http://", "https://", "ipfs://", "ar://")
#: The documented body fields of an import (new-asset-from-url-payload) beyond the typed ones.
UPLOAD_EXTRA = frozenset(
    {
        "playbackPolicy",
        "creatorId",
        "encryption",
        "c2pa",
        "profiles",
        "targetSegmentSizeSecs",
        "objectStoreId",
        "catalystPipelineStrategy",
    }
)
#: The documented body fields of a transcode (transcode-payload) beyond the typed ones.
TRANSCODE_EXTRA = frozenset(
    {"targetSegmentSizeSecs", "creatorId", "c2pa", "catalystPipelineStrategy"}
)


@attrs.frozen(repr=False)
class LivepeerSpec(Spec):
    """Base of Livepeer's specs."""

    vendor: ClassVar[str] = "livepeer"


@attrs.frozen(repr=False)
class Upload(LivepeerSpec):
    """Import a video from a URL (``POST /asset/upload/url``): an ``upload`` task."""

    kind: ClassVar[str | None] = "upload"
    wire: ClassVar[Mapping[str, str]] = {"static_mp4": "staticMp4"}

    url: str = attrs.field(validator=text())
    name: str = attrs.field(validator=text())
    static_mp4: bool | None = attrs.field(default=None, validator=flag(optional=True))
    storage: Mapping[str, Any] | None = attrs.field(default=None, validator=mapping(optional=True))
    extra: Mapping[str, Any] = attrs.field(
        factory=dict, validator=mapping(keys=UPLOAD_EXTRA), repr=False
    )

    def __attrs_post_init__(self) -> None:
        if not self.url.startswith(_SCHEMES):
            raise invalid(self, "url", "must start with http://, https://, ipfs:// or ar://")


@attrs.frozen(repr=False)
class Transcode(LivepeerSpec):
    """Transcode a file from object storage or a URL into object storage (``POST
    /transcode``): a ``transcode-file`` task. ``input`` and ``storage`` hold credentials, so
    they never appear in the spec's repr."""

    kind: ClassVar[str | None] = "transcode-file"

    input: Mapping[str, Any] = attrs.field(validator=mapping(), repr=False)
    storage: Mapping[str, Any] = attrs.field(validator=mapping(), repr=False)
    outputs: Mapping[str, Any] = attrs.field(validator=mapping())
    profiles: Sequence[Mapping[str, Any]] | None = attrs.field(
        default=None, validator=objects(optional=True)
    )
    extra: Mapping[str, Any] = attrs.field(factory=dict, validator=mapping(keys=TRANSCODE_EXTRA))


@attrs.frozen(repr=False)
class Clip(LivepeerSpec):
    """Clip a livestream or its recording (``POST /clip``): a ``clip`` task. Times are
    milliseconds since the epoch, as the API takes them."""

    kind: ClassVar[str | None] = "clip"
    wire: ClassVar[Mapping[str, str]] = {
        "playback_id": "playbackId",
        "start_time": "startTime",
        "end_time": "endTime",
        "session_id": "sessionId",
    }

    playback_id: str = attrs.field(validator=text())
    start_time: float = attrs.field(validator=number(minimum=0))
    end_time: float | None = attrs.field(default=None, validator=number(optional=True))
    name: str | None = attrs.field(default=None, validator=text(optional=True))
    session_id: str | None = attrs.field(default=None, validator=text(optional=True))

    def __attrs_post_init__(self) -> None:
        if self.end_time is not None and self.end_time <= self.start_time:
            raise invalid(self, "end_time", "must be later than start_time")


__all__ = ["Clip", "LivepeerSpec", "Transcode", "Upload"]
