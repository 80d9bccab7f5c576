"""The redaction manifest: a source's policy explained in words and figures, from data only."""

from __future__ import annotations

from typing import Any

import h3

from townsquare import taxonomy
from townsquare.privacy.gate import withheld_reasons
from townsquare.privacy.policy import Policy, SourcePolicy
from townsquare.privacy.schemas import (
    Figures,
    PolicyChange,
    PolicyManifest,
    SourceRef,
    WithheldCategory,
)

NEVER_PUBLISHED = (
    "Every column of the feed not listed in published_fields, the record as received, "
    "exact house numbers, unit numbers, exact points, and the names, phone numbers, e-mail "
    "addresses, plates, birth dates and case codes found in any text."
)


def cell_size_m(resolution: int) -> int:
    """About how far across a cell of `resolution` is, in metres (twice its edge)."""
    return int(round(2 * float(h3.average_hexagon_edge_length(resolution, "m")), -1))


def rules_in_words(policy: Policy) -> list[str]:
    """The policy as sentences a resident can read."""
    p = policy
    address = (
        f"Addresses are cut to blocks of {p.address.block_size} "
        '("1234 Pine St" -> "1200 block of Pine St"); intersections are kept; apartment, '
        "unit and box numbers are dropped."
        if p.address.publish
        else "Addresses are not published; only the approximate point is."
    )
    rules = [
        "Calls of the withheld categories and call types below are never published; they "
        "are counted in the figures.",
        address,
        f"Points are moved to the centre of an H3 cell of resolution {p.point.resolution} "
        f"(about {cell_size_m(p.point.resolution)} m across).",
        "Phone numbers, e-mail addresses, licence plates, dates of birth, case codes and "
        "names after words such as "
        + ", ".join(f'"{m}"' for m in p.text.name_markers[:4])
        + " are removed from titles and summaries.",
        f"An incident is alerted only if it occurred less than {p.alerts.timely_minutes} "
        f"minutes earlier, affects the community at large, is not withheld, has a specific "
        f"category and severity {p.alerts.min_severity} or more.",
        f"Raw records are deleted after {p.retention.raw_record_days} days.",
    ]
    if p.publication.delay_minutes:
        rules.insert(3, f"Incidents appear {p.publication.delay_minutes} minutes after the call.")
    return rules


def published_fields(config: dict[str, Any], policy: Policy) -> dict[str, str]:
    """Each column the source maps, and what the public sees of it."""
    fields: dict[str, Any] = config.get("fields", {})
    found: dict[str, str] = {}

    def column(name: str) -> str | None:
        spec = fields.get(name)
        return spec.get("column") if isinstance(spec, dict) else None

    if call_type := column("call_type"):
        found[call_type] = "category, title and call type (scrubbed)"
    if address := column("address"):
        found[address] = (
            "address as a block or intersection" if policy.address.publish else ("not published")
        )
    size = cell_size_m(policy.point.resolution)
    for name in ("latitude", "longitude", "location"):
        if coordinate := column(name):
            found[coordinate] = f"point, moved to a cell centre (about {size} m across)"
    for spec in fields.get("occurred_at", []):
        found[spec["column"]] = "time of the call"
    if unit := column("unit"):
        found[unit] = "counted only (number of units)"
    external = fields.get("external_id") or {}
    for name in [*external.get("columns", []), *fields.get("id_from_content", [])]:
        found.setdefault(name, "not published (used to recognise updates)")
    return found


def withheld_categories(policy: Policy) -> list[WithheldCategory]:
    """Every taxonomy category withheld under `policy`, with the reason."""
    found = []
    for code, category in taxonomy.categories().items():
        reasons = withheld_reasons(policy, category, "")
        if reasons:
            found.append(WithheldCategory(code=code, label=category.label, reason=reasons[0]))
    return found


def build(
    source: SourceRef, config: dict[str, Any], chosen: SourcePolicy, figures: Figures
) -> PolicyManifest:
    """The manifest of one source."""
    policy = chosen.policy
    return PolicyManifest(
        source=source,
        rules=rules_in_words(policy),
        published_fields=published_fields(config, policy),
        never_published=NEVER_PUBLISHED,
        withheld_categories=withheld_categories(policy),
        withheld_call_type_words=list(policy.withhold.call_type_words),
        changes=[
            PolicyChange(field=c.field, default=c.default, value=c.value, effect=c.effect)
            for c in chosen.changes
        ],
        loosen_reason=chosen.loosen_reason,
        policy=policy.model_dump(mode="json"),
        figures=figures,
    )
