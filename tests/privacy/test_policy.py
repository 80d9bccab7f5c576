"""The policy: declared in TOML, tightened per source, loosened only with a published reason;
and the gate's decisions under it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from townsquare import taxonomy
from townsquare.errors import ConfigError
from townsquare.privacy.gate import decide
from townsquare.privacy.policy import default_policy, source_policy

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ISSUE_WITHHELD = [
    "medical",
    "sensitive.sexual_assault",
    "sensitive.domestic",
    "sensitive.juvenile",
    "sensitive.mental_health",
    "sensitive.death",
    "welfare",
]


@pytest.mark.parametrize(
    "code", [*ISSUE_WITHHELD, *(c for c, cat in taxonomy.categories().items() if cat.sensitive)]
)
def test_the_default_policy_withholds_the_sensitive_categories(code: str) -> None:
    decision = decide(default_policy(), taxonomy.get(code), "Call", NOW, NOW, 5)
    assert decision.visibility == "withheld"
    assert not decision.alertable


def test_a_source_tightens_and_every_change_is_recorded() -> None:
    chosen = source_policy(
        {
            "point": {"resolution": 8},
            "withhold": {"call_type_words": ["fight"], "categories": ["crime.assault"]},
            "retention": {"raw_record_days": 2},
        }
    )
    assert chosen.policy.point.resolution == 8
    assert "fight" in chosen.policy.withhold.call_type_words
    assert "rape*" in chosen.policy.withhold.call_type_words  # lists grow, never shrink
    assert {c.field: c.effect for c in chosen.changes} == {
        "point.resolution": "tightened",
        "withhold.call_type_words": "tightened",
        "withhold.categories": "tightened",
        "retention.raw_record_days": "tightened",
    }
    fight = decide(chosen.policy, taxonomy.get("civil"), "Fight in progress", NOW, NOW, 3)
    assert fight.visibility == "withheld"


@pytest.mark.parametrize(
    "table",
    [
        {"point": {"resolution": 9}, "address": {"block_size": 1000}},
        {"publication": {"delay_minutes": 15}, "alerts": {"min_severity": 4}},
    ],
)
def test_tightening_needs_no_reason(table: dict[str, dict[str, object]]) -> None:
    assert all(c.effect == "tightened" for c in source_policy(table).changes)


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ({"retention": {"raw_record_days": 30}}, "retention.raw_record_days"),
        ({"alerts": {"timely_minutes": 180}}, "alerts.timely_minutes"),
        ({"withhold": {"release": ["welfare"]}}, "withhold.release"),
        ({"withhold": {"sensitive_categories": False}}, "withhold.sensitive_categories"),
        ({"point": {"post_home_median_m": 50.0}}, "point.post_home_median_m"),
    ],
)
def test_loosening_is_refused_without_a_reason_and_published_with_one(
    table: dict[str, dict[str, object]], field: str
) -> None:
    with pytest.raises(ConfigError, match="loosen_reason"):
        source_policy(table)
    chosen = source_policy({**table, "loosen_reason": "The agency publishes these itself."})
    assert [(c.field, c.effect) for c in chosen.changes] == [(field, "loosened")]
    assert chosen.loosen_reason == "The agency publishes these itself."


def test_a_released_category_is_public_again() -> None:
    chosen = source_policy({"withhold": {"release": ["welfare"]}, "loosen_reason": "asked"})
    check = decide(chosen.policy, taxonomy.get("welfare"), "Check on person", NOW, NOW, 2)
    assert check.visibility == "public"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"point": {"resolution": 10}}, "point.resolution"),
        ({"address": {"block_size": 150}}, "address.block_size"),
        ({"withhold": {"categories": ["crime.nonsense"]}}, "not taxonomy codes"),
        ({"text": {"phone_region": "Atlantis"}}, "phone_region"),
        ({"text": {"extra_patterns": ["(unclosed"]}}, "regular expression"),
        ({"withhold": {"call_type_words": ["*ems"]}}, "stems ending in"),
        ({"withhold": {"call_type_words": ["fi*ght"]}}, "stems ending in"),
        ({"withhold": {"call_type_words": [""]}}, "stems ending in"),
        ({"point": {"precision": 3}}, "point.precision"),
        ({"secrecy": {"level": 3}}, "not a section"),
    ],
)
def test_invalid_policy_tables_name_the_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        source_policy(table)  # type: ignore[arg-type]


def test_alert_reasons_say_why_not() -> None:
    policy = default_policy()
    stale = decide(policy, taxonomy.get("fire.structure"), "Fire", NOW - timedelta(hours=3), NOW, 4)
    assert stale.visibility == "public"
    assert stale.alertable_reasons == ("not alerted: 3 h old",)
    alarm = decide(policy, taxonomy.get("fire.alarm"), "Alarm", NOW, NOW, 1)
    assert alarm.alertable_reasons == (
        "not alerted: fire alarm does not affect the community at large",
        "not alerted: severity 1 is below 3",
    )
    other = decide(policy, taxonomy.get("other"), "Unknown", NOW, NOW, 3)
    assert "not alerted: other is not a specific category" in other.alertable_reasons
    fresh = decide(
        policy, taxonomy.get("fire.structure"), "Fire", NOW - timedelta(minutes=59), NOW, 4
    )
    assert fresh.alertable
    assert fresh.alertable_reasons == ("alertable: 59 min old, affects the community, severity 4",)


# --- call-type words: whole words, stems, and who responds (issue 13, item 10) -------------


@pytest.mark.parametrize(
    ("code", "call_type"),
    [
        ("traffic.collision", "TA1 - TRAFFIC ACCIDENT - 1ST RESPONSE (FIRE & EMS)"),
        ("traffic.collision", "MVA - FIRE/EMS"),
        ("fire.structure", "STRUCTURE FIRE (FIRE & EMS RESPONSE)"),
        ("safety.gas_leak", "GAS LEAK - EMS RESPONSE"),
        ("rescue.water", "WATER RESCUE (FIRE, EMS)"),
        ("fire.outside", "Brush fire near Emsworth Rd"),
        ("crime.theft", "Theft of DVD player"),
    ],
)
def test_who_responds_and_word_beginnings_do_not_withhold(code: str, call_type: str) -> None:
    decision = decide(default_policy(), taxonomy.get(code), call_type, NOW, NOW, 3)
    assert decision.visibility == "public", decision.visibility_reasons


@pytest.mark.parametrize(
    ("code", "call_type", "word"),
    [
        # A descriptor is read like any word when nothing else names the incident, or when
        # the call is not mapped to a fire, traffic, rescue or safety category: unsure, withhold.
        ("traffic.collision", "EMS RESPONSE", "ems"),
        ("traffic.collision", "(FIRE & EMS)", "ems"),
        ("other", "TA1 - TRAFFIC ACCIDENT - 1ST RESPONSE (FIRE & EMS)", "ems"),
        ("assist", "LIFT ASSIST (EMS)", "ems"),
        ("police.other", "Subject down - FIRE/EMS", "ems"),
        # The words themselves still withhold, whole or as stems.
        ("traffic.collision", "MVA with patient (FIRE & EMS)", "patient"),
        ("civil", "Sexual assault report", "sexual"),
        ("civil", "Suicidal subject", "suicidal"),
        ("civil", "MISSING-CHILD", "missing-child"),
        ("crime.assault", "DV Assault", "dv"),
        ("assist", "Overdose", "overdose"),
        ("other", "EMS EVENT", "ems"),
    ],
)
def test_call_type_words_withhold_whole_words_and_stems(
    code: str, call_type: str, word: str
) -> None:
    decision = decide(default_policy(), taxonomy.get(code), call_type, NOW, NOW, 3)
    assert decision.visibility_reasons == (
        f"withheld: the call type says {word!r}, withheld by policy",
    )


def test_a_sources_word_is_whole_unless_it_is_a_stem() -> None:
    words = source_policy({"withhold": {"call_type_words": ["fight", "harass*"]}}).policy
    civil = taxonomy.get("civil")
    assert decide(words, civil, "Fight in progress", NOW, NOW, 3).visibility == "withheld"
    assert decide(words, civil, "Harassment", NOW, NOW, 3).visibility == "withheld"
    assert decide(words, civil, "Fighting words", NOW, NOW, 3).visibility == "public"
