"""The hot path's shortcuts give exactly what the general code gives (stored hashes rely on it)."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from townsquare.ingest.config import bundled_mappings, load_source_config
from townsquare.ingest.normalize import NormalizeError, normalize, plan_for
from townsquare.ingest.service import content_hash
from townsquare.ingest.sources.base import RawItem
from townsquare.ingest.sources.http import flatten

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _general_hash(payload: dict[Any, Any]) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@given(st.dictionaries(st.text(), st.text(), max_size=8))
def test_content_hash_is_the_json_text_hash(payload: dict[str, str]) -> None:
    assert content_hash(payload) == _general_hash(payload)


def test_content_hash_of_payloads_that_are_not_all_strings() -> None:
    for payload in ({"a": 1, "b": None}, {"x": [1, 2]}, {1: "a", 2: "b"}):
        assert content_hash(payload) == _general_hash(payload)  # type: ignore[arg-type]


def _general_flatten(value: Any, path: str, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _general_flatten(item, f"{path}.{key}" if path else str(key), out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _general_flatten(item, f"{path}.{index}" if path else str(index), out)
    elif value is None:
        out[path] = ""
    elif isinstance(value, str):
        out[path] = value
    else:
        out[path] = json.dumps(value)


@given(st.dictionaries(st.text(), JSON, max_size=6))
def test_flatten_spells_numbers_as_json_does(document: dict[str, Any]) -> None:
    expected: dict[str, str] = {}
    _general_flatten(document, "", expected)
    assert flatten(document) == expected


def test_flatten_edge_numbers() -> None:
    values = [0.1, -0.0, 1e300, 5e-324, math.inf, -math.inf, math.nan, 10**40, True, False]
    document = {str(n): v for n, v in enumerate(values)}
    expected: dict[str, str] = {}
    _general_flatten(document, "", expected)
    assert flatten(document) == expected


def test_a_plan_is_built_once_per_configuration_object() -> None:
    config = load_source_config(bundled_mappings()["seattle_fire_911"])
    assert plan_for(config) is plan_for(config)
    changed = config.model_copy(update={"time_zone": "America/New_York"})
    assert plan_for(changed) is not plan_for(config)


def test_a_cached_time_string_gives_the_same_instant_and_errors_are_not_cached() -> None:
    config = load_source_config(bundled_mappings()["sf_fire_calls"])
    row = {
        "IncidentNumber": "1",
        "CallType": "Structure Fire",
        "Location": "(37.77, -122.42)",
        "AvailableDtTm": "11/03/2002 01:30:00 AM",  # the hour that happens twice
        "CallDate": "2002-11-03",
    }
    first = normalize(RawItem("item 1", row), config)
    again = normalize(RawItem("item 2", dict(row)), config)
    assert first.occurred_at == again.occurred_at
    assert first.occurred_at.utcoffset() is not None
    bad = {**row, "AvailableDtTm": "11/03/2002 25:30:00 AM"}
    for _ in range(2):  # quarantined every time, not only the first
        with pytest.raises(NormalizeError) as caught:
            normalize(RawItem("item 3", bad), config)
        assert caught.value.field == "AvailableDtTm"
