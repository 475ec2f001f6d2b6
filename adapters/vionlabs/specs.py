"""What a Vionlabs hub can submit: one product's analysis of an ingested catalog item."""

from __future__ import annotations

from typing import ClassVar, Literal, get_args

import attrs

from taskhub.spec import Spec, one_of, text

#: The products a task can be for (the 16 published).
Product = Literal[
    "adbreaks",
    "contextual_adbreak",
    "emotions",
    "fingerprint",
    "fingerprintplus",
    "jitpreviews",
    "jitthumbnails",
    "markers",
    "nudity",
    "profanity",
    "semantic",
    "similar",
    "content_summary",
    "semantic_scenes",
    "vertical_conversion",
    "scene_tags",
]
PRODUCTS: tuple[str, ...] = get_args(Product)
#: How soon Vionlabs should process the task. Only ``low`` is published; the guide names
#: "high, medium, low" as the levels.
Priority = Literal["low", "medium", "high"]
PRIORITIES: tuple[str, ...] = get_args(Priority)


@attrs.frozen(repr=False)
class Analysis(Spec):
    """Process catalog item ``inventory_id`` with ``product`` at ``version`` (``POST
    /tasks/{inventory_id}/{product}/{version}``)."""

    vendor: ClassVar[str] = "vionlabs"

    inventory_id: str = attrs.field(validator=text())
    product: Product = attrs.field(validator=one_of(PRODUCTS))
    version: str = attrs.field(validator=text())
    priority: Priority = attrs.field(default="low", validator=one_of(PRIORITIES))


__all__ = ["PRIORITIES", "PRODUCTS", "Analysis", "Priority", "Product"]
