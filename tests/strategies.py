"""Hypothesis strategies for the model."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from hypothesis import strategies as st

from taskhub.model import Asset, Status, Task
from taskhub.states import State

UTC = timezone.utc

times = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)
opt_times = st.none() | times
text = st.text(max_size=20)
opt_text = st.none() | text
json_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | text
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)

statuses = st.builds(
    Status,
    state=st.sampled_from(State),
    raw=opt_text,
    vendor=opt_text,
    reason=opt_text,
    message=opt_text,
    retryable=st.none() | st.booleans(),
    progress=st.none() | st.floats(0, 1),
    retries=st.none() | st.integers(0, 100),
    updated_at=opt_times,
)

assets = st.builds(
    Asset,
    id=opt_text,
    uri=st.none() | st.just("https://cdn.example.com/a.mp4?X-Amz-Signature=abc123"),
    content_type=opt_text,
    kind=opt_text,
    name=opt_text,
    size=st.none() | st.integers(0, 2**40),
    created_at=opt_times,
)


def _task(children: st.SearchStrategy[tuple[Task, ...]]) -> st.SearchStrategy[Task]:
    return st.builds(
        Task,
        backend=st.text(min_size=1, max_size=10),
        vendor=st.sampled_from(["livepeer", "cognite", "veritone", "veritone-edge", "vionlabs"]),
        id=st.text(min_size=1, max_size=30),
        status=statuses,
        kind=opt_text,
        parent_id=opt_text,
        subtasks=children,
        inputs=st.lists(assets, max_size=2).map(tuple),
        outputs=st.lists(assets, max_size=2).map(tuple),
        params=st.dictionaries(text, json_values, max_size=3),
        output=json_values,
        created_at=opt_times,
        started_at=opt_times,
        updated_at=opt_times,
        finished_at=opt_times,
    )


leaf_tasks = _task(st.just(()))
tasks = _task(st.lists(leaf_tasks, max_size=2).map(tuple))
