"""The Airflow names this package uses, from where Airflow 3.x keeps them."""

from __future__ import annotations

from airflow.sdk import (
    Asset,
    AssetAlias,
    BaseHook,
    BaseOperator,
    BaseOperatorLink,
    BaseSensorOperator,
    Context,
    PokeReturnValue,
)
from airflow.sdk.execution_time.xcom import XCom
from airflow.triggers.base import BaseTrigger, TriggerEvent

try:
    from airflow.sdk.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowSensorTimeout,
        AirflowSkipException,
    )
except ImportError:  # Airflow 3.0 kept them in airflow.exceptions
    from airflow.exceptions import (  # type: ignore[no-redef,attr-defined]
        AirflowException,
        AirflowFailException,
        AirflowSensorTimeout,
        AirflowSkipException,
    )

try:
    from airflow.sdk.log import mask_secret
except ImportError:  # Airflow 3.0-3.2
    from airflow.sdk.execution_time.secrets_masker import (  # type: ignore[no-redef,unused-ignore]
        mask_secret,
    )

try:
    from airflow.sdk.configuration import conf
except ImportError:  # Airflow 3.0
    from airflow.configuration import conf  # type: ignore[no-redef,assignment,unused-ignore]


def default_deferrable() -> bool:
    """Airflow's ``[operators] default_deferrable`` setting (False when unset)."""
    return bool(conf.getboolean("operators", "default_deferrable", fallback=False))


__all__ = [
    "AirflowException",
    "AirflowFailException",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "Asset",
    "AssetAlias",
    "BaseHook",
    "BaseOperator",
    "BaseOperatorLink",
    "BaseSensorOperator",
    "BaseTrigger",
    "Context",
    "PokeReturnValue",
    "TriggerEvent",
    "XCom",
    "conf",
    "default_deferrable",
    "mask_secret",
]
