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


def test_a_policy_scrubs_its_own_values_wherever_they_appear() -> None:
    policy = redact.DEFAULT.extend(values=["my-configured-secret-42", "abc"])
    assert "my-configured-secret-42" not in policy.text("weird place: my-configured-secret-42!")
    # A short one is masked where it stands alone, not inside longer words (issue 22).
    assert policy.text("no token abc found") == "no token *** found"
    assert policy.text("abcd xabc abc9") == "abcd xabc abc9"


def test_one_hubs_values_do_not_change_how_another_renders() -> None:
    mine = redact.DEFAULT.extend(values=["endpoint-secret-value"])
    assert mine.text("x endpoint-secret-value") == "x ***"
    assert redact.DEFAULT.text("x endpoint-secret-value") == "x endpoint-secret-value"
    with redact.using(mine):
        assert redact.text("endpoint-secret-value") == "***"
    assert redact.text("endpoint-secret-value") == "endpoint-secret-value"


def test_a_learned_token_is_scrubbed_and_only_the_newest_are_kept() -> None:
    policy = redact.DEFAULT.extend()
    for n in range(40):
        policy.learn(f"oauth-token-number-{n:03d}")
    assert policy.text("oauth-token-number-039") == "***"
    assert policy.text("oauth-token-number-000") == "oauth-token-number-000"


@pytest.mark.parametrize(
    "sentence",
    [
        "could not reach the token endpoint",
        "the token expired; basic authentication is not offered",
        "Bearer tokens are sent in a header",
        "pass the key as a query parameter",
        "the password field is empty",
    ],
)
def test_ordinary_words_are_never_rewritten(sentence: str) -> None:
    assert redact.text(sentence) == sentence


def test_a_request_line_as_urllib3_logs_it_is_scrubbed() -> None:
    line = '"GET /v1/tasks?key=s3cr3t-value&page=2 HTTP/1.1" 200 12'
    shown = redact.text(line)
    assert "s3cr3t-value" not in shown
    assert "page=2" in shown
    signed = '"GET /b/a.mp4?X-Amz-Signature=ff00ee11&X-Amz-Expires=60 HTTP/1.1" 200 12'
    assert "ff00ee11" not in redact.text(signed)


def test_task_data_masks_secret_fields_at_any_depth() -> None:
    data = {
        "storage": {"credentials": {"accessKeyId": "AKIA1", "secretAccessKey": "wJalr/xyz"}},
        "input": {"url": "https://b.s3.example/in.mp4?X-Amz-Signature=abc123&X-Amz-Date=1"},
        "items": [{"password": "hunter2"}],
    }
    shown = redact.DEFAULT.data(data)
    assert shown["storage"]["credentials"]["secretAccessKey"] == "***"
    assert shown["storage"]["credentials"]["accessKeyId"] == "AKIA1"
    assert "abc123" not in shown["input"]["url"]
    assert shown["items"][0]["password"] == "***"


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


_PIECES = st.sampled_from(
    [
        "https://h.example/p?",
        "s3://b/k",
        "?",
        "&",
        "=",
        ";",
        "/",
        ":",
        '"',
        "'",
        " ",
        "\t",
        "token",
        "api_key",
        "X-Amz-Signature",
        "sig",
        "Bearer",
        "BASIC",
        "basic",
        "eyJhbGciOi",
        ".abc",
        "abcdef12345",
        "s3cr3t-v4lue",
        "{",
        "}",
    ]
)


@given(st.lists(st.one_of(_PIECES, st.text(max_size=5)), max_size=12).map("".join))
def test_the_shortcut_for_plain_text_masks_exactly_what_every_pass_masks(value: str) -> None:
    policy = redact.Policy(fields=("storageKey",), values=("s3cr3t-v4lue",))
    assert policy.text(value) == policy._shapes(value)


def test_a_password_in_any_urls_userinfo_is_masked() -> None:
    for text in (
        "cannot open postgresql+psycopg://user:S3CRETPW@db:5432/taskhub: refused",
        "amqp://guest:S3CRETPW@broker/vhost",
        "'mysql://root:S3CRETPW@localhost/db'",
    ):
        shown = redact.text(text)
        assert "S3CRETPW" not in shown, shown
        assert "://" in shown and "@" in shown  # the rest of the URL stays readable
    assert redact.text("postgresql+psycopg://user@db/taskhub") == (
        "postgresql+psycopg://user@db/taskhub"
    )


def test_a_task_a_hub_read_pickles_and_copies_without_its_hubs_secret_values() -> None:
    """A Task carries its hub's policy; a pickle of it (stored, sent to another process)
    carries the names the policy masks but never the secret values it knows."""
    import copy
    import pickle

    from taskhub import redact
    from taskhub.model import Status, Task
    from taskhub.states import State

    policy = redact.for_vendor("livepeer").extend(values=["Zq7-secret-value-9"])
    task = Task(
        "media",
        "livepeer",
        "t1",
        Status(State.FAILED, message="bad key ***"),
        params={"note": "Zq7-secret-value-9"},
        policy=policy,
    )
    assert copy.deepcopy(task).policy is policy
    data = pickle.dumps(task)
    assert b"Zq7-secret-value-9" in data  # the task's own params, as given
    back = pickle.loads(data)
    assert back == task
    assert b"Zq7-secret-value-9" not in pickle.dumps(policy)
    assert back.policy is not None
    assert back.policy.text("token=abcdef123456") == "token=***"  # the names still mask
