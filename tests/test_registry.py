"""The registry: entry points, lazy imports, run-time registration, no silent shadowing."""

from __future__ import annotations

import subprocess
import sys

import pytest

from taskhub import ConfigError, registry
from taskhub.adapter import Adapter

from .toy import ToyAdapter


def test_builtins_come_from_entry_points_of_the_taskhub_distribution() -> None:
    entries = registry.entries()
    assert entries["livepeer"].target == "taskhub.adapters.livepeer.adapter:LivepeerAdapter"
    assert entries["livepeer"].provider == "taskhub"
    assert issubclass(registry.load("veritone-edge"), Adapter)


def test_import_taskhub_loads_no_adapter_no_simulator_and_no_http_stack() -> None:
    code = (
        "import sys, taskhub\n"
        "bad = [m for m in sys.modules if m.startswith(('taskhub.adapters', 'taskhub.testing',"
        " 'werkzeug', 'graphql', 'requests', 'cattrs', 'urllib3'))]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    used = "import taskhub\nprint(taskhub.normalize('livepeer', 'running').state.value)"
    out = subprocess.run([sys.executable, "-c", used], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "running"


def test_a_builtin_cannot_be_replaced_silently() -> None:
    with pytest.raises(ConfigError, match=r"already registered \(built-in\); pass replace=True"):
        registry.register_adapter("livepeer", ToyAdapter)


def test_run_time_registration_by_class_or_string() -> None:
    try:
        registry.register_adapter("toy2", ToyAdapter)
        assert registry.load("toy2") is ToyAdapter
        assert registry.entries()["toy2"].provider == "runtime"
        registry.register_adapter("toy3", "tests.toy:ToyAdapter")
        assert registry.load("toy3") is ToyAdapter
        with pytest.raises(ConfigError, match="already registered"):
            registry.register_adapter("toy3", ToyAdapter)
        registry.register_adapter("toy3", ToyAdapter, replace=True)
    finally:
        registry.unregister_adapter("toy2")
        registry.unregister_adapter("toy3")
    assert "toy2" not in registry.names()


def test_replacing_a_builtin_on_purpose_and_restoring_it() -> None:
    try:
        registry.register_adapter("livepeer", ToyAdapter, replace=True)
        assert registry.load("livepeer") is ToyAdapter
    finally:
        registry.unregister_adapter("livepeer")
    assert registry.load("livepeer").__name__ == "LivepeerAdapter"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("no_such_module_xyz:Adapter", "module 'no_such_module_xyz' is missing; install"),
        ("tests.toy:Nothing", "does not exist"),
        ("tests.toy:TOKEN", "is not a taskhub Adapter subclass"),
        ("just-a-name", "must look like 'module:Class'"),
    ],
)
def test_broken_targets_explain_themselves(target: str, message: str) -> None:
    try:
        with pytest.raises(ConfigError, match=message):  # noqa: PT012 - either step may refuse
            registry.register_adapter("broken", target)
            registry.load("broken")
    finally:
        registry.unregister_adapter("broken")


def test_unknown_names_get_the_known_ones() -> None:
    with pytest.raises(
        ConfigError, match=r"did you mean 'veritone-edge'.*known: cognite, livepeer"
    ):
        registry.load("veritone_edge")
