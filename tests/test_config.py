"""Configuration: TOML and mappings, ${ENV}, exact error paths, did-you-mean, connect."""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import attrs
import pytest

import taskhub
from taskhub import ConfigError, TaskHub, config, registry
from taskhub.adapter import Options
from taskhub.adapters.livepeer import LivepeerOptions

TOML = """
default = "media"

[backends.media]
vendor = "livepeer"
api_key = "${LP_KEY}"
timeout = 12.5

[backends.vision]
vendor = "vionlabs"
api_key = "${VL_KEY:-fallback-key}"
base_url = "https://vionlabs.example"
"""


@pytest.fixture
def cfg_file(tmp_path: Path) -> Path:
    path = tmp_path / "taskhub.toml"
    path.write_text(TOML)
    return path


def test_toml_file_with_env_interpolation(cfg_file: Path) -> None:
    cfg = config.load(cfg_file, environ={"LP_KEY": "lp-secret-1234"})
    media = cfg.backends["media"]
    assert media.vendor == "livepeer"
    assert isinstance(media.options, LivepeerOptions)
    assert media.options.api_key == "lp-secret-1234"
    assert media.options.timeout == 12.5
    assert cfg.backends["vision"].options.api_key == "fallback-key"  # type: ignore[attr-defined]
    assert cfg.default_name(environ={}) == "media"
    assert cfg.default_name(environ={"TASKHUB_BACKEND": "vision"}) == "vision"


def test_a_missing_env_variable_names_its_path(cfg_file: Path) -> None:
    loaded = config.load(cfg_file, environ={})  # read only when the backend is opened
    with pytest.raises(ConfigError, match=r"backends\.media\.api_key: environment variable LP_KEY"):
        loaded.backends["media"]


