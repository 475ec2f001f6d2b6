"""Loading and validating configuration: TOML or a mapping, ``${ENV}`` interpolation.

    default = "media"
    [backends.media]
    vendor = "livepeer"
    api_key = "${LIVEPEER_API_KEY}"
    timeout = 20

Each backend's options are structured into its adapter's attrs options class by the one
cattrs converter, so every mistake is reported with its path
(``backends.media.timeout: expected a number``) before anything is sent.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError

from taskhub import redact, registry
from taskhub.adapter import Options
from taskhub.errors import ConfigError
from taskhub.model import converter, describe_error, unknown_name

ENV_CONFIG = "TASKHUB_CONFIG"
ENV_BACKEND = "TASKHUB_BACKEND"
DEFAULT_FILE = "taskhub.toml"
_TOP_LEVEL = ("default", "backends", "jobs")
_VAR = re.compile(r"\$(\$)|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _redacted_spec(value: object) -> str:
    # A spec holds whatever the vendor's submit takes, interpolated from the environment:
    # storage credentials, signed source URLs. Render it as a Task's params are rendered.
    return redact.text(repr(value))


@attrs.frozen
class Backend:
    """One configured backend: a name, its vendor, and that vendor's validated options.

    Its repr masks secret options and credentials in URL options (the options class does it).
    """

    name: str
    vendor: str
    options: Options


@attrs.frozen
class Job:
    """A named piece of work: the backend that runs it and the vendor-specific submit spec.

    Keeping the spec next to the backend is what lets a pipeline switch vendor by editing
    configuration only: the code submits ``**job.spec`` wherever ``job.backend`` points.
    """

    name: str
    backend: str | None
    spec: dict[str, Any] = attrs.field(repr=_redacted_spec)


@attrs.frozen
class Config:
    """A whole configuration: the backends, which one is the default, and named jobs."""

    backends: dict[str, Backend] = attrs.field(factory=dict)
    default: str | None = None
    source: str | None = None
    jobs: dict[str, Job] = attrs.field(factory=dict)

    def job(self, name: str) -> Job:
        """The job ``name`` (a ConfigError with a did-you-mean when there is none)."""
        if name not in self.jobs:
            raise ConfigError(unknown_name(name, list(self.jobs), "job"), path="jobs")
        return self.jobs[name]

    def default_name(self, environ: Mapping[str, str] | None = None) -> str:
        """The backend to use when none is named: TASKHUB_BACKEND, ``default``, or the only one."""
        env = os.environ if environ is None else environ
        name = env.get(ENV_BACKEND) or self.default
        if name:
            return name
        if len(self.backends) == 1:
            return next(iter(self.backends))
        where = self.source or "the configuration"
        if not self.backends:
            raise ConfigError(
                f"no backend is configured ({where}); create {DEFAULT_FILE}, set {ENV_CONFIG}, "
                "or name a vendor: taskhub.connect('livepeer', api_key=...)"
            )
        raise ConfigError(
            f"{where} has several backends ({', '.join(self.backends)}) and no default; "
            f'set default = "..." or {ENV_BACKEND}'
        )


def load(
    source: str | os.PathLike[str] | Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Load configuration from a TOML file, a mapping, or (None) TASKHUB_CONFIG / ./taskhub.toml.

    With no source and no file, the result is an empty Config: connecting to a vendor by name
    with options needs no file at all.
    """
    env = os.environ if environ is None else environ
    if source is None:
        configured = env.get(ENV_CONFIG)
        if configured:
            source = configured
        elif Path(DEFAULT_FILE).is_file():
            source = DEFAULT_FILE
        else:
            return Config()
    if isinstance(source, Mapping):
        return parse(source, environ=env, source="<mapping>")
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"configuration file {str(path)!r} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"cannot read configuration file {str(path)!r}: {exc.strerror}") from exc
    return parse(_toml(text, str(path)), environ=env, source=str(path))


