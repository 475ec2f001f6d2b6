"""Cognite credentials: a static token, or OAuth 2 client credentials fetched and refreshed."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

import requests

from taskhub.errors import (
    AuthError,
    Conflict,
    InvalidRequest,
    MalformedResponse,
    TaskhubError,
    TaskNotFound,
)
from taskhub.http import Transport

VENDOR = "cognite"
#: Refresh this many seconds before the token says it expires.
REFRESH_MARGIN = 60.0


class StaticToken(requests.auth.AuthBase):
    """``Authorization: Bearer <token>`` with a token given in the configuration."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "<StaticToken ***>"


class ClientCredentials(requests.auth.AuthBase):
    """OAuth 2 client credentials: a token is fetched on first use and before it expires.

    The token request goes through the adapter's Transport (``bind``): the client secret is
    sent only to the configured ``token_url`` origin, never redirected, under the same
    deadline, size cap and redaction as every other call; each new token joins the hub's
    redaction policy.
    """

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        scopes: tuple[str, ...],
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._secret = client_secret
        self.scopes = scopes
        self._transport: Transport | None = None
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()
        #: How many tokens were fetched (a refresh is visible to tests and metrics).
        self.fetched = 0

    def bind(self, transport: Transport) -> None:
        """Use ``transport`` (whose origins include the token URL's) for token requests."""
        self._transport = transport

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        return request

    def token(self) -> str:
        """A valid access token, fetching a new one when needed."""
        with self._lock:
            if self._token is None or time.time() >= self._expires - REFRESH_MARGIN:
                self._token, lifetime = self._fetch()
                self._expires = time.time() + lifetime
                self.fetched += 1
            return self._token

    def _fetch(self) -> tuple[str, float]:
        transport = self._transport
        if transport is None:
            raise RuntimeError("ClientCredentials.bind(transport) was not called")
        data = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._secret,
        }
        if self.scopes:
            data["scope"] = " ".join(self.scopes)
        refused: TaskhubError | None = None
        try:
            response = transport.request(
                "POST", self.token_url, operation="token", data=data, credentials=False
            )
        except (AuthError, InvalidRequest, TaskNotFound, Conflict) as exc:
            refused = exc
        if refused is not None:
            raise AuthError(
                f"the token endpoint refused the client credentials ({refused.message})",
                vendor=VENDOR,
                operation="token",
                http_status=refused.http_status,
            )
        body: Any = None
        with contextlib.suppress(MalformedResponse):
            body = transport.json(response, "token")
        token = body.get("access_token") if isinstance(body, dict) else None
        try:
            lifetime = float(body.get("expires_in", 3600)) if isinstance(body, dict) else 0.0
        except (TypeError, ValueError):
            lifetime = 0.0
        if not isinstance(token, str) or not token or not 0 < lifetime < 10**7:
            raise AuthError(
                "the token endpoint answered without a usable access_token and expires_in",
                vendor=VENDOR,
                operation="token",
                http_status=response.status_code,
            )
        transport.policy.learn(token)
        return token, lifetime

    def __repr__(self) -> str:
        return f"<ClientCredentials client_id={self.client_id!r} ***>"
