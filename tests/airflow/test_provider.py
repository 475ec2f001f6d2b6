"""Airflow finds the installed provider through its entry point (needs Airflow: collected only
in .venv-airflow, like every other Airflow test; see conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

from taskhub.airflow.provider import get_provider_info


def test_airflow_finds_the_installed_provider() -> None:
    import jsonschema

    try:  # Airflow ≥ 3.2: the task runtime's view of the providers
        from airflow.sdk.providers_manager_runtime import (
            ProvidersManagerTaskRuntime as ProvidersManager,
        )
    except ImportError:
        from airflow.providers_manager import ProvidersManager  # type: ignore[assignment]

    airflow_file = __import__("airflow").__file__
    assert airflow_file is not None
    schema = json.loads((Path(airflow_file).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)
    manager = ProvidersManager()  # type: ignore[no-untyped-call]
    assert "taskhub" in manager.providers
    hook = manager.hooks["taskhub"]
    assert hook is not None and hook.hook_class_name == "taskhub.airflow.hooks.TaskHubHook"
    assert hook.connection_testable