def test_dollar_dollar_is_a_literal_dollar() -> None:
    assert config.interpolate("a$$b${X:-c}", {}, "p") == "a$bc"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {"vendor": "livepeer", "api_key": "k", "timeout": "soon"},
            r"backends\.media\.timeout: expected a number",
        ),
        (
            {"vendor": "livepeer", "api_key": "k", "timout": 3},
            r"backends\.media: unknown option 'timout'; did you mean 'timeout'\?",
        ),
        (
            {"vendor": "livepeeer", "api_key": "k"},
            r"backends\.media\.vendor: unknown vendor or backend 'livepeeer'; "
            r"did you mean 'livepeer'",
        ),
        ({"api_key": "k"}, r"backends\.media\.vendor: vendor is missing"),
        ({"vendor": "livepeer"}, r"backends\.media\.api_key: required option is missing"),
        (
            {"vendor": "livepeer", "api_key": "k", "page_size": 5000},
            r"backends\.media\.page_size: must be between 1 and 1000",
        ),
        (
            {"vendor": "livepeer", "api_key": "k", "verify": "perhaps"},
            r"backends\.media\.verify: expected true or false",
        ),
        (
            {"vendor": "livepeer", "api_key": "k", "max_retries": 1.5},
            r"backends\.media\.max_retries: expected a whole number",
        ),
        ({"vendor": "livepeer", "api_key": 12345}, r"backends\.media\.api_key: expected a string"),
        (
            {"vendor": "cognite", "project": "p", "base_url": "https://api.example.com"},
            r"backends\.media: give either token, or client_id",
        ),
    ],
)
def test_mistakes_are_reported_with_their_exact_path(
    table: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        config.parse({"backends": {"media": table}}, environ={})


def test_env_strings_convert_to_numbers_and_booleans() -> None:
    cfg = config.parse(
        {
            "backends": {
                "m": {"vendor": "livepeer", "api_key": "k", "timeout": "${T}", "verify": "${V}"}
            }
        },
        environ={"T": "7", "V": "false"},
    )
    with pytest.warns(RuntimeWarning, match="verification is turned off"):
        hub = taskhub.connect(
            "m", config={"backends": {"m": {"vendor": "livepeer", "api_key": "k", "verify": False}}}
        )
    hub.close()
    assert cfg.backends["m"].options.timeout == 7.0
    assert cfg.backends["m"].options.verify is False


def test_unknown_top_level_key_and_bad_default() -> None:
    with pytest.raises(ConfigError, match="unknown setting 'backend'; did you mean 'backends'"):
        config.parse({"backend": {}})
    with pytest.raises(ConfigError, match="default: unknown backend 'medai'; did you mean 'media'"):
        config.parse(
            {"default": "medai", "backends": {"media": {"vendor": "livepeer", "api_key": "k"}}}
        )


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[backends.media\nvendor=")
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        config.load(tmp_path / "nope.toml")


def test_no_config_at_all_is_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TASKHUB_CONFIG", raising=False)
    cfg = config.load()
    assert cfg.backends == {}
    with pytest.raises(ConfigError, match="no backend is configured"):
        taskhub.connect()


def test_connect_reads_taskhub_config_and_backend(
    cfg_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TASKHUB_CONFIG", str(cfg_file))
    monkeypatch.setenv("LP_KEY", "lp-secret-1234")
    with taskhub.connect() as hub:
        assert isinstance(hub, TaskHub)
        assert (hub.backend, hub.vendor) == ("media", "livepeer")
    monkeypatch.setenv("TASKHUB_BACKEND", "vision")
    with TaskHub.from_config() as hub:
        assert (hub.backend, hub.vendor) == ("vision", "vionlabs")
    with TaskHub.from_config(cfg_file, backend="media") as hub:
        assert hub.backend == "media"


def test_connect_options_override_the_file(cfg_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LP_KEY", "lp-secret-1234")
    with taskhub.connect("media", config=cfg_file, timeout=3) as hub:
        pass
    assert hub.options.timeout == 3.0


def test_connect_to_a_vendor_directly_and_unknown_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TASKHUB_CONFIG", raising=False)
    with taskhub.connect("livepeer", api_key="lp-direct-key") as hub:
        assert hub.backend == hub.vendor == "livepeer"
    with pytest.raises(ConfigError, match=r"livepeer\.timeout: expected a number"):
        taskhub.connect("livepeer", api_key="k", timeout="x")
    with pytest.raises(ConfigError, match="did you mean 'cognite'"):
        taskhub.connect("cognit")


def test_options_repr_masks_secrets() -> None:
    options = LivepeerOptions(api_key="lp-very-secret-key")
    assert "lp-very-secret-key" not in repr(options)
    assert options.secrets() == ["lp-very-secret-key"]


# -- issue 10: nonsense values are refused, and repr shows no credential ----------------------

_HINTS = typing.get_type_hints(Options)
FLOAT_OPTIONS = [a.name for a in attrs.fields(Options) if _HINTS[a.name] in (float, float | None)]
LIVEPEER = {"vendor": "livepeer", "api_key": "lp-valid-key"}


def refusal(table: dict[str, Any], environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        config.parse({"backends": {"media": table}}, environ=environ or {})
    return str(info.value)


@pytest.mark.parametrize("key", FLOAT_OPTIONS)
@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), float("-inf"), "nan", "inf", "-Infinity", 0, -1.5]
)
def test_every_float_option_must_be_finite_and_greater_than_0(key: str, value: object) -> None:
    assert {"timeout", "connect_timeout", "max_retry_time", "poll_interval"} <= set(FLOAT_OPTIONS)
    message = refusal({**LIVEPEER, key: value})
    assert message == f"backends.media.{key}: must be a finite number greater than 0"


def test_nan_is_refused_however_the_options_are_given() -> None:
    with pytest.raises(ConfigError, match=r"^livepeer\.timeout: must be a finite number"):
        taskhub.connect("livepeer", api_key="k", timeout=float("nan"))
    with pytest.raises(ValueError, match="max_retry_time: must be a finite number"):
        LivepeerOptions(api_key="k", max_retry_time=float("nan"))
    env = {"T": "inf"}
    assert refusal({**LIVEPEER, "timeout": "${T}"}, env) == (
        "backends.media.timeout: must be a finite number greater than 0"
    )
    assert refusal({**LIVEPEER, "max_retries": -1}) == (
        "backends.media.max_retries: must not be negative"
    )


#: A valid table for each vendor and way of authenticating, and the secret option it holds.
SECRET_CASES = [
    ({"vendor": "livepeer"}, "api_key"),
    ({"vendor": "vionlabs", "base_url": "https://vionlabs.example"}, "api_key"),
    ({"vendor": "veritone"}, "token"),
    ({"vendor": "veritone-edge", "base_url": "http://localhost:9000/edge/v1"}, "token"),
    ({"vendor": "veritone-edge", "base_url": "http://localhost:9000/edge/v1"}, "api_key"),
    ({"vendor": "cognite", "project": "p", "base_url": "https://api.cognitedata.com"}, "token"),
    (
        {
            "vendor": "cognite",
            "project": "p",
            "base_url": "https://api.cognitedata.com",
            "client_id": "app",
            "token_url": "https://login.example.com/token",
        },
        "client_secret",
    ),
]
BAD_SECRETS = {
    "empty": "",
    "blank": "   ",
    "trailing newline": "sk-pasted-from-a-file\n",
    "leading space": " sk-leading-space",
    "inner space": "sk-inner space",
    "tab": "sk-with\ttab",
    "nul": "sk-with\x00nul",
    "escape": "sk-with\x1b[0mansi",
    "non-breaking space": "sk-with\u00a0nbsp",
}


def test_the_secret_cases_cover_every_secret_option_of_every_builtin() -> None:
    declared = {
        (name, a.name)
        for name, entry in registry.entries().items()
        if entry.builtin
        for a in attrs.fields(registry.load(name).options_class)
        if a.metadata.get("secret")
    }
    assert declared == {(table["vendor"], key) for table, key in SECRET_CASES}


@pytest.mark.parametrize(
    ("table", "key"), SECRET_CASES, ids=[f"{t['vendor']}.{k}" for t, k in SECRET_CASES]
)
@pytest.mark.parametrize("value", list(BAD_SECRETS.values()), ids=list(BAD_SECRETS))
def test_a_secret_option_refuses_empty_blank_or_spaced_values_without_echoing_them(
    table: dict[str, Any], key: str, value: str
) -> None:
    config.parse({"backends": {"media": {**table, key: "sk-valid-0001"}}}, environ={})
    for given, environ in ((value, {}), ("${SECRET}", {"SECRET": value})):
        if not value and given == "${SECRET}":
            given, environ = "${SECRET:-}", {}  # an unset variable with an empty fallback
        message = refusal({**table, key: given}, environ)
        assert message.startswith(f"backends.media.{key}: must not ")
        assert value.strip() == "" or value.strip() not in message


URL_CASES = [
    ({"vendor": "livepeer", "api_key": "k"}, "base_url"),
    ({"vendor": "vionlabs", "api_key": "k"}, "base_url"),
    ({"vendor": "veritone", "token": "t"}, "base_url"),
    ({"vendor": "veritone-edge", "token": "t"}, "base_url"),
    ({"vendor": "cognite", "project": "p", "token": "t"}, "base_url"),
    (
        {
            "vendor": "cognite",
            "project": "p",
            "base_url": "https://api.cognitedata.com",
            "client_id": "app",
            "client_secret": "s",
        },
        "token_url",
    ),
]
BAD_URLS = [
    "ftp://x",
    "ftp://user:hunter2@files.example.com/",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "api.example.com",
    "//api.example.com/v1",
    "https://",
    "http:///only/a/path",
    "https://api.example.com:99999/",
    "https://[::1/",
    "https://api.example .com",
    "https://api.example.com/\n",
    "",
]


@pytest.mark.parametrize(
    ("table", "key"), URL_CASES, ids=[f"{t['vendor']}.{k}" for t, k in URL_CASES]
)
@pytest.mark.parametrize("value", BAD_URLS)
def test_a_url_option_must_be_http_or_https_with_a_host(
    table: dict[str, Any], key: str, value: str
) -> None:
    fill = {"base_url": "https://api.example.com", "token_url": "https://login.example.com/t"}
    good = {k: v for k, v in fill.items() if k == key or k not in table}
    if table["vendor"] != "cognite" or key == "base_url":
        good.pop("token_url", None)
    config.parse({"backends": {"media": {**table, **good}}}, environ={})
    message = refusal({**table, **good, key: value})
    assert message == f"backends.media.{key}: must be an http:// or https:// URL with a host"
    assert "hunter2" not in message


@pytest.mark.parametrize(
    "value",
    [
        "http://127.0.0.1:8080/api",
        "HTTPS://Livepeer.Example/api",
        "https://svc:pw@livepeer.example/api",
        "https://[::1]:8443/api",
    ],
)
def test_http_and_https_urls_with_a_host_are_accepted(value: str) -> None:
    options = config.parse({"backends": {"m": {**LIVEPEER, "base_url": value}}}).backends["m"]
    assert options.options.base_url == value  # type: ignore[attr-defined]


SECRET_TOML = """
default = "media"

[backends.media]
vendor = "livepeer"
api_key = "${LP_KEY}"
base_url = "https://svc:${LP_PASSWORD}@livepeer.example/api?token=${LP_TOKEN}"

[backends.workflows]
vendor = "cognite"
project = "my-project"
base_url = "https://api.cognitedata.com"
client_id = "taskhub-app"
client_secret = "${CDF_SECRET}"
token_url = "https://login.example.com/oauth2/token?client_secret=${CDF_SECRET_Q}"

[jobs.transcode]
backend = "media"

[jobs.transcode.spec]
kind = "transcode-file"
input = { url = "https://src.example/in.mp4?X-Amz-Signature=${SIG}" }

[jobs.transcode.spec.storage]
type = "s3"
url = "s3+https://${AK}:${SK}@s3.example/bucket"
credentials = { accessKeyId = "AKIDPLAIN", secretAccessKey = "${SK2}" }
"""
SECRET_ENV = {
    "LP_KEY": "lp-key-from-env-0001",
    "LP_PASSWORD": "userinfo-password-0002",
    "LP_TOKEN": "query-token-0003",
    "CDF_SECRET": "cdf-client-secret-0004",
    "CDF_SECRET_Q": "cdf-query-secret-0005",
    "SIG": "deadbeefsignature0006",
    "AK": "storage-user-0007",
    "SK": "storage-password-0008",
    "SK2": "storage-secret-key-0009",
}


def test_repr_of_a_loaded_configuration_and_of_hub_options_shows_no_secret(
    tmp_path: Path,
) -> None:
    path = tmp_path / "taskhub.toml"
    path.write_text(SECRET_TOML)
    cfg = config.load(path, environ=SECRET_ENV)
    assert cfg.backends["media"].options.api_key == SECRET_ENV["LP_KEY"]  # type: ignore[attr-defined]
    shown = [repr(cfg), str(cfg), *map(repr, cfg.backends.values()), repr(cfg.jobs["transcode"])]
    for name in ("media", "workflows"):
        with taskhub.connect(name, config=cfg) as hub:
            shown.append(repr(hub.options))
    for text in shown:
        for variable, value in SECRET_ENV.items():
            assert value not in text, f"{variable} shows in {text}"
    everything = "\n".join(shown)
    # What is not a credential still shows, so the repr stays useful.
    for plain in (
        "livepeer.example/api",
        "login.example.com/oauth2/token",
        "taskhub-app",
        "AKIDPLAIN",
    ):
        assert plain in everything


def test_a_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff\xfe[backends]\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        config.load(bad)


def test_a_job_spec_key_that_is_not_text_is_a_config_error() -> None:
    source = {
        "backends": {"m": {"vendor": "livepeer", "api_key": "k" * 12}},
        "jobs": {"j": {"spec": {1: "x"}}},
    }
    with pytest.raises(ConfigError) as info:
        config.load(source)
    assert info.value.path == "jobs.j.spec"


def test_a_wrong_choice_is_named_without_quoting_the_value() -> None:
    source = {"backends": {"v": {"vendor": "vionlabs", "api_key": "k" * 12, "auth": "SECRETX"}}}
    with pytest.raises(ConfigError) as info:
        taskhub.connect("v", config=source)
    assert "SECRETX" not in str(info.value)
    assert "backends.v.auth" in str(info.value) and "'query', 'header'" in str(info.value)


@pytest.mark.parametrize("name", ["", "a:b", " media"])
def test_a_backend_name_a_ref_cannot_carry_is_refused(name: str) -> None:
    with pytest.raises(ConfigError, match="backend name"):
        config.load({"backends": {name: {"vendor": "livepeer", "api_key": "k" * 12}}})


def test_a_job_without_a_spec_is_refused() -> None:
    source = {"backends": {"m": {"vendor": "livepeer", "api_key": "k" * 12}}, "jobs": {"j": {}}}
    with pytest.raises(ConfigError, match="needs a spec") as info:
        config.load(source)
    assert info.value.path == "jobs.j.spec"


def test_an_empty_variable_is_called_empty_not_unset() -> None:
    source = {"backends": {"m": {"vendor": "livepeer", "api_key": "${LP_KEY}"}}}
    with pytest.raises(ConfigError, match="LP_KEY is empty"):
        taskhub.connect("m", config=config.load(source, environ={"LP_KEY": ""}))


def test_a_value_out_of_range_is_named_by_its_full_path() -> None:
    source = {"backends": {"m": {"vendor": "livepeer", "api_key": "k" * 12, "page_size": 0}}}
    with pytest.raises(ConfigError, match=r"backends\.m\.page_size: must be between 1 and 1000"):
        config.load(source)
