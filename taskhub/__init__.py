"""taskhub: one Task / Status / Asset model and one state machine over media-AI task APIs."""

from taskhub.errors import (
    AuthError,
    ConfigError,
    Conflict,
    DownloadError,
    InvalidRequest,
    InvalidTransition,
    MalformedResponse,
    OutcomeUnknown,
    RateLimited,
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
from taskhub.hub import TaskHub, connect, connect_all, parse
from taskhub.model import Asset, Status, Task, parse_time
from taskhub.normalize import normalize
from taskhub.polling import PollPolicy
from taskhub.registry import register_adapter
from taskhub.states import ACTIVE, SUCCESSFUL, TERMINAL, State, Tracker, Transition

__version__ = "0.1.0"

__all__ = [
    "ACTIVE",
    "SUCCESSFUL",
    "TERMINAL",
    "Asset",
    "AuthError",
    "ConfigError",
    "Conflict",
    "DownloadError",
    "InvalidRequest",
    "InvalidTransition",
    "MalformedResponse",
    "OutcomeUnknown",
    "PollPolicy",
    "RateLimited",
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
    "connect",
    "connect_all",
    "normalize",
    "parse",
    "parse_time",
    "register_adapter",
]
