"""Cognite credentials: a static token, or OAuth 2 client credentials fetched and refreshed."""

from __future__ import annotations

import threading
import time
from typing import Any

import requests

from taskhub import redact
from taskhub.errors import AuthError, VendorUnavailable
from taskhub.http import scrubbed

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
    """OAuth 2 client credentials: a token is fetched on first use and before it expires."""

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        scopes: tuple[str, ...],
        timeout: tuple[float, float],
        verify: bool = True,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._secret = client_secret
        self.scopes = scopes
        self.timeout = timeout
        self.verify = verify
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()
        #: How many tokens were fetched (a refresh is visible to tests and metrics).
        self.fetched = 0

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
        data = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._secret,
        }
        if self.scopes:
            data["scope"] = " ".join(self.scopes)
        try:
            response = requests.post(
                self.token_url, data=data, timeout=self.timeout, verify=self.verify
            )
        except requests.RequestException as exc:
            raise VendorUnavailable(
                f"could not reach the token endpoint {redact.url(self.token_url)}",
                vendor=VENDOR,
                operation="token",
            ) from scrubbed(exc)
        if response.status_code != 200:
            raise AuthError(
                f"the token endpoint refused the client credentials ({_oauth_error(response)})",
                vendor=VENDOR,
                operation="token",
                http_status=response.status_code,
            )
        try:
            body: dict[str, Any] = response.json()
            token = body["access_token"]
            lifetime = float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise AuthError(
                "the token endpoint answered without an access_token",
                vendor=VENDOR,
                operation="token",
                http_status=response.status_code,
            ) from None
        redact.register_secret(token)
        return str(token), lifetime

    def __repr__(self) -> str:
        return f"<ClientCredentials client_id={self.client_id!r} ***>"


def _oauth_error(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])
    return f"HTTP {response.status_code}"
