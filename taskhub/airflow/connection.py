"""An Airflow connection's fields -> an open :class:`~taskhub.TaskHub` (no Airflow needed).

The connection's extra is JSON in one of two forms::

    {"vendor": "livepeer", "timeout": 20, ...}          # a vendor and its options
    {"config": "/etc/taskhub.toml", "backend": "media"}  # a backend of a taskhub.toml

The password field holds the vendor's secret — the first secret option it declares (Livepeer
and Vionlabs ``api_key``, Cognite, Veritone and Veritone Edge ``token``) — and the host field,
when set, is the ``base_url``. In the vendor form, ``"jobs": {"NAME": {"spec": {...}}}`` names
jobs as ``[jobs.NAME]`` does in a taskhub.toml, so a DAG that submits ``job="NAME"`` moves to
another vendor by a connection edit alone. In either form, ``"console_url"`` overrides the
page the operators' console link opens (:mod:`taskhub.airflow.console`). Login, schema and
port are not used.

Every mistake is a :class:`~taskhub.ConfigError` naming the connection, raised before any
request is sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

from taskhub import config as _config
from taskhub import registry
from taskhub.airflow import console
from taskhub.errors import ConfigError
from taskhub.hub import TaskHub, connect, open_backend
from taskhub.model import unknown_name

#: Keys of the extra that are not vendor options.
VENDOR_KEYS = ("vendor", "jobs")
CONFIG_KEYS = ("config", "backend")
#: The key of the extra that sets the console link's page (either form).
CONSOLE_KEY = "console_url"
#: The prefix older Airflow forms put before a custom field's name.
_FORM_PREFIX = "extra__taskhub__"


def extra_of(extra: str | Mapping[str, Any] | None, conn_id: str) -> dict[str, Any]:
    """The extra as a dict (``extra__taskhub__`` prefixes and empty form fields dropped)."""
    if extra is None or extra == "":
        return {}
    if isinstance(extra, str):
        try:
            extra = json.loads(extra)
        except ValueError as exc:
            raise _error(conn_id, f"the extra is not JSON: {exc}") from None
    if not isinstance(extra, Mapping):
        raise _error(conn_id, "the extra must be a JSON object")
    found: dict[str, Any] = {}
    for key, value in extra.items():
        name = key[len(_FORM_PREFIX) :] if key.startswith(_FORM_PREFIX) else key
        if value is None or value == "":
            continue  # a form field left empty
        found[name] = value
    return found


def secret_option(vendor: str) -> str | None:
    """The option the connection's password fills for ``vendor`` (None: it takes no secret)."""
    cls = registry.load(vendor).options_class
    return next((a.name for a in attrs.fields(cls) if a.metadata.get("secret")), None)


def open_hub(
    conn_id: str,
    *,
    extra: str | Mapping[str, Any] | None,
    password: str | None = None,
    host: str | None = None,
) -> TaskHub:
    """The TaskHub an Airflow connection describes; ConfigError (naming ``conn_id``) if it
    describes none. Nothing is sent to the vendor."""
    values = extra_of(extra, conn_id)
    template = values.pop(CONSOLE_KEY, None)
    try:
        if "config" in values:
            hub = _from_config(conn_id, values, password or None, host or None)
        elif "vendor" in values:
            hub = _from_vendor(conn_id, values, password or None, host or None)
        else:
            raise _error(
                conn_id,
                'the extra names no vendor: give {"vendor": "livepeer", ...options} or '
                '{"config": "/path/taskhub.toml", "backend": "NAME"}',
            )
    except ConfigError as exc:
        if exc.message.startswith(f"Airflow connection {conn_id!r}"):
            raise
        raise _error(conn_id, exc.message) from exc
    if template is not None:
        try:
            console.check(hub, template)
        except ValueError as exc:
            hub.close()
            raise _error(conn_id, f"extra {CONSOLE_KEY}: {exc}") from None
    return hub


def console_template(conn_id: str, extra: str | Mapping[str, Any] | None) -> str | None:
    """The connection's ``console_url`` (checked when :func:`open_hub` read it), or None:
    the vendor's default page."""
    template = extra_of(extra, conn_id).get(CONSOLE_KEY)
    return template if isinstance(template, str) else None


