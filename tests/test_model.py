"""Task, Status, Asset: timestamps, the dict round trip and its JSON Schema, redaction."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from taskhub import Asset, InvalidRequest, State, Status, Task, parse_time, redact
from taskhub.model import format_time

from .strategies import tasks, times

UTC = timezone.utc
SCHEMA = json.loads((Path(__file__).parent.parent / "docs" / "task.schema.json").read_text())
EXPECTED = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        1_700_000_000,  # epoch seconds (Veritone Edge outputs)
        1_700_000_000_000,  # epoch milliseconds (Livepeer, Cognite)
        1_700_000_000.0,
        "1700000000",  # epoch seconds as a string (Veritone 2017 samples)
        "1700000000000",
        "2023-11-14T22:13:20Z",
        "2023-11-14T22:13:20.000Z",
        "2023-11-14T23:13:20+01:00",
        "2023-11-14T22:13:20",  # no zone: UTC
        " 2023-11-14T22:13:20Z ",
        datetime(2023, 11, 14, 22, 13, 20),
        datetime(2023, 11, 14, 17, 13, 20, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_every_vendor_timestamp_form_becomes_aware_utc(value: object) -> None:
    parsed = parse_time(value)
    assert parsed == EXPECTED
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("value", [True, "yesterday", "2023-13-45", float("nan"), [], {}, 10**30])
def test_a_non_timestamp_is_a_value_error(value: object) -> None:
    with pytest.raises(ValueError, match="timestamp"):
        parse_time(value)


def test_missing_timestamps_stay_none() -> None:
    assert parse_time(None) is None
    assert parse_time("") is None


def test_milliseconds_keep_their_precision() -> None:
    assert parse_time(1_700_000_000_123) == EXPECTED + timedelta(milliseconds=123)


@given(times)
def test_any_time_survives_its_text_form_and_epoch_ms(value: datetime) -> None:
    assert parse_time(format_time(value)) == value
    ms = (value - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    if abs(ms) >= 100_000_000_000:  # only ms values the heuristic can tell from seconds
        assert parse_time(ms) == value.replace(microsecond=value.microsecond // 1000 * 1000)


@given(tasks)
def test_to_dict_round_trips_through_json_and_matches_the_schema(task: Task) -> None:
    data = task.to_dict(reveal_secrets=True)
    jsonschema.validate(data, SCHEMA)
    again = Task.from_dict(json.loads(json.dumps(data)))
    assert again == task
    assert again.to_dict(reveal_secrets=True) == data


@given(tasks)
def test_the_masked_form_matches_the_schema_and_shows_no_signature(task: Task) -> None:
    data = task.to_dict()
    jsonschema.validate(data, SCHEMA)
    assert "abc123" not in json.dumps(data)  # the strategies' signed URIs carry this signature
    again = Task.from_dict(json.loads(json.dumps(data)))
    assert again.id == redact.DEFAULT.text(task.id)


def test_to_dict_masks_a_transcode_secret_and_a_presigned_uri() -> None:
    task = Task(
        "media",
        "livepeer",
        "t1",
        Status(State.RUNNING),
        params={
            "transcode-file": {
                "storage": {
                    "type": "s3",
                    "credentials": {"accessKeyId": "AKIAEXAMPLE", "secretAccessKey": "wJalrXUtnF"},
                }
            }
        },
        outputs=(Asset(uri="https://b.s3.example/o.mp4?X-Amz-Signature=fe11ed&X-Amz-Date=1"),),
    )
    for shown in (json.dumps(task.to_dict()), repr(task)):
        assert "wJalrXUtnF" not in shown
        assert "fe11ed" not in shown
    assert "wJalrXUtnF" in json.dumps(task.to_dict(reveal_secrets=True))


def test_raw_is_kept_out_of_equality_repr_and_to_dict() -> None:
    a = Task("b", "toy", "1", Status(State.RUNNING), raw={"secret": "x"})
    b = Task("b", "toy", "1", Status(State.RUNNING), raw={"other": 1})
    assert a == b
    assert "secret" not in repr(a)
    assert "raw" not in a.to_dict()
    assert a.to_dict(include_raw=True)["raw"] == {"secret": "***"}
    assert a.to_dict(include_raw=True, reveal_secrets=True)["raw"] == {"secret": "x"}


def test_ref_and_state_shorthands() -> None:
    task = Task("media", "livepeer", "abc", Status(State.QUEUED))
    assert task.ref == "media:abc"
    assert task.state is State.QUEUED
    assert task.to_dict()["ref"] == "media:abc"


def test_a_signed_uri_never_shows_its_query_in_repr() -> None:
    asset = Asset(
        uri="https://bucket.s3.amazonaws.com/a.mp4?X-Amz-Signature=deadbeef&X-Amz-Expires=604800"
    )
    task = Task(
        "b",
        "veritone",
        "1",
        Status(State.SUCCEEDED),
        outputs=(asset,),
        params={"url": "https://x.test/in.mp4?token=hunter2hunter2"},
    )
    for text in (repr(asset), repr(task)):
        assert "deadbeef" not in text
        assert "hunter2hunter2" not in text
    assert "bucket.s3.amazonaws.com/a.mp4" in repr(asset)
    assert asset.uri is not None
    assert "deadbeef" in asset.uri


def test_from_dict_reports_bad_data() -> None:
    data = Task("b", "toy", "1", Status(State.RUNNING)).to_dict()
    data["status"]["state"] = "exploded"
    with pytest.raises(InvalidRequest, match=r"task\.status\.state: unknown state .exploded"):
        Task.from_dict(data)


@given(st.sampled_from(State))
def test_status_terminal_follows_the_state(state: State) -> None:
    assert Status(state).terminal is state.terminal
