"""The error tree also speaks the builtins' language, as requests' exceptions do."""

from __future__ import annotations

import pytest

import taskhub
from taskhub import errors


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (errors.InvalidRequest("x"), ValueError),
        (errors.InvalidTransition("x"), ValueError),
        (errors.ConfigError("x"), ValueError),
        (errors.MalformedResponse("x"), ValueError),
        (errors.TaskNotFound("x"), LookupError),
        (errors.AuthError("x"), PermissionError),
        (errors.VendorUnavailable("x"), ConnectionError),
        (errors.OutcomeUnknown("x"), ConnectionError),
        (errors.DeadlineExceeded("x"), TimeoutError),
        (errors.WaitTimeout("x"), TimeoutError),
        (errors.StaleTask("x"), TimeoutError),
        (errors.UnsupportedOperation("v", "cancel"), NotImplementedError),
        (errors.DownloadError("x", reason="error"), OSError),
    ],
    ids=lambda v: type(v).__name__,
)
def test_each_error_is_also_the_builtin_it_stands_for(
    error: errors.TaskhubError, builtin: type[BaseException]
) -> None:
    assert isinstance(error, builtin)
    assert isinstance(error, taskhub.TaskhubError)
    with pytest.raises(builtin):
        raise error


def test_an_oserror_base_keeps_the_message_and_the_fields() -> None:
    error = errors.AuthError("refused", vendor="livepeer", operation="get", http_status=401)
    assert str(error) == "livepeer get: refused (HTTP 401)"
    assert error.http_status == 401
    assert error.errno is None
