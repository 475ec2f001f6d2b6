"""Who may do what: tokens and their roles, the browser session, the Host and Origin checks.

Tokens are configured by name and role (``[serve.tokens.NAME]`` with ``role`` and ``token``,
the value from the environment) or given as one operator token (``--token`` /
``TASKHUB_SERVE_TOKEN``). A client sends ``Authorization: Bearer TOKEN`` (the scheme in any
case, RFC 9110 §11.1); a browser logs in once with ``/?token=TOKEN`` and then carries a
session cookie signed with that token, never the token itself, so any token's characters
work and the cookie is useless to anyone who does not know the token.

A page action (a POST carrying the session cookie) must also carry the session's anti-CSRF
value (``X-Taskhub-CSRF``), and every POST from a browser must come from this service's own
origin (``Sec-Fetch-Site`` / ``Origin``). Requests whose ``Host`` is not loopback, the address
served, or a name allowed with ``--allow-host`` are refused (421), which stops a DNS-rebinding
page from reading a service that listens on loopback without a token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import time
from collections.abc import Iterable, Mapping
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import urlsplit

import attrs

from taskhub.errors import ConfigError

from .routes import Role

#: A token shorter than this, or made of fewer distinct characters, is refused at start.
MIN_TOKEN_LENGTH = 16
MIN_TOKEN_CHARACTERS = 8
#: How long a browser session lasts.
SESSION_SECONDS = 12 * 3600
SESSION_COOKIE = "taskhub_session"
CSRF_HEADER = "HTTP_X_TASKHUB_CSRF"
LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "127.0.0.1", "::1"})


class Refused(Exception):
    """A request refused by the access rules: its HTTP status and what to say."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@attrs.frozen
class Token:
    """A named token and its role (the value never shows in a repr)."""

    name: str
    role: Role
    value: str = attrs.field(repr=False)


def check_token(value: str, where: str) -> None:
    """Refuse a token too weak to guard the service, naming where it came from (never its
    value)."""
    if len(value) < MIN_TOKEN_LENGTH or len(set(value)) < MIN_TOKEN_CHARACTERS:
        raise ConfigError(
            f"{where}: a token needs at least {MIN_TOKEN_LENGTH} characters, at least "
            f'{MIN_TOKEN_CHARACTERS} of them different (e.g. python3 -c "import secrets; '
            'print(secrets.token_urlsafe(24))")',
            path=where,
        )


def is_loopback(host: str) -> bool:
    """True for a loopback address or name."""
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@attrs.frozen
class Session:
    """Who a browser session belongs to, and the anti-CSRF value of that session."""

    token: Token
    csrf: str


