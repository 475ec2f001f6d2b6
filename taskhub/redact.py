"""Scrubbing secrets out of anything that may be shown: URLs, headers, messages, task data.

A :class:`Policy` says what a secret looks like: the header names, query keys and JSON fields
that carry one, and the exact secret values a hub was configured with. Every hub has its own
policy — the common names plus what its adapter declares plus its own values — so nothing one
hub knows leaks into how another renders, and no process-wide set grows with every hub.

Two nets, because either alone leaks: names and shapes catch secrets wherever they travel
(``Authorization`` values, ``key=`` query parameters, signed-URI queries, ``"client_secret":``
fields), and the hub's own values catch a secret wherever it lands, for instance echoed back
inside a vendor's error text. Ordinary words are never rewritten: "the token endpoint" stays.

While a Transport runs a call, its policy is current on that thread (:func:`using`), so a log
record that urllib3 or requests writes during the call is scrubbed with it too
(:func:`guard_loggers`).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
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
#: JSON field names whose value is a credential (compared without regard to case).
SECRET_FIELDS = frozenset(
    {
        "token",
        "api_key",
        "apikey",
        "apitoken",
        "access_token",
        "accesstoken",
        "refresh_token",
        "client_secret",
        "clientsecret",
        "password",
        "nonce",
        "secret",
        "secretaccesskey",
        "secret_access_key",
        "sessiontoken",
        "session_token",
        "privatekey",
        "private_key",
        "signeduri",
        "signed_uri",
    }
)

_URL_RE = re.compile(r"""(?i)\b(?:https?|s3(?:\+https?)?|gs|wss?)://[^\s"'<>]+""")
# A password in any URL's userinfo (scheme://user:password@host), whatever the scheme: the
# URLs above are parsed whole; this catches the rest (postgresql+psycopg://, amqp://, ...).
_USERINFO_RE = re.compile(r"""(?i)\b([a-z][a-z0-9+.-]*://[^\s/@:"'<>]*:)[^\s/@"'<>]+@""")
# A request line or a bare path with a query, as urllib3 logs it: "GET /x?key=abc HTTP/1.1".
_PATH_QUERY_RE = re.compile(r"""(?<![\w:/])/[^\s"'<>?]*\?[^\s"'<>]+""")
# "Bearer <credential>": 8 or more token characters. "Basic <base64>" only when it looks like
# base64 (a digit, '+', '/' or '='), so "basic authentication" stays as written.
_BEARER_RE = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=:-]{8,}")
_BASIC_RE = re.compile(r"(?i)\b(basic)\s+(?=[A-Za-z0-9+/=]*[0-9+/=])[A-Za-z0-9+/=]{8,}")
# A JSON Web Token has this shape wherever it appears.
_JWT_RE = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")

# What every shape above needs somewhere in the text (a superset: a URL's "://", a query's "?"
# or "=", a JWT's "eyJ", the two auth words, a JSON key's closing quote before its colon).
_MAYBE_SHAPED = re.compile(r"""(?i)://|[?=]|eyJ|bearer\s|basic\s|["']\s*:""")

# A secret shorter than this may be part of an ordinary word ("key" in "monkey"): it is masked
# where it stands as a word of its own, longer ones wherever they appear.
_MIN_SECRET_LEN = 6
# taskhub's own hints write a value to fill in as "..." ("api_key=...)"): not a secret.
_PLACEHOLDER = r"(?!(?:\.\.\.|\u2026)(?![^\"',}\s&)\]]))"
# A hub learns new values while it runs (OAuth tokens are refreshed): keep the newest few.
_MAX_LEARNED = 16


