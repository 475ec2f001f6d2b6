"""taskhub: one Task / Status / Asset model and one state machine over media-AI task APIs.

Names are imported on first use, so ``import taskhub`` costs next to nothing and a program
pays only for what it touches (requests, cattrs and the adapters load when first needed).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_ERRORS = (
    "AuthError", "ConfigError", "Conflict", "DeadlineExceeded", "DownloadError", "InvalidRequest",
    "InvalidTransition", "MalformedResponse", "OriginRefused", "OutcomeUnknown", "RateLimited",
    "ResponseTooLarge", "StaleTask",
    "TaskNotFound", "TaskhubError", "UnknownStatus", "UnknownStatusWarning",
    "UnsupportedOperation", "VendorUnavailable", "WaitTimeout", "WebhookRejected",
)  # fmt: skip
_STATES = ("ACTIVE", "SUCCESSFUL", "TERMINAL", "State", "Tracker", "Transition")

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(_ERRORS, "taskhub.errors"),
    **dict.fromkeys(("TaskHub", "connect", "connect_all", "parse", "watch_all"), "taskhub.hub"),
    **dict.fromkeys(("Asset", "Status", "Task", "parse_time"), "taskhub.model"),
    **dict.fromkeys(_STATES, "taskhub.states"),
    "AsyncTaskHub": "taskhub.aio",
    "normalize": "taskhub.registry",
    "PollPolicy": "taskhub.polling",
    "register_adapter": "taskhub.registry",
}
_SUBMODULES = frozenset(
    {
        "config",
        "registry",
        "testing",
        "adapters",
        "errors",
        "model",
        "states",
        "http",
        "hub",
        "download",
        "aio",
    }
)

__all__ = [
    "ACTIVE",
    "SUCCESSFUL",
    "TERMINAL",
    "Asset",
    "AsyncTaskHub",
    "AuthError",
    "ConfigError",
    "Conflict",
    "DeadlineExceeded",
    "DownloadError",
    "InvalidRequest",
    "InvalidTransition",
    "MalformedResponse",
    "OriginRefused",
    "OutcomeUnknown",
    "PollPolicy",
    "RateLimited",
    "ResponseTooLarge",
    "StaleTask",
    "State",
    "Status",
    "Task",
    "TaskHub",
    "TaskNotFound",
    "TaskhubError",
    "Tracker",
    "Transition",
    "UnknownStatus",
    "UnknownStatusWarning",
    "UnsupportedOperation",
    "VendorUnavailable",
    "WaitTimeout",
    "WebhookRejected",
    "__version__",
    "aio",
    "config",
    "connect",
    "connect_all",
    "normalize",
    "parse",
    "parse_time",
    "register_adapter",
    "registry",
    "watch_all",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value  # later lookups skip this function
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"taskhub.{name}")
    raise AttributeError(f"module 'taskhub' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*__all__, *_SUBMODULES})


if TYPE_CHECKING:
    from taskhub import aio, config, registry
    from taskhub.aio import AsyncTaskHub
    from taskhub.errors import (
        AuthError,
        ConfigError,
        Conflict,
        DeadlineExceeded,
        DownloadError,
        InvalidRequest,
        InvalidTransition,
        MalformedResponse,
        OriginRefused,
        OutcomeUnknown,
        RateLimited,
        ResponseTooLarge,
        StaleTask,
        TaskhubError,
        TaskNotFound,
        UnknownStatus,
        UnknownStatusWarning,
        UnsupportedOperation,
        VendorUnavailable,
        WaitTimeout,
        WebhookRejected,
    )
    from taskhub.hub import TaskHub, connect, connect_all, parse, watch_all
    from taskhub.model import Asset, Status, Task, parse_time
    from taskhub.polling import PollPolicy
    from taskhub.registry import normalize, register_adapter
    from taskhub.states import ACTIVE, SUCCESSFUL, TERMINAL, State, Tracker, Transition
