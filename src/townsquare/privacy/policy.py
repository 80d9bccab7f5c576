"""The privacy policy as data: the deployment's TOML, tightened per source, never loosened
silently.

`default_policy()` reads `default_policy.toml`; `source_policy(table)` applies a source's
`[policy]` table to it and records every change, so the published manifest can say what a
source changed and why. Each value has a direction in which it is stricter (`STRICTER`);
a change the other way is refused unless the table carries `loosen_reason`.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any, Literal

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from townsquare import geo, taxonomy
from townsquare.errors import ConfigError

Direction = Literal["higher", "lower", "true", "false", "empty"]


class _Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _known_codes(codes: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [code for code in codes if not taxonomy.is_known_filter(code)]
    if unknown:
        raise ValueError(f"not taxonomy codes or prefixes: {unknown}")
    return codes


class WithholdRules(_Rules):
    """What never reaches the public."""

    sensitive_categories: bool = True
    categories: tuple[str, ...] = ()
    call_type_words: tuple[str, ...] = ()
    release: tuple[str, ...] = ()

    _codes = field_validator("categories", "release")(_known_codes)

    @field_validator("call_type_words")
    @classmethod
    def _words(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [word for word in value if not _CALL_TYPE_WORD.fullmatch(word)]
        if bad:
            raise ValueError(f"not words, phrases or stems ending in '*': {bad}")
        return value


_CALL_TYPE_WORD = re.compile(r"\w[\w'.&-]*(?: [\w'.&-]+)*\*?")
"""A word, a phrase of words, or a stem ("suicid*"); privacy.gate matches them."""


class AddressRules(_Rules):
    """How addresses are generalized."""

    publish: bool = True
    block_size: int = Field(default=100, ge=100, multiple_of=100)


class PointRules(_Rules):
    """How points are coarsened, and residents' posts displaced."""

    resolution: int = Field(default=geo.PUBLIC_RESOLUTION, ge=0, le=geo.PUBLIC_RESOLUTION)
    post_home_median_m: float = Field(default=400.0, ge=0)
    post_median_m: float = Field(default=100.0, ge=0)


class TextRules(_Rules):
    """How free text is scrubbed."""

    name_markers: tuple[str, ...] = ()
    phone_region: str = "US"
    extra_patterns: tuple[str, ...] = ()

    @field_validator("phone_region")
    @classmethod
    def _region(cls, value: str) -> str:
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a region phonenumbers knows")
        return value

    @field_validator("extra_patterns")
    @classmethod
    def _patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None
        return value


class PublicationRules(_Rules):
    """When an incident becomes public."""

    delay_minutes: int = Field(default=0, ge=0, le=7 * 24 * 60)


class AlertRules(_Rules):
    """What may be alerted."""

    timely_minutes: int = Field(default=60, ge=0)
    min_severity: int = Field(default=3, ge=1, le=6)
    catch_all_categories: tuple[str, ...] = ()

    _codes = field_validator("catch_all_categories")(_known_codes)


class RetentionRules(_Rules):
    """How long private data is kept, in days."""

    raw_record_days: int = Field(default=7, ge=0)
    post_open_days: int = Field(default=7, ge=1)
    closed_post_point_days: int = Field(default=30, ge=0)
    media_original_days: int = Field(default=30, ge=0)
    unattached_media_days: int = Field(default=1, ge=1)


class Policy(_Rules):
    """The whole policy one source is published under."""

    withhold: WithholdRules = WithholdRules()
    address: AddressRules = AddressRules()
    point: PointRules = PointRules()
    text: TextRules = TextRules()
    publication: PublicationRules = PublicationRules()
    alerts: AlertRules = AlertRules()
    retention: RetentionRules = RetentionRules()


STRICTER: dict[str, Direction] = {
    "withhold.sensitive_categories": "true",
    "withhold.release": "empty",
    "address.publish": "false",
    "address.block_size": "higher",
    "point.resolution": "lower",
    "point.post_home_median_m": "higher",
    "point.post_median_m": "higher",
    "publication.delay_minutes": "higher",
    "alerts.timely_minutes": "lower",
    "alerts.min_severity": "higher",
    "retention.raw_record_days": "lower",
    "retention.post_open_days": "lower",
    "retention.closed_post_point_days": "lower",
    "retention.media_original_days": "lower",
    "retention.unattached_media_days": "lower",
}
"""The direction in which each value is stricter; lists not named here only grow."""


@dataclass(frozen=True, slots=True)
class Change:
    """One value a source changed from the deployment's policy."""

    field: str
    default: Any
    value: Any
    effect: Literal["tightened", "loosened", "changed"]


@dataclass(frozen=True, slots=True)
class SourcePolicy:
    """The policy of one source, what it changed, and why it loosened anything."""

    policy: Policy
    changes: tuple[Change, ...] = ()
    loosen_reason: str | None = None


@cache
def default_policy() -> Policy:
    """The deployment's policy, read once from the packaged `default_policy.toml`."""
    text = resources.files("townsquare.privacy").joinpath("default_policy.toml").read_text()
    return Policy.model_validate(tomllib.loads(text))


def source_policy(table: dict[str, Any] | None) -> SourcePolicy:
    """The default policy with a source's `[policy]` table applied; ConfigError if invalid."""
    return _source_policy(json.dumps(table or {}, sort_keys=True))


@lru_cache(maxsize=256)
def _source_policy(table_json: str) -> SourcePolicy:
    table: dict[str, Any] = json.loads(table_json)
    reason = table.pop("loosen_reason", None)
    base = default_policy()
    merged = base.model_dump()
    for section, values in table.items():
        if not isinstance(values, dict) or section not in merged:
            raise ConfigError(f"policy: {section}: not a section of the policy")
        for key, value in values.items():
            old = merged[section].get(key)
            merged[section][key] = (
                [*old, *(v for v in value if v not in old)]
                if isinstance(old, tuple) and isinstance(value, list) and key != "release"
                else value
            )
    try:
        policy = Policy.model_validate(merged)
    except ValidationError as exc:
        where = "; ".join(
            f"policy.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(where) from None
    changes = tuple(_changes(base, policy))
    loosened = [c.field for c in changes if c.effect == "loosened"]
    if loosened and not (isinstance(reason, str) and reason.strip()):
        raise ConfigError(
            f"policy: {', '.join(loosened)} loosen the deployment's policy; "
            'say why in loosen_reason = "..." (it is published)'
        )
    return SourcePolicy(policy, changes, reason if loosened else None)


def _changes(base: Policy, policy: Policy) -> list[Change]:
    found = []
    old_dump, new_dump = base.model_dump(), policy.model_dump()
    for section, values in new_dump.items():
        for key, value in values.items():
            old = old_dump[section][key]
            if value != old:
                name = f"{section}.{key}"
                found.append(Change(name, old, value, _effect(STRICTER.get(name), old, value)))
    return found


def _effect(
    direction: Direction | None, old: Any, new: Any
) -> Literal["tightened", "loosened", "changed"]:
    stricter = {
        None: isinstance(new, tuple) and set(old) <= set(new),
        "higher": new > old,
        "lower": new < old,
        "true": bool(new),
        "false": not new,
        "empty": not new,
    }[direction]
    if direction is None and not isinstance(new, tuple):
        return "changed"
    return "tightened" if stricter else "loosened"
