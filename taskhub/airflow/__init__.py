"""taskhub in Apache Airflow: a hook, a deferrable submit operator, a sensor, a trigger and a
report operator (the extra ``taskhub[airflow]``, Airflow ≥ 3.0).

Airflow finds this package through the ``apache_airflow_provider`` entry point, whose
function (:func:`taskhub.airflow.provider.get_provider_info`) imports no Airflow: Airflow
calls it while it configures itself. So the classes here load on first use, and
``import taskhub.airflow`` works, and costs nothing, where Airflow is not installed.

    from taskhub.airflow import TaskHubSubmitOperator, TaskHubSensor

See docs/airflow.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: Public name -> the module of this package that defines it.
_EXPORTS: dict[str, str] = {
    "TaskHubHook": "hooks",
    "TaskHubTrigger": "triggers",
    "TaskHubSubmitOperator": "operators",
    "TaskHubReportOperator": "operators",
    "TaskHubSensor": "sensors",
}

INSTALL_HINT = "taskhub.airflow needs Apache Airflow ≥ 3.0: pip install 'taskhub[airflow]'"

__all__ = [
    "TaskHubHook",
    "TaskHubReportOperator",
    "TaskHubSensor",
    "TaskHubSubmitOperator",
    "TaskHubTrigger",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'taskhub.airflow' has no attribute {name!r}")
    try:
        value = getattr(importlib.import_module(f"taskhub.airflow.{module}"), name)
    except ImportError as exc:
        if exc.name is not None and exc.name.split(".")[0] == "airflow":
            raise ImportError(f"{INSTALL_HINT} ({exc})", name=exc.name) from exc
        raise
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from taskhub.airflow.hooks import TaskHubHook
    from taskhub.airflow.operators import TaskHubReportOperator, TaskHubSubmitOperator
    from taskhub.airflow.sensors import TaskHubSensor
    from taskhub.airflow.triggers import TaskHubTrigger
