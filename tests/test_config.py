"""Configuration: TOML and mappings, ${ENV}, exact error paths, did-you-mean, connect."""

from __future__ import annotations

from pathlib import Path

import pytest

import taskhub
from taskhub import ConfigError, TaskHub, config
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
    with pytest.raises(ConfigError, match=r"backends\.media\.api_key: environment variable LP_KEY"):
        config.load(cfg_file, environ={})


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
            r"backends\.media: page_size must be between 1 and 1000",
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
            {"vendor": "cognite", "project": "p", "base_url": "u"},
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
