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
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError

from taskhub import redact, registry
from taskhub.errors import ConfigError
from taskhub.model import converter, describe_error, unknown_name
from taskhub.options import Options

ENV_CONFIG = "TASKHUB_CONFIG"
ENV_BACKEND = "TASKHUB_BACKEND"
DEFAULT_FILE = "taskhub.toml"
_TOP_LEVEL = ("default", "backends", "jobs")
_JOB_KEYS = ("backend", "spec", "ignore")
_VAR = re.compile(r"\$(\$)|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _redacted_spec(value: object) -> str:
    # A spec holds whatever the vendor's submit takes, interpolated from the environment:
    # storage credentials, signed source URLs. Render it as a Task's params are rendered.
    return redact.text(repr(value))


def _names_tuple(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(names)


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
    configuration only: the code submits the job wherever ``job.backend`` points. The spec is
    a template: ``${name}`` placeholders are filled when the job is submitted
    (:meth:`resolve`, ``hub.submit_job(name, **params)``) — from the call's parameters first,
    then the environment — so one configuration serves every input.
    """

    name: str
    backend: str | None
    #: The spec as written, placeholders and all.
    template: dict[str, Any] = attrs.field(repr=_redacted_spec)
    #: The environment the configuration was loaded with (None: ``os.environ``).
    environ: Mapping[str, str] | None = attrs.field(default=None, repr=False, eq=False)
    #: Parameters the job accepts and drops (``ignore = ["file_id"]``): one pipeline passes
    #: the same parameters to every vendor's job, each using those it needs.
    ignore: tuple[str, ...] = attrs.field(default=(), converter=_names_tuple)

    @property
    def spec(self) -> dict[str, Any]:
        """The spec with its placeholders filled from the environment alone."""
        return self.resolve()

    def placeholders(self) -> list[str]:
        """The names of the ``${name}`` placeholders in the spec, in order of first use."""
        found: dict[str, None] = {}
        _walk_strings(self.template, lambda text: found.update(dict.fromkeys(_names(text))))
        return list(found)

    def resolve(
        self, params: Mapping[str, Any] | None = None, *, environ: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """The spec to submit: each placeholder filled from ``params``, then the environment,
        then its ``:-fallback``. A parameter named in ``ignore`` is dropped; a placeholder left
        unfilled, or a parameter neither used nor ignored, is a ConfigError naming it and the
        job."""
        used = self.placeholders()
        unused = sorted(set(params or {}) - set(used) - set(self.ignore))
        if unused:
            raise ConfigError(
                unknown_name(unused[0], [*used, *self.ignore], "parameter")
                + f" (the job's spec has no ${{{unused[0]}}}; a parameter it accepts and does "
                'not use goes in its ignore = ["..."])',
                path=f"jobs.{self.name}",
            )
        params = {k: v for k, v in (params or {}).items() if k not in self.ignore}
        env = environ if environ is not None else self.environ
        env = os.environ if env is None else env
        resolved: dict[str, Any] = interpolate(
            self.template, env, f"jobs.{self.name}.spec", params=params, job=self.name
        )
        return resolved


class Backends(Mapping[str, Backend]):
    """The configured backends by name, each validated at load and resolved when first used.

    Loading checks every backend's structure (vendor, option names, and every value whose
    ``${ENV}`` placeholders can be filled now); the environment is read for a backend only
    when it is opened, so one backend's unset secret never stops another from connecting.
    """

    def __init__(self, tables: Mapping[str, Mapping[str, Any]], environ: Mapping[str, str]):
        self._tables = dict(tables)
        self._environ = environ
        self._resolved: dict[str, Backend] = {}

    def __getitem__(self, name: str) -> Backend:
        if name not in self._resolved:
            self._resolved[name] = backend(name, self._tables[name], environ=self._environ)
        return self._resolved[name]

    def __contains__(self, name: object) -> bool:
        # Mapping's own __contains__ would look the backend up, reading its environment.
        return name in self._tables

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)

    def with_options(self, name: str, overrides: Mapping[str, Any]) -> Backend:
        """Backend ``name`` with ``overrides`` in place of its file values (an override also
        stands in for a value whose environment variable is unset)."""
        return backend(name, {**self._tables[name], **overrides}, environ=self._environ)

    def vendor(self, name: str) -> str:
        """The vendor of backend ``name``, without resolving its options."""
        return str(self._tables[name]["vendor"])

    def __repr__(self) -> str:
        return f"Backends({', '.join(f'{n}={self.vendor(n)!r}' for n in self._tables)})"


@attrs.frozen
class Config:
    """A whole configuration: the backends, which one is the default, and named jobs."""

    backends: Mapping[str, Backend] = attrs.field(factory=dict)
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
        chosen = env.get(ENV_BACKEND)
        if chosen and chosen not in self.backends and chosen not in registry.names():
            # Name the variable: the user never typed this name on the line that failed.
            raise ConfigError(
                f"{ENV_BACKEND}={chosen!r} names no backend: "
                + unknown_name(chosen, [*self.backends, *registry.names()], "backend")
                + (f" in {self.source}" if self.source else f" ({not_found(env)})")
            )
        name = chosen or self.default
        if name:
            return name
        if len(self.backends) == 1:
            return next(iter(self.backends))
        if not self.backends:
            raise ConfigError(
                f"no backend is configured ({self.source or not_found(env)}); create "
                f"{DEFAULT_FILE}, set {ENV_CONFIG}, or name a vendor: "
                "taskhub.connect('livepeer', api_key=...)"
            )
        where = self.source or "the configuration"
        raise ConfigError(
            f"{where} has several backends ({', '.join(self.backends)}) and no default; "
            f'set default = "..." or {ENV_BACKEND}'
        )


def not_found(environ: Mapping[str, str] | None = None) -> str:
    """Where :func:`load` looked for a configuration file and found none (for messages)."""
    env = os.environ if environ is None else environ
    if env.get(ENV_CONFIG):
        return f"the configuration file is ${ENV_CONFIG}, {env[ENV_CONFIG]!r}"
    where = Path.cwd() / DEFAULT_FILE
    return (
        f"no configuration file was found: ${ENV_CONFIG} is not set and {str(where)!r} "
        "does not exist"
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
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"configuration file {str(path)!r} is not UTF-8 text (byte {exc.start}); "
            "TOML files are UTF-8"
        ) from None
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
    for name, table in tables.items():
        check_backend(name, table, environ=env)
    backends = Backends(tables, env)
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
    table = _table(table, path)
    for key in table:
        if key not in _JOB_KEYS:
            raise ConfigError(unknown_name(key, _JOB_KEYS, "setting"), path=path)
    backend = table.get("backend")
    if backend is not None and not isinstance(backend, str):
        raise ConfigError("expected a backend name (a string)", path=f"{path}.backend")
    if backend is not None and backend not in backends:
        raise ConfigError(unknown_name(backend, list(backends), "backend"), path=f"{path}.backend")
    if "spec" not in table:
        raise ConfigError("a job needs a spec: the table of submit arguments", path=f"{path}.spec")
    spec = table["spec"]
    if not isinstance(spec, Mapping):
        raise ConfigError("expected a table of submit arguments", path=f"{path}.spec")
    for key in spec:
        if not isinstance(key, str) or not key:
            # Keys become submit's keyword arguments.
            raise ConfigError(
                f"a submit argument's name must be text, not {key!r}", path=f"{path}.spec"
            )
    job = Job(name, backend, dict(spec), env, _ignored(table.get("ignore", []), f"{path}.ignore"))
    both = [n for n in job.ignore if n in job.placeholders()]
    if both:
        raise ConfigError(
            f"{both[0]!r} is both ignored and used by the spec (${{{both[0]}}}): a parameter is "
            "one or the other",
            path=f"{path}.ignore",
        )
    return job


def _ignored(value: Any, path: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError('expected a list of parameter names (ignore = ["file_id"])', path=path)
    return tuple(dict.fromkeys(value))


def check_backend(name: str, table: Any, *, environ: Mapping[str, str]) -> None:
    """Validate one backend's structure without needing its unset ``${ENV}`` values: the
    vendor, the option names and, when every placeholder can be filled now, every value."""
    path = f"backends.{name}"
    if not isinstance(name, str) or not name.strip() or ":" in name or name != name.strip():
        # A ref is "backend:id": a name with a colon would split wrongly.
        raise ConfigError(
            f"a backend name must be non-empty text with no colon or surrounding space, not "
            f"{name!r}",
            path="backends",
        )
    if not isinstance(table, Mapping):
        raise ConfigError('expected a table with at least vendor = "..."', path=path)
    vendor = table.get("vendor")
    if not isinstance(vendor, str) or not vendor:
        raise ConfigError('vendor is missing (e.g. vendor = "livepeer")', path=f"{path}.vendor")
    if vendor not in registry.names():
        raise ConfigError(registry.unknown_vendor_message(vendor), path=f"{path}.vendor")
    if name != vendor and name in registry.names():
        # connect("livepeer") is typed as a Livepeer hub; a backend of that name on another
        # vendor would make the type a lie.
        raise ConfigError(
            f"a backend named after the vendor {name!r} must be of that vendor, not {vendor!r}; "
            "give it another name",
            path=f"{path}.vendor",
        )
    known = [a.name for a in attrs.fields(registry.load(vendor).options_class)]
    for key in table:
        if key != "vendor" and key not in known:
            raise ConfigError(f"{path}: {unknown_name(key, known, 'option')}")
    unset = [n for n in _names_in(table) if not environ.get(n) and not _has_fallback(table, n)]
    if not unset:
        backend(name, table, environ=environ)


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


def interpolate(
    value: Any,
    environ: Mapping[str, str],
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    job: str | None = None,
) -> Any:
    """Replace ``${NAME}`` and ``${NAME:-fallback}`` in every string; ``$$`` is a literal ``$``.

    ``params`` (a job's submit parameters) come before the environment; a string that is
    exactly one placeholder takes a parameter's value as it is (a number stays a number).
    """
    params = params or {}
    if isinstance(value, str):
        whole = _VAR.fullmatch(value)
        if whole and whole.group(2) in params:
            return params[whole.group(2)]

        def substitute(match: re.Match[str]) -> str:
            if match.group(1):
                return "$"
            name, fallback = match.group(2), match.group(3)
            if name in params:
                return str(params[name])
            found = environ.get(name)
            if found:
                return found
            if fallback is not None:
                return fallback
            if job is not None:
                raise ConfigError(
                    f"placeholder ${{{name}}} of job {job!r} is not filled: pass {name}=... "
                    f"to submit_job or set the environment variable {name}",
                    path=path,
                )
            state = "is empty" if name in environ else "is not set"
            raise ConfigError(f"environment variable {name} {state}", path=path)

        return _VAR.sub(substitute, value)
    if isinstance(value, Mapping):
        return {
            k: interpolate(v, environ, f"{path}.{k}", params=params, job=job)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            interpolate(v, environ, f"{path}[{i}]", params=params, job=job)
            for i, v in enumerate(value)
        ]
    return value


def _names(text: str) -> list[str]:
    return [m.group(2) for m in _VAR.finditer(text) if m.group(2)]


def _walk_strings(value: Any, visit: Callable[[str], object]) -> None:
    if isinstance(value, str):
        visit(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            _walk_strings(item, visit)
    elif isinstance(value, list):
        for item in value:
            _walk_strings(item, visit)


def _names_in(value: Any) -> list[str]:
    found: list[str] = []
    _walk_strings(value, lambda text: found.extend(_names(text)))
    return found


def _has_fallback(value: Any, name: str) -> bool:
    found: list[bool] = []
    _walk_strings(
        value,
        lambda text: found.extend(
            m.group(3) is not None for m in _VAR.finditer(text) if m.group(2) == name
        ),
    )
    return bool(found) and all(found)


__all__ = [
    "Backend",
    "Backends",
    "Config",
    "Job",
    "backend",
    "check_backend",
    "interpolate",
    "load",
    "not_found",
    "options_for",
    "parse",
]
