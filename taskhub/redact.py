"""Scrubbing secrets out of anything that may be shown: URLs, headers, messages.

Two nets, because either alone leaks: patterns catch the shapes secrets travel in
(``Authorization`` values, ``key=`` query parameters, signed-URI queries), and a registry of
the exact secret values this process was configured with catches a secret wherever it lands,
for instance echoed back inside a vendor's error text.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlsplit, urlunsplit

MASK = "***"

#: Query parameters whose value is a credential.
SECRET_PARAMS = frozenset(
    {
        "key",
        "api_key",
        "apikey",
        "token",
        "access_token",
        "id_token",
        "refresh_token",
        "client_secret",
        "password",
        "secret",
        "nonce",
        "code",
        "auth",
        "jwt",
    }
)
#: Query parameters whose presence means the whole query is a signature (S3, GCS, Azure SAS).
SIGNATURE_PARAMS = frozenset(
    {
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "x-goog-signature",
        "x-goog-credential",
        "signature",
        "sig",
        "se",
        "policy",
        "key-pair-id",
        "expires",
    }
)
#: Request or response headers whose value is a credential.
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "api_key",
        "api-key",
        "x-api-key",
        "cookie",
        "set-cookie",
        "livepeer-signature",
        "x-cdp-token",
    }
)
#: JSON field names whose value is a credential.
SECRET_FIELDS = frozenset(
    {
        "token",
        "api_key",
        "apikey",
        "apiToken",
        "access_token",
        "client_secret",
        "clientSecret",
        "password",
        "nonce",
        "secret",
        "signedUri",
        "signed_uri",
    }
)

_URL_RE = re.compile(r"""(?i)\b(?:https?|s3|gs|wss?)://[^\s"'<>]+""")
_AUTH_RE = re.compile(r"(?i)\b(bearer|basic|jwt|token)\s+[A-Za-z0-9._~+/=:-]{4,}")
_QUERY_SECRET_RE = re.compile(
    r"(?i)([?&;](?:" + "|".join(sorted(SECRET_PARAMS | SIGNATURE_PARAMS)) + r")=)[^&\s\"'#]+"
)
# A secret field in JSON ("token": "...") or in a form or query string (token=...). Bare
# "token: ..." is left alone: that is how error messages name options, not how secrets travel.
_FIELDS = "|".join(sorted(SECRET_FIELDS))
_FIELD_RE = re.compile(
    r"""(?i)(["'](?:""" + _FIELDS + r""")["']\s*:\s*["']?|\b(?:""" + _FIELDS + r""")=)"""
    r"""[^"',}\s&]+"""
)

_known: set[str] = set()
_known_lock = threading.Lock()
# Secrets shorter than this are too likely to collide with ordinary words to scrub blindly.
_MIN_SECRET_LEN = 6


def register_secret(value: str | None) -> None:
    """Remember a configured secret so :func:`text` scrubs it wherever it appears."""
    if value and len(value) >= _MIN_SECRET_LEN:
        with _known_lock:
            _known.add(value)


def url(value: str) -> str:
    """Return ``value`` with credentials and signatures in its query (and userinfo) masked."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return text(value)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        names = {k.lower() for k, _ in pairs}
        if names & SIGNATURE_PARAMS:
            query = MASK
        else:
            query = "&".join(
                f"{k}={MASK}" if k.lower() in SECRET_PARAMS else f"{k}={v}" for k, v in pairs
            )
    return _scrub_known(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


def headers(values: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Return a copy of ``values`` with credential headers masked."""
    items = values.items() if isinstance(values, Mapping) else values
    return {k: (MASK if k.lower() in SECRET_HEADERS else text(v)) for k, v in items}


def text(value: str) -> str:
    """Mask every secret this module can recognise inside free text."""
    if not value:
        return value
    value = _URL_RE.sub(lambda m: url(m.group(0)), value)
    value = _AUTH_RE.sub(lambda m: f"{m.group(1)} {MASK}", value)
    value = _QUERY_SECRET_RE.sub(lambda m: m.group(1) + MASK, value)
    value = _FIELD_RE.sub(lambda m: m.group(1) + MASK, value)
    return _scrub_known(value)


def _scrub_known(value: str) -> str:
    if not _known:
        return value
    with _known_lock:
        known = sorted(_known, key=len, reverse=True)
    for secret in known:
        if secret in value:
            value = value.replace(secret, MASK)
    return value