def _toml(text: str, where: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        try:
            tomllib = importlib.import_module("tomli")
        except ImportError:
            raise ConfigError(
                "reading TOML on Python 3.10 needs tomli: pip install tomli "
                "(or pass the configuration as a mapping)"
            ) from None
    try:
        data: dict[str, Any] = tomllib.loads(text)
        return data
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from exc


def parse(
    data: Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    source: str | None = None,
) -> Config:
    """Validate a configuration mapping (already read from TOML or built in code)."""
    env = os.environ if environ is None else environ
    if not isinstance(data, Mapping):
        raise ConfigError("the configuration must be a table / mapping")
    for key in data:
        if key not in _TOP_LEVEL:
            raise ConfigError(unknown_name(key, _TOP_LEVEL, "setting"), path=str(key))
    default = data.get("default")
    if default is not None and not isinstance(default, str):
        raise ConfigError("expected a backend name (a string)", path="default")
    tables = data.get("backends", {})
    if not isinstance(tables, Mapping):
        raise ConfigError("expected a table of backends", path="backends")
    backends = {name: backend(name, table, environ=env) for name, table in tables.items()}
    if default is not None and default not in backends:
        raise ConfigError(unknown_name(default, list(backends), "backend"), path="default")
    jobs = {
        name: _job(name, table, backends, env)
        for name, table in _table(data.get("jobs", {}), "jobs").items()
    }
    return Config(backends, default, source, jobs)


def _table(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError("expected a table", path=path)
    return value


def _job(name: str, table: Any, backends: Mapping[str, Backend], env: Mapping[str, str]) -> Job:
    path = f"jobs.{name}"
    table = interpolate(_table(table, path), env, path)
    for key in table:
        if key not in ("backend", "spec"):
            raise ConfigError(unknown_name(key, ("backend", "spec"), "setting"), path=path)
    backend = table.get("backend")
    if backend is not None and backend not in backends:
        raise ConfigError(unknown_name(backend, list(backends), "backend"), path=f"{path}.backend")
    spec = table.get("spec", {})
    if not isinstance(spec, Mapping):
        raise ConfigError("expected a table of submit arguments", path=f"{path}.spec")
    return Job(name, backend, dict(spec))


def backend(name: str, table: Any, *, environ: Mapping[str, str] | None = None) -> Backend:
    """Validate one ``[backends.NAME]`` table into a Backend."""
    env = os.environ if environ is None else environ
    path = f"backends.{name}"
    if not isinstance(table, Mapping):
        raise ConfigError('expected a table with at least vendor = "..."', path=path)
    table = interpolate(table, env, path)
    vendor = table.get("vendor")
    if not isinstance(vendor, str) or not vendor:
        raise ConfigError('vendor is missing (e.g. vendor = "livepeer")', path=f"{path}.vendor")
    if vendor not in registry.names():
        raise ConfigError(registry.unknown_vendor_message(vendor), path=f"{path}.vendor")
    values = {k: v for k, v in table.items() if k != "vendor"}
    return Backend(name, vendor, options_for(vendor, values, path=path))


def options_for(vendor: str, values: Mapping[str, Any], *, path: str) -> Options:
    """Structure ``values`` into the vendor's options class, or raise with exact key paths."""
    cls = registry.load(vendor).options_class
    try:
        return converter.structure(dict(values), cls)
    except (ClassValidationError, ForbiddenExtraKeysError) as exc:
        problems = describe_error(exc, path)
    except (ValueError, TypeError) as exc:  # attrs validators run after structuring
        problems = describe_error(exc, path)
    raise ConfigError("; ".join(problems))


def interpolate(value: Any, environ: Mapping[str, str], path: str) -> Any:
    """Replace ``${NAME}`` and ``${NAME:-fallback}`` in every string; ``$$`` is a literal ``$``."""
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            if match.group(1):
                return "$"
            name, fallback = match.group(2), match.group(3)
            found = environ.get(name)
            if found:
                return found
            if fallback is not None:
                return fallback
            raise ConfigError(f"environment variable {name} is not set", path=path)

        return _VAR.sub(substitute, value)
    if isinstance(value, Mapping):
        return {k: interpolate(v, environ, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, environ, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


__all__ = ["Backend", "Config", "Job", "backend", "interpolate", "load", "options_for", "parse"]