class Policy:
    """What counts as a secret for one hub, and how to mask it in anything shown."""

    def __init__(
        self,
        *,
        headers: Iterable[str] = (),
        params: Iterable[str] = (),
        fields: Iterable[str] = (),
        values: Iterable[str | None] = (),
    ) -> None:
        self.header_names = SECRET_HEADERS | {h.lower() for h in headers}
        self.param_names = SECRET_PARAMS | {p.lower() for p in params}
        self.field_names = SECRET_FIELDS | {f.lower() for f in fields}
        self._values = [v for v in values if v]
        self._learned: list[str] = []
        self._lock = threading.Lock()
        names = "|".join(sorted(map(re.escape, self.param_names | SIGNATURE_PARAMS)))
        self._query_re = re.compile(r"(?i)([?&;](?:" + names + r")=)[^&\s\"'#]+")
        # A secret field in JSON ("token": "...") or in a form or query string (token=...).
        # Bare "token: ..." is left alone: that is how error messages name options.
        fields_re = "|".join(sorted(map(re.escape, self.field_names)))
        self._field_re = re.compile(
            r"""(?i)(["'](?:"""
            + fields_re
            + r""")["']\s*:\s*["']?|\b(?:"""
            + fields_re
            + r""")=)"""
            + _PLACEHOLDER
            + r"""[^"',}\s&]+"""
        )

    def extend(
        self,
        *,
        headers: Iterable[str] = (),
        params: Iterable[str] = (),
        fields: Iterable[str] = (),
        values: Iterable[str | None] = (),
    ) -> Policy:
        """A new policy with these names and values added to this one's."""
        return Policy(
            headers=self.header_names | set(headers),
            params=self.param_names | set(params),
            fields=self.field_names | set(fields),
            values=[*self._values, *values],
        )

    def learn(self, value: str | None) -> None:
        """Add a secret obtained at run time (a fresh OAuth token), keeping the newest few."""
        if value:
            with self._lock:
                if value not in self._learned:
                    self._learned = [*self._learned[-(_MAX_LEARNED - 1) :], value]

    # -- rendering ------------------------------------------------------------------------------

    def url(self, value: str) -> str:
        """``value`` with credentials and signatures in its query and userinfo masked."""
        try:
            parts = urlsplit(value)
        except ValueError:
            return self.text(value)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
        query = self._query(parts.query)
        return self._scrub_values(
            urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
        )

    def _query(self, query: str) -> str:
        if not query or query == MASK:
            return query
        pairs = parse_qsl(query, keep_blank_values=True)
        if {k.lower() for k, _ in pairs} & SIGNATURE_PARAMS:
            return MASK
        names = self.param_names
        return "&".join(f"{k}={MASK}" if k.lower() in names else f"{k}={v}" for k, v in pairs)

    def headers(self, values: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
        """A copy of ``values`` with credential headers masked."""
        items = values.items() if isinstance(values, Mapping) else values
        return {k: (MASK if k.lower() in self.header_names else self.text(v)) for k, v in items}

    def text(self, value: str) -> str:
        """Mask every secret this policy can recognise inside free text."""
        if not value:
            return value
        if _MAYBE_SHAPED.search(value) is None:
            # Most strings (ids, words, timestamps) can hold no secret of a known shape: one
            # scan instead of seven, which is most of the cost of rendering a task.
            return self._scrub_values(value)
        return self._shapes(value)

    def _shapes(self, value: str) -> str:
        """Every shape pass, then the known values (``text`` without its shortcut)."""
        value = _URL_RE.sub(lambda m: self.url(m.group(0)), value)
        value = _USERINFO_RE.sub(lambda m: f"{m.group(1)}{MASK}@", value)
        value = _PATH_QUERY_RE.sub(lambda m: self._path_query(m.group(0)), value)
        value = _BEARER_RE.sub(lambda m: f"{m.group(1)} {MASK}", value)
        value = _BASIC_RE.sub(lambda m: f"{m.group(1)} {MASK}", value)
        value = _JWT_RE.sub(MASK, value)
        value = self._query_re.sub(lambda m: m.group(1) + MASK, value)
        value = self._field_re.sub(lambda m: m.group(1) + MASK, value)
        return self._scrub_values(value)

    def _path_query(self, value: str) -> str:
        path, _, query = value.partition("?")
        return f"{path}?{self._query(query)}"

    def data(self, value: Any) -> Any:
        """A copy of JSON-like ``value`` with secret fields masked and strings scrubbed."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {
                k: (
                    MASK
                    if isinstance(k, str) and k.lower() in self.field_names and v not in (None, "")
                    else self.data(v)
                )
                for k, v in value.items()
            }
        if isinstance(value, (list, tuple)):
            return [self.data(v) for v in value]
        return value

    def secrets_in(self, value: Any, *, depth: int = 0) -> list[str]:
        """Every string in JSON-like ``value`` that rendering would mask: the value of a
        secret field, and any text holding a secret of a known shape (a signed URL, a bearer
        token...). A string that is itself a JSON object or array is looked into as well
        (Veritone payloads travel as JSON strings), so a secret nested in one is found. For
        registering with another system's masker (Airflow's)."""
        found: list[str] = []
        if depth > 20:
            return found
        if isinstance(value, str):
            if self.text(value) != value:
                found.append(value)
            stripped = value.strip()
            if stripped[:1] in ("{", "[") and len(stripped) < 1_000_000:
                try:
                    inner = json.loads(stripped)
                except ValueError:
                    inner = None
                if isinstance(inner, (dict, list)):
                    found += self.secrets_in(inner, depth=depth + 1)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                if (
                    isinstance(key, str)
                    and key.lower() in self.field_names
                    and isinstance(item, str)
                    and item
                ):
                    found.append(item)
                else:
                    found += self.secrets_in(item, depth=depth + 1)
        elif isinstance(value, (list, tuple)):
            for item in value:
                found += self.secrets_in(item, depth=depth + 1)
        return found

    def _scrub_values(self, value: str) -> str:
        known = self._values + self._learned
        if not known:
            return value
        for secret in sorted(known, key=len, reverse=True):
            if secret not in value:
                continue
            if len(secret) >= _MIN_SECRET_LEN:
                value = value.replace(secret, MASK)
            else:
                value = _as_word(secret).sub(MASK, value)
        return value

    def __repr__(self) -> str:
        return f"<redact.Policy {len(self._values) + len(self._learned)} values ***>"

    def __copy__(self) -> Policy:
        return self  # shared, never changed but by learn(): a copy is the same policy

    def __deepcopy__(self, memo: dict[int, Any]) -> Policy:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # A pickle is stored and sent on: the policy travels with the names and shapes it
        # masks, never with the secret values it knows (a Task read by a hub carries its
        # policy; its text was masked with those values when it was read).
        names = (sorted(self.header_names), sorted(self.param_names), sorted(self.field_names))
        return (_names_only, names)


def _names_only(headers: list[str], params: list[str], fields: list[str]) -> Policy:
    """A policy with these names and no values (what an unpickled policy is)."""
    return Policy(headers=headers, params=params, fields=fields)


@functools.lru_cache(maxsize=64)
def _as_word(secret: str) -> re.Pattern[str]:
    """``secret`` where it stands alone: not inside a longer word or number."""
    return re.compile(r"(?<![A-Za-z0-9])" + re.escape(secret) + r"(?![A-Za-z0-9])")


#: The policy used where no hub is involved: the common names and shapes, no values.
DEFAULT = Policy()

_vendors: dict[str, Policy] = {}
_current = threading.local()


def declare(
    vendor: str,
    *,
    headers: Iterable[str] = (),
    params: Iterable[str] = (),
    fields: Iterable[str] = (),
) -> Policy:
    """Record the secret names a vendor's payloads use; return that vendor's policy."""
    policy = DEFAULT.extend(headers=headers, params=params, fields=fields)
    _vendors[vendor] = policy
    return policy


def for_vendor(vendor: str | None) -> Policy:
    """The declared policy for ``vendor`` (the default when it declared nothing)."""
    return _vendors.get(vendor or "", DEFAULT)


def current() -> Policy:
    """The policy of the call running on this thread, or the default."""
    policy: Policy | None = getattr(_current, "policy", None)
    return policy or DEFAULT


@contextlib.contextmanager
def using(policy: Policy) -> Iterator[Policy]:
    """Make ``policy`` current on this thread for the duration of a call."""
    previous = getattr(_current, "policy", None)
    _current.policy = policy
    try:
        yield policy
    finally:
        _current.policy = previous


def url(value: str) -> str:
    """:meth:`Policy.url` with the current policy."""
    return current().url(value)


def headers(values: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """:meth:`Policy.headers` with the current policy."""
    return current().headers(values)


def text(value: str) -> str:
    """:meth:`Policy.text` with the current policy."""
    return current().text(value)


class ScrubFilter(logging.Filter):
    """Rewrites a log record's message through the current policy before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report
            return True
        record.msg = current().text(message)
        record.args = None
        return True


_FILTER = ScrubFilter()
# The loggers that write while taskhub owns a call. A logger's filters run only for records
# created on that very logger, so each one that writes is named here, not just the parents.
_GUARDED = (
    "urllib3",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.response",
    "urllib3.poolmanager",
    "urllib3.util.retry",
    "requests",
    "taskhub",
    "taskhub.http",
    "taskhub.download",
    "taskhub.testing",
    "taskhub.engine",
)


def guard_loggers() -> None:
    """Attach the scrubbing filter to every logger that writes during a call (idempotent)."""
    for name in _GUARDED:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
