"""The cheaper paths behind a read (P5c) give what the generic ones give: the JSON depth
read off the text, and Vionlabs' query key appended to a prepared URL."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from taskhub.adapters.vionlabs.adapter import KeyParam
from taskhub.http import MAX_JSON_DEPTH, _depth_ok, _text_depth_ok, parse_json

# Strings full of what could confuse a reading of the text: brackets, quotes, backslashes.
_TRICKY = st.text(alphabet=st.sampled_from('[]{}"\\/aé€\n'), max_size=8)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | _TRICKY,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TRICKY, inner, max_size=3),
    max_leaves=30,
)


@settings(max_examples=400)
@given(_JSON, st.integers(min_value=1, max_value=6), st.booleans())
def test_the_depth_read_off_the_text_is_the_walks(value: Any, limit: int, ascii: bool) -> None:
    body = json.dumps(value, ensure_ascii=ascii).encode()
    assert _text_depth_ok(body, limit) is _depth_ok(value, limit)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
def test_json_deeper_than_the_limit_is_refused_in_any_encoding(encoding: str) -> None:
    ok = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    deep = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
    assert parse_json(ok.encode(encoding)) is not None
    with pytest.raises(ValueError, match="nested deeper"):
        parse_json(deep.encode(encoding))
    # Brackets inside strings are not nesting.
    assert parse_json(json.dumps(["[" * 300, {"k": "{" * 300}]).encode(encoding))


_PART = st.text(alphabet=st.sampled_from("az09-._~%/?=&+ é"), max_size=6)


@settings(max_examples=300)
@given(_PART, st.one_of(st.none(), _PART), st.one_of(st.none(), _PART), _PART)
def test_the_query_key_is_appended_as_prepare_url_would(
    path: str, query: str | None, fragment: str | None, key: str
) -> None:
    url = "http://127.0.0.1:9/" + path
    url += "" if query is None else "?" + query
    url += "" if fragment is None else "#" + fragment
    try:
        prepared = requests.Request("GET", url).prepare()
    except requests.exceptions.RequestException:
        return
    expected = prepared.copy()
    expected.prepare_url(expected.url, {"key": key})
    assert KeyParam(key)(prepared).url == expected.url
