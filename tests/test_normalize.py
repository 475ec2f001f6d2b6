"""Normalization: every vendor's table, unknown words, strict mode, vendor refinements."""

from __future__ import annotations

import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

import taskhub
from taskhub import State, UnknownStatus, UnknownStatusWarning, registry
from taskhub.statuses import WARNED_MAX, _warned

BUILTIN = ["cognite", "livepeer", "veritone", "veritone-edge", "vionlabs"]
WORDS = [
    (vendor, vocab, word, rule)
    for vendor in BUILTIN
    for vocab, words in registry.status_table(vendor).vocabularies.items()
    for word, rule in words.items()
]


def test_all_five_vendors_are_registered_as_builtins() -> None:
    entries = registry.entries()
    for vendor in BUILTIN:
        assert entries[vendor].builtin, vendor


@pytest.mark.parametrize(("vendor", "vocab", "word", "rule"), WORDS)
def test_every_documented_word_maps_to_a_known_state(vendor, vocab, word, rule) -> None:  # type: ignore[no-untyped-def]
    status = taskhub.normalize(vendor, word, vocabulary=vocab, strict=True)
    assert status.state is not State.UNKNOWN
    assert status.state is rule.state
    assert status.raw == word
    assert status.vendor == vendor


@given(
    st.sampled_from(WORDS),
    st.sampled_from([str.lower, str.upper, str.title]),
    st.sampled_from(["", " ", "\t", "\n "]),
)
def test_lookups_ignore_case_and_surrounding_space(entry, case, pad) -> None:  # type: ignore[no-untyped-def]
    vendor, vocab, word, rule = entry
    raw = pad + case(word) + pad
    status = taskhub.normalize(vendor, raw, vocabulary=vocab, strict=True)
    assert status.state is rule.state
    assert status.raw == raw  # the original is kept exactly


@given(st.sampled_from(BUILTIN), st.text(max_size=40) | st.none())
def test_arbitrary_words_never_raise(vendor: str, word: str | None) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownStatusWarning)
        status = taskhub.normalize(vendor, word)
    assert isinstance(status.state, State)


def test_an_unknown_word_warns_once_per_vendor_and_word() -> None:
    _warned.pop(("livepeer", "exploding"), None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        statuses = [taskhub.normalize("livepeer", "exploding") for _ in range(3)]
    assert [str(w.message) for w in caught if w.category is UnknownStatusWarning] == [
        "livepeer sent the unknown status word 'exploding'; it is normalized to 'unknown'"
    ]
    status = statuses[-1]
    assert status.state is State.UNKNOWN
    assert status.raw == "exploding"


def test_warned_words_are_bounded_and_cut_in_the_warning() -> None:
    """A vendor that sends a new word in every answer grows neither memory nor stderr
    without end (issue 19, finding 3)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in range(WARNED_MAX + 500):
            taskhub.normalize("livepeer", f"word-{n}-" + "x" * 10_000)
    assert len(_warned) <= WARNED_MAX
    shown = [str(w.message) for w in caught if w.category is UnknownStatusWarning]
    assert len(shown) == WARNED_MAX + 500
    assert max(len(m) for m in shown) < 200


def test_strict_mode_raises_for_an_unknown_word() -> None:
    with pytest.raises(UnknownStatus) as info:
        taskhub.normalize("cognite", "HALF_DONE", strict=True)
    assert info.value.word == "HALF_DONE"
    assert isinstance(info.value, taskhub.TaskhubError)


def test_an_unknown_vendor_names_the_known_ones() -> None:
    with pytest.raises(taskhub.ConfigError, match="did you mean 'livepeer'") as info:
        taskhub.normalize("livepeeer", "running")
    assert "veritone-edge" in str(info.value)


def test_an_unknown_vocabulary_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="known: task, execution"):
        taskhub.normalize("cognite", "RUNNING", vocabulary="jobs")


def test_cognite_vocabularies_differ() -> None:
    assert (
        taskhub.normalize("cognite", "TERMINATED", vocabulary="execution").state is State.CANCELLED
    )
    terminal = taskhub.normalize("cognite", "FAILED_WITH_TERMINAL_ERROR")
    assert (terminal.state, terminal.reason, terminal.retryable) == (
        State.FAILED,
        "terminal_error",
        False,
    )
    assert taskhub.normalize("cognite", "FAILED").retryable is True
    assert taskhub.normalize("cognite", "canceled").state is State.CANCELLED
    assert taskhub.normalize("cognite", "COMPLETED_WITH_ERRORS").reason == "completed_with_errors"


def test_livepeer_waiting_after_an_error_is_a_retry() -> None:
    plain = taskhub.normalize("livepeer", "waiting")
    retrying = taskhub.normalize("livepeer", "waiting", retries=1, message="boom")
    assert (plain.state, plain.reason) == (State.QUEUED, None)
    assert (retrying.state, retrying.reason, retrying.retries) == (State.QUEUED, "retrying", 1)
    assert retrying.message == "boom"


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ("Asset not found in the provided S3 location.", "asset_not_found"),
        ("Probe failed with error = moov atom not found", "probe_failed"),
        ("Asset shorter than the minimum required length.", "asset_too_short"),
        ("something else broke", "error"),
    ],
)
def test_vionlabs_error_fails_the_task_whatever_the_word(error: str, reason: str) -> None:
    for word in ("pending", "processing", "done"):
        status = taskhub.normalize("vionlabs", word, message=error)
        assert status.state is State.FAILED
        assert status.reason == reason
        assert status.message == error
    assert taskhub.normalize("vionlabs", "done", message=error).retryable is (
        None if reason == "error" else False
    )


def test_vionlabs_empty_error_does_not_fail() -> None:
    assert taskhub.normalize("vionlabs", "done", message="").state is State.SUCCEEDED
    assert taskhub.normalize("vionlabs", "pending", message=None).state is State.QUEUED


def test_veritone_failure_reason_becomes_the_reason() -> None:
    failed = taskhub.normalize("veritone", "failed", reason="url_not_found")
    assert (failed.state, failed.reason) == (State.FAILED, "url_not_found")
    aborted = taskhub.normalize("veritone", "aborted", reason="internal_error")
    assert aborted.reason == "aborted"
    assert taskhub.normalize("veritone", "standby_pending").reason == "standby"


def test_edge_rejected_is_not_retryable() -> None:
    status = taskhub.normalize("veritone-edge", "rejected", vocabulary="task")
    assert (status.state, status.reason, status.retryable) == (State.FAILED, "rejected", False)


@given(st.one_of(st.floats(), st.integers(-5, 5), st.none()))
def test_progress_is_clamped_or_dropped(progress: float | None) -> None:
    status = taskhub.normalize("livepeer", "running", progress=progress)
    assert status.progress is None or 0.0 <= status.progress <= 1.0
