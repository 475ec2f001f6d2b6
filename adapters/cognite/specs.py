"""What a Cognite hub can submit: a run of one version of a data workflow."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs

from taskhub.spec import Spec, mapping, text


@attrs.frozen(repr=False)
class Run(Spec):
    """Run ``version`` of ``workflow`` (``POST /workflows/{w}/versions/{v}/run``) with an
    optional ``input`` object and string ``metadata`` (at most 10 pairs)."""

    vendor: ClassVar[str] = "cognite"

    workflow: str = attrs.field(validator=text())
    version: str = attrs.field(validator=text(hint='versions too: "1", not 1'))
    input: Mapping[str, Any] | None = attrs.field(default=None, validator=mapping(optional=True))
    metadata: Mapping[str, str] | None = attrs.field(default=None, validator=mapping(optional=True))


__all__ = ["Run"]
