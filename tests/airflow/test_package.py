"""The provider's package: what works without Airflow (collected in every environment).

The provider-info function and ``import taskhub.airflow`` must import no Airflow (Airflow
calls the first while it configures itself); a connection's fields become a hub with no
Airflow at all. Airflow finding the provider through its entry point is tested in
test_provider.py, collected only where Airflow is installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import taskhub.airflow
from taskhub import ConfigError
from taskhub.airflow.connection import open_hub, secret_option
from taskhub.airflow.provider import get_provider_info

from .conftest import HAVE_AIRFLOW

ROOT = Path(__file__).resolve().parents[2]


def _imports_after(code: str) -> list[str]:
    """The airflow modules loaded after running ``code`` in a fresh interpreter."""
    probe = (
        f"{code}\nimport sys, json\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'airflow')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd="/"
    )
    found: list[str] = json.loads(done.stdout.splitlines()[-1])
    return found


def test_the_provider_info_and_the_package_import_no_airflow() -> None:
    code = (
        "import taskhub.airflow\n"
        "from taskhub.airflow.provider import get_provider_info\n"
        "get_provider_info()"
    )
    assert _imports_after(code) == []


def test_the_provider_info_names_the_hook_and_the_connection_type() -> None:
    info = get_provider_info()
    assert info["package-name"] == "taskhub"
    (conn,) = info["connection-types"]
    assert conn["connection-type"] == "taskhub"
    assert conn["hook-class-name"] == "taskhub.airflow.hooks.TaskHubHook"
    modules = {
        m
        for section in ("hooks", "operators", "sensors", "triggers")
        for item in info[section]
        for m in item["python-modules"]
    }
    assert modules == {
        f"taskhub.airflow.{n}" for n in ("hooks", "operators", "sensors", "triggers")
    }
    for module in modules:
        assert (ROOT / (module.replace(".", "/") + ".py")).is_file()


def test_the_entry_point_is_declared() -> None:
    setup = (ROOT / "setup.cfg").read_text()
    assert (
        "apache_airflow_provider =\n    provider_info = taskhub.airflow.provider:get_provider_info"
        in setup
    )


def test_the_classes_load_on_first_use_or_say_how_to_install() -> None:
    assert sorted(dir(taskhub.airflow)) == sorted(taskhub.airflow.__all__)
    if HAVE_AIRFLOW:
        assert taskhub.airflow.TaskHubHook.conn_type == "taskhub"
    else:
        with pytest.raises(ImportError, match=r"pip install 'taskhub\[airflow\]'"):
            taskhub.airflow.TaskHubHook  # noqa: B018
    with pytest.raises(AttributeError):
        taskhub.airflow.Nothing  # noqa: B018


# -- a connection's fields -> a hub (no Airflow, no request) ------------------------------------


def test_the_password_is_each_vendors_secret() -> None:
    assert {
        v: secret_option(v)
        for v in ("livepeer", "vionlabs", "cognite", "veritone", "veritone-edge")
    } == {
        "livepeer": "api_key",
        "vionlabs": "api_key",
        "cognite": "token",
        "veritone": "token",
        "veritone-edge": "token",
    }


def test_a_vendor_connection_opens_a_hub_with_its_options_and_jobs() -> None:
    extra = {
        "vendor": "livepeer",
        "timeout": 12,
        "jobs": {"ingest": {"spec": {"kind": "upload", "url": "${url}", "name": "in"}}},
    }
    with open_hub(
        "lp", extra=json.dumps(extra), password="k-1", host="https://lp.example/api"
    ) as hub:
        assert (hub.backend, hub.vendor) == ("livepeer", "livepeer")
        assert hub.options.timeout == 12 and hub.options.api_key == "k-1"  # type: ignore[attr-defined]
        assert hub.options.base_url == "https://lp.example/api"  # type: ignore[attr-defined]
        assert hub.config is not None
        assert (
            hub.config.job("ingest").resolve({"url": "https://m/x.mp4"})["url"] == "https://m/x.mp4"
        )
        assert "k-1" not in repr(hub.options)


def test_form_fields_and_empty_values_are_read_as_the_extra() -> None:
    extra = {
        "extra__taskhub__vendor": "cognite",
        "extra__taskhub__config": "",
        "project": "p",
        "base_url": "https://c.example",
    }
    with open_hub("c", extra=extra, password="t") as hub:
        assert hub.vendor == "cognite" and hub.options.token == "t"  # type: ignore[attr-defined]


def test_a_config_connection_opens_its_backend(tmp_path: Path) -> None:
    path = tmp_path / "taskhub.toml"
    path.write_text(
        '[backends.media]\nvendor = "vionlabs"\nbase_url = "https://v.example"\n'
        'api_key = "${TASKHUB_TEST_UNSET_KEY}"\n'  # the password stands in for it
    )
    with open_hub(
        "cfg", extra={"config": str(path), "backend": "media", "timeout": 9}, password="s"
    ) as hub:
        assert (hub.backend, hub.vendor, hub.options.timeout) == ("media", "vionlabs", 9)


BAD: dict[str, tuple[dict[str, Any], str | None, str]] = {
    "no vendor": ({"timeout": 1}, "sekrit-42", "the extra names no vendor"),
    "unknown vendor": ({"vendor": "livepeeer"}, "sekrit-42", "did you mean 'livepeer'?"),
    "missing secret": ({"vendor": "livepeer"}, None, "no secret: put the livepeer api_key in"),
    "wrong option": (
        {"vendor": "livepeer", "timout": 5},
        "sekrit-42",
        "unknown option 'timout'; did you mean 'timeout'?",
    ),
    "bad value": ({"vendor": "livepeer", "timeout": "soon"}, "sekrit-42", "extra.timeout"),
    "secret twice": (
        {"vendor": "livepeer", "api_key": "a"},
        "sekrit-42",
        "the api_key is given twice",
    ),
    "both forms": (
        {"config": "x.toml", "vendor": "livepeer"},
        None,
        "give vendor or config, not both",
    ),
    "missing file": ({"config": "/nonexistent/taskhub.toml"}, None, "does not exist"),
    "bad job": (
        {"vendor": "livepeer", "jobs": {"a": {"sepc": {}}}},
        "sekrit-42",
        "unknown setting 'sepc'",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_connection_is_a_config_error_naming_it(case: str) -> None:
    extra, password, words = BAD[case]
    with pytest.raises(ConfigError) as caught:
        open_hub("broken", extra=extra, password=password)
    assert str(caught.value).startswith("Airflow connection 'broken': ")
    assert words in str(caught.value)
    if password:
        assert password not in str(caught.value)


def test_an_extra_that_is_not_a_json_object_is_refused() -> None:
    for extra in ("{not json", "[1, 2]"):
        with pytest.raises(ConfigError, match="Airflow connection 'x': the extra"):
            open_hub("x", extra=extra)


def test_a_host_without_a_scheme_is_refused() -> None:
    with pytest.raises(ConfigError, match="must be the full base URL"):
        open_hub("x", extra={"vendor": "livepeer"}, password="k", host="livepeer.studio")
