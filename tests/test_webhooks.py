"""Livepeer webhooks: redeliveries refused by default, hostile signature headers refused cleanly."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taskhub import State, WebhookRejected
from taskhub.adapters.livepeer import SeenEvents, parse_webhook, sign, webhooks

SECRET = "whsec-issue10-0001"
NOW_MS = 1_700_000_100_250
NOW = NOW_MS / 1000


def delivery(event_id: str | None = None, **fields: Any) -> tuple[bytes, dict[str, str]]:
    """A signed ``task.updated`` delivery with a fresh event id unless one is given."""
    event = {
        "id": event_id or str(uuid.uuid4()),
        "webhookId": "a1b2c3d4-0000-4000-8000-000000000001",
        "createdAt": NOW_MS - 250,
        "timestamp": NOW_MS,
        "event": "task.updated",
        "payload": {
            "task": {
                "id": "0f1e2d3c-4b5a-4697-8877-665544332211",
                "type": "upload",
                "snapshot": {
                    "id": "0f1e2d3c-4b5a-4697-8877-665544332211",
                    "type": "upload",
                    "createdAt": NOW_MS - 100_000,
                    "status": {"phase": "running", "updatedAt": NOW_MS - 250, "progress": 0.5},
                },
            }
        },
        **fields,
    }
    body = json.dumps(event, separators=(",", ":")).encode()
    return body, {"Livepeer-Signature": sign(body, SECRET, NOW_MS)}


# -- de-duplication is on by default ------------------------------------------------------------


def test_a_redelivery_is_refused_without_the_caller_doing_anything() -> None:
    body, headers = delivery()
    first = parse_webhook(body, headers, SECRET, now=NOW)
    assert first.task.state is State.RUNNING
    assert first.id in webhooks.DEFAULT_SEEN
    with pytest.raises(WebhookRejected) as info:
        parse_webhook(body, headers, SECRET, now=NOW)
    assert info.value.reason == "duplicate"


def test_seen_none_turns_de_duplication_off() -> None:
    body, headers = delivery()
    assert parse_webhook(body, headers, SECRET, now=NOW, seen=None).id
    assert parse_webhook(body, headers, SECRET, now=NOW, seen=None).id
    assert body not in webhooks.DEFAULT_SEEN


def test_a_caller_scoped_memory_and_forget_after_a_failed_handler() -> None:
    seen = SeenEvents()
    body, headers = delivery()
    event = parse_webhook(body, headers, SECRET, now=NOW, seen=seen)
    assert event.id in seen
    assert event.id not in webhooks.DEFAULT_SEEN  # the caller's memory replaced the default
    seen.forget(event.id)  # the handler failed: let the vendor's redelivery through
    assert parse_webhook(body, headers, SECRET, now=NOW, seen=seen).id == event.id
    with pytest.raises(WebhookRejected, match="already received"):
        parse_webhook(body, headers, SECRET, now=NOW, seen=seen)


def test_a_refused_delivery_does_not_use_up_its_event_id() -> None:
    body, headers = delivery()
    forged = {"Livepeer-Signature": f"t={NOW_MS},v1={'0' * 64}"}
    with pytest.raises(WebhookRejected, match="does not match"):
        parse_webhook(body, forged, SECRET, now=NOW)
    assert parse_webhook(body, headers, SECRET, now=NOW).id  # the genuine one still gets in


# -- hostile signature headers --------------------------------------------------------------------

_BODY, _GOOD = delivery("5b0e8d1c-3f7a-4c55-9d1e-2a6b7c8d9e01")
_SIG = _GOOD["Livepeer-Signature"].split("v1=")[1]

HOSTILE = {
    "non-ascii v1": "t=123,v1=é",
    "non-ascii digest of the right length": "t=123,v1=" + "é" * 64,
    "fullwidth digits": "t=123,v1=" + "\uff10" * 64,
    "non-ascii key beside a good v1": f"té=1,v1={_SIG}",
    "control character": f"t=123,v1={_SIG}\n",
    "nul": f"t=123\x00,v1={_SIG}",
    "empty": "",
    "blank": "   ",
    "only a comma": ",",
    "empty v1": "t=123,v1=",
    "v1 without =": "t=123,v1",
    "no key": f"t=123,={_SIG}",
    "short digest": "t=123,v1=" + "0" * 63,
    "long digest": "t=123,v1=" + "0" * 65,
    "not hex": "t=123,v1=" + "g" * 64,
    "trailing comma": f"t=123,v1={_SIG},",
    "huge, with the good signature at the end": "t=1," * 100_000 + f"v1={_SIG}",
    "huge v1": "t=1,v1=" + "a" * 1_000_000,
}


@pytest.mark.parametrize("header", list(HOSTILE.values()), ids=list(HOSTILE))
def test_a_malformed_signature_header_is_bad_signature(header: str) -> None:
    with pytest.raises(WebhookRejected) as info:
        parse_webhook(_BODY, {"Livepeer-Signature": header}, SECRET, now=NOW, seen=None)
    assert info.value.reason == "bad_signature"
    assert header.strip() == "" or header not in str(info.value)  # never echoed back


def test_a_header_that_is_not_text_is_bad_signature() -> None:
    raw: Any = _GOOD["Livepeer-Signature"].encode()
    with pytest.raises(WebhookRejected) as info:
        parse_webhook(_BODY, {"Livepeer-Signature": raw}, SECRET, now=NOW, seen=None)
    assert info.value.reason == "bad_signature"


def test_well_formed_variants_still_verify() -> None:
    spaced = _GOOD["Livepeer-Signature"].replace(",", " , ")
    upper = _GOOD["Livepeer-Signature"].replace(_SIG, _SIG.upper())
    rotated = f"v1={'0' * 64},t=1,v1={_SIG}"  # a rotated secret: one of several matches
    for header in (spaced, upper, rotated):
        event = parse_webhook(_BODY, {"livepeer-signature": header}, SECRET, now=NOW, seen=None)
        assert event.id == "5b0e8d1c-3f7a-4c55-9d1e-2a6b7c8d9e01"
    with pytest.raises(WebhookRejected) as info:
        parse_webhook(_BODY, {"Livepeer-Signature": "t=123"}, SECRET, now=NOW, seen=None)
    assert info.value.reason == "missing_signature"  # well-formed, but carries no signature


@given(st.text(max_size=200) | st.binary(max_size=200).map(lambda b: b.hex() + "é"))
def test_any_header_is_refused_as_a_webhook_rejection(header: str) -> None:
    for value in (header, f"t=1,v1={header}"):
        with pytest.raises(WebhookRejected) as info:
            parse_webhook(_BODY, {"Livepeer-Signature": value}, SECRET, now=NOW, seen=None)
        assert info.value.reason in ("bad_signature", "missing_signature")


@pytest.mark.parametrize("timestamp", [float("nan"), float("inf"), 10**400, "1700000100250", True])
def test_a_signed_body_with_a_timestamp_that_is_not_a_finite_number_is_malformed(
    timestamp: object,
) -> None:
    body, headers = delivery(timestamp=timestamp)
    with pytest.raises(WebhookRejected) as info:
        parse_webhook(body, headers, SECRET, now=NOW, seen=None)
    assert info.value.reason == "malformed"
