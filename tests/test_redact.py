"""Redaction of URLs, headers and free text; errors never show a secret."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taskhub import AuthError, TaskhubError, redact


@pytest.mark.parametrize(
    ("url", "hidden", "kept"),
    [
        ("https://api.example/tasks?key=abc123secret&page=2", "abc123secret", "page=2"),
        (
            "https://b.s3.amazonaws.com/a.mp4?X-Amz-Credential=AKIA&X-Amz-Signature=ff00ee",
            "ff00ee",
            "b.s3.amazonaws.com/a.mp4",
        ),
        ("https://storage.googleapis.com/o?X-Goog-Signature=0badc0de&x=1", "0badc0de", "/o"),
        ("s3+https://user:p4ssw0rd@endpoint.com/bucket", "p4ssw0rd", "endpoint.com/bucket"),
    ],
)
def test_urls(url: str, hidden: str, kept: str) -> None:
    shown = redact.url(url)
    assert hidden not in shown
    assert kept in shown
    assert hidden not in redact.text(f"failed to fetch {url} (HTTP 403)")


def test_headers() -> None:
    shown = redact.headers({"Authorization": "Bearer abc", "api_key": "k", "Accept": "json"})
    assert shown == {"Authorization": "***", "api_key": "***", "Accept": "json"}


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig",
        '{"token": "eyJhbGciOiJIUzI1NiJ9.payload.sig"}',
        "client_secret=eyJhbGciOiJIUzI1NiJ9.payload.sig&x=1",
    ],
)
def test_free_text(text: str) -> None:
    assert "eyJhbGciOiJIUzI1NiJ9" not in redact.text(text)


def test_option_paths_in_messages_are_left_readable() -> None:
    message = "backends.media.api_key: environment variable KEY is not set"
    assert redact.text(message) == message


def test_registered_secrets_are_scrubbed_wherever_they_appear() -> None:
    redact.register_secret("my-registered-secret-42")
    assert "my-registered-secret-42" not in redact.text("weird place: my-registered-secret-42!")
    redact.register_secret("abc")  # too short to scrub blindly
    assert redact.text("abc") == "abc"


@given(
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=8, max_size=40)
)
def test_an_error_never_shows_a_bearer_token(token: str) -> None:
    error = AuthError(f"the server said: Bearer {token} was refused", vendor="toy", operation="get")
    if all(c.isalnum() or c in "._~+/=:-" for c in token):
        assert error.message == "the server said: Bearer *** was refused"
        assert str(error) == f"toy get: {error.message}"


def test_error_text_carries_where_and_vendor_details() -> None:
    error = TaskhubError(
        "boom", vendor="cognite", operation="get", http_status=500, code="E1", request_id="r-9"
    )
    assert str(error) == "cognite get: boom (HTTP 500, code E1, request id r-9)"
    assert repr(error).startswith("TaskhubError(")