class Access:
    """The access rules of one service."""

    def __init__(self, tokens: Iterable[Token] = (), *, hosts: Iterable[str] = ()) -> None:
        self.tokens = tuple(tokens)
        names = [t.name for t in self.tokens]
        if len(set(names)) != len(names):
            raise ConfigError("two serve tokens have the same name", path="serve.tokens")
        values = [t.value for t in self.tokens]
        if len(set(values)) != len(values):
            raise ConfigError("two serve tokens have the same value", path="serve.tokens")
        #: Host names (lower case, no port) besides loopback that requests may name.
        self.hosts = frozenset(h.lower().strip("[]") for h in hosts)

    @property
    def open(self) -> bool:
        """True when no token is configured: everyone is an operator (loopback only)."""
        return not self.tokens

    # -- the checks ----------------------------------------------------------------------------

    def check_host(self, environ: Mapping[str, Any]) -> None:
        """421 unless the request names this service: loopback or an allowed host."""
        host = _host_name(environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or "")
        if not host or is_loopback(host) or host in self.hosts:
            return
        raise Refused(
            421, f"this service does not answer for host {host[:100]!r} (see --allow-host)"
        )

    def check_origin(self, environ: Mapping[str, Any]) -> None:
        """403 for a POST a browser sent from another site."""
        site = environ.get("HTTP_SEC_FETCH_SITE")
        if site is not None and site not in ("same-origin", "none"):
            raise Refused(403, f"a cross-site request ({site[:40]}) cannot act here")
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None:
            try:
                parts = urlsplit(origin)
                mine = parts.netloc.lower() == str(environ.get("HTTP_HOST", "")).lower()
            except ValueError:
                mine = False
            if not mine:
                raise Refused(403, "a request from another origin cannot act here")

    def who(self, environ: Mapping[str, Any], role: Role, *, posting: bool) -> Token | None:
        """The token of a request that needs ``role``; Refused (401 / 403) when it has none
        or its role is too low. With no token configured, everyone may do everything."""
        if role <= Role.SIGNED or self.open:
            return None
        token, session = self._bearer(environ), None
        if token is None:
            session = self.session(environ)
            token = session.token if session else None
        if token is None:
            raise Refused(401, "a token is required (Authorization: Bearer TOKEN)")
        if token.role < role:
            raise Refused(
                403, f"the token {token.name!r} may not do this (it is a {token.role.name.lower()})"
            )
        if posting and session is not None:
            given = str(environ.get(CSRF_HEADER, ""))
            if not hmac.compare_digest(given.encode(), session.csrf.encode()):
                raise Refused(403, "the page's anti-CSRF value is missing or wrong; reload it")
        return token

    # -- tokens and sessions -------------------------------------------------------------------

    def _bearer(self, environ: Mapping[str, Any]) -> Token | None:
        header = str(environ.get("HTTP_AUTHORIZATION", ""))
        scheme, _, given = header.strip().partition(" ")
        if not header:
            return None
        if scheme.lower() != "bearer" or not given.strip():
            raise Refused(401, "expected Authorization: Bearer TOKEN")
        found = self.token(given.strip())
        if found is None:
            raise Refused(401, "unknown token")
        return found

    def token(self, value: str) -> Token | None:
        """The configured token with this value (compared in constant time), or None."""
        found = None
        for token in self.tokens:
            if hmac.compare_digest(value.encode(), token.value.encode()):
                found = token
        return found

    def login(self, value: str, *, now: float | None = None) -> str:
        """A session cookie for the token ``value`` (Refused 401 for an unknown token)."""
        token = self.token(value)
        if token is None:
            raise Refused(401, "wrong token")
        issued = int(time.time() if now is None else now)
        payload = f"{_b64(token.name.encode())}.{issued}.{secrets.token_urlsafe(12)}"
        cookie = f"{payload}.{_sign(token, 'session', payload)}"
        return (
            f"{SESSION_COOKIE}={cookie}; HttpOnly; SameSite=Strict; Path=/; "
            f"Max-Age={SESSION_SECONDS}"
        )

    def session(self, environ: Mapping[str, Any], *, now: float | None = None) -> Session | None:
        """The valid session the request's cookie names, or None."""
        try:
            jar = SimpleCookie(str(environ.get("HTTP_COOKIE", "")))
        except CookieError:
            return None
        morsel = jar.get(SESSION_COOKIE)
        if morsel is None:
            return None
        name_b64, issued, nonce, signature = [*morsel.value.split("."), "", "", ""][:4]
        payload = f"{name_b64}.{issued}.{nonce}"
        try:
            name = base64.urlsafe_b64decode(name_b64 + "=" * (-len(name_b64) % 4)).decode()
            age = (time.time() if now is None else now) - int(issued)
        except ValueError:
            return None
        token = next((t for t in self.tokens if t.name == name), None)
        if token is None or not 0 <= age <= SESSION_SECONDS:
            return None
        if not hmac.compare_digest(signature.encode(), _sign(token, "session", payload).encode()):
            return None
        return Session(token, _sign(token, "csrf", payload))


def _sign(token: Token, purpose: str, payload: str) -> str:
    mac = hmac.new(token.value.encode(), f"{purpose}:{payload}".encode(), hashlib.sha256)
    return _b64(mac.digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _host_name(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