def _from_vendor(
    conn_id: str, values: dict[str, Any], password: str | None, host: str | None
) -> TaskHub:
    vendor = values.pop("vendor")
    if not isinstance(vendor, str) or vendor not in registry.names():
        raise _error(conn_id, registry.unknown_vendor_message(str(vendor)))
    jobs = values.pop("jobs", {})
    fields = attrs.fields_dict(registry.load(vendor).options_class)
    for key in values:
        if key not in fields:
            raise _error(conn_id, "extra: " + unknown_name(key, list(fields), "option"))
    options = _with_fields(conn_id, vendor, values, password, host)
    secret = secret_option(vendor)
    if secret is not None and secret not in options and fields[secret].default is attrs.NOTHING:
        raise _error(
            conn_id, f"no secret: put the {vendor} {secret} in the connection's password field"
        )
    backend = _config.Backend(vendor, vendor, _config.options_for(vendor, options, path="extra"))
    cfg = _config.Config(
        {vendor: backend},
        vendor,
        f"Airflow connection {conn_id!r}",
        _jobs(conn_id, vendor, jobs),
    )
    return open_backend(backend, config=cfg)


def _from_config(
    conn_id: str, values: dict[str, Any], password: str | None, host: str | None
) -> TaskHub:
    path = values.pop("config")
    name = values.pop("backend", None)
    if not isinstance(path, str):
        raise _error(conn_id, "config must be the path of a taskhub.toml (a string)")
    if name is not None and not isinstance(name, str):
        raise _error(conn_id, "backend must be a backend name (a string)")
    if "vendor" in values:
        raise _error(conn_id, "give vendor or config, not both")
    cfg = _config.load(path)
    name = name if name is not None else cfg.default_name()
    if name not in cfg.backends:
        raise _error(conn_id, f"{path}: " + unknown_name(name, list(cfg.backends), "backend"))
    vendor = (
        cfg.backends.vendor(name)
        if isinstance(cfg.backends, _config.Backends)
        else cfg.backends[name].vendor
    )
    overrides = _with_fields(conn_id, vendor, values, password, host)
    return connect(name, config=cfg, **overrides)


def _with_fields(
    conn_id: str, vendor: str, values: dict[str, Any], password: str | None, host: str | None
) -> dict[str, Any]:
    """The options with the password and host fields put where they belong."""
    options = dict(values)
    if password is not None:
        secret = secret_option(vendor)
        if secret is None:
            raise _error(conn_id, f"{vendor} takes no secret, but the password field is set")
        if secret in options:
            raise _error(
                conn_id, f"the {secret} is given twice: in the password field and in the extra"
            )
        options[secret] = password
    if host is not None:
        if "://" not in host:
            raise _error(
                conn_id,
                f"the host field must be the full base URL (https://{host}/...), "
                "or leave it empty and put base_url in the extra",
            )
        if "base_url" in options:
            raise _error(conn_id, "base_url is given twice: in the host field and in the extra")
        options["base_url"] = host
    return options


def _jobs(conn_id: str, vendor: str, jobs: Any) -> dict[str, _config.Job]:
    if not isinstance(jobs, Mapping):
        raise _error(conn_id, 'jobs must be an object: {"NAME": {"spec": {...}}}')
    found: dict[str, _config.Job] = {}
    for name, table in jobs.items():
        where = f"jobs.{name}"
        if not isinstance(table, Mapping):
            raise _error(conn_id, f'{where}: expected {{"spec": {{...}}}}')
        for key in table:
            if key not in ("spec", "backend"):
                raise _error(conn_id, f"{where}: " + unknown_name(key, ("spec",), "setting"))
        if table.get("backend", vendor) != vendor:
            raise _error(conn_id, f"{where}.backend: this connection's backend is {vendor!r}")
        spec = table.get("spec", {})
        if not isinstance(spec, Mapping):
            raise _error(conn_id, f"{where}.spec: expected an object of submit arguments")
        found[name] = _config.Job(name, None, dict(spec))
    return found


def _error(conn_id: str, message: str) -> ConfigError:
    return ConfigError(f"Airflow connection {conn_id!r}: {message}")
