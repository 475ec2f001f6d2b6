"""The ``[serve]`` table of a configuration, checked when ``taskhub serve`` starts.

.. code-block:: toml

    [serve]
    discover_every = 60                 # seconds between listings of each backend
    allow_hosts = ["dash.example.com"]  # Host names to answer besides loopback

    [serve.tokens.ops]                  # a named token and its role
    role = "operator"                   # operator: every read and the actions
    token = "${TASKHUB_OPS_TOKEN}"      # the value from the environment, never the file

    [serve.tokens.grafana]
    role = "viewer"                     # viewer: every read
    token = "${TASKHUB_GRAFANA_TOKEN}"

A mistake is a ConfigError naming its path (``serve.tokens.ops.role: expected one of
viewer, operator``), raised before anything is served; a token's value never appears in one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, Literal

import attrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError

from taskhub.config import interpolate
from taskhub.errors import ConfigError
from taskhub.model import converter, describe_error
from taskhub.options import finite_positive

from .access import Token, check_token
from .routes import Role


@attrs.frozen
class TokenSetting:
    """One ``[serve.tokens.NAME]`` table."""

    role: Literal["viewer", "operator"]
    token: str = attrs.field(repr=False)


@attrs.frozen
class ServeSettings:
    """The ``[serve]`` table."""

    discover_every: float | None = attrs.field(
        default=None, validator=attrs.validators.optional(finite_positive)
    )
    allow_hosts: list[str] = attrs.field(factory=list)
    tokens: dict[str, TokenSetting] = attrs.field(factory=dict)

    def named_tokens(self) -> list[Token]:
        """The configured tokens, each checked for strength."""
        found = []
        for name, setting in self.tokens.items():
            check_token(setting.token, f"serve.tokens.{name}.token")
            found.append(Token(name, Role[setting.role.upper()], setting.token))
        return found


def settings(table: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> ServeSettings:
    """The ``[serve]`` table validated, ``${ENV}`` placeholders filled from ``environ``."""
    filled = interpolate(dict(table), os.environ if environ is None else environ, "serve")
    try:
        return converter.structure(filled, ServeSettings)
    except (ClassValidationError, ForbiddenExtraKeysError) as exc:
        # A token's table is named as TOML names it: serve.tokens.ops, not serve.tokens[ops].
        lines = [
            re.sub(r"\[([^\]\d][^\]]*)\]", r".\1", line) for line in describe_error(exc, "serve")
        ]
        raise ConfigError("; ".join(lines)) from None
