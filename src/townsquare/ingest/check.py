"""A dry run of a source: how each record of a sample would be normalized, withheld or kept back.

`townsquare sources check` reads records with the source's own adapter and runs the same pure
steps `ingest` runs (normalize, the privacy stage, the publication gate, the content-hash
dedupe), so what it shows is what ingesting would do; it opens no database. Onboarding a feed
starts here: unknown call types, quarantined fields and withheld categories are visible
before anything is stored. `as_json` is a stable shape, documented in docs/cli.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from townsquare import geo, taxonomy
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.geocoding import Placer
from townsquare.ingest.normalize import NormalizedRecord, NormalizeError, normalize
from townsquare.ingest.policy import policy_for
from townsquare.ingest.service import content_hash
from townsquare.ingest.settle import settle
from townsquare.ingest.sources.base import RawItem
from townsquare.places.service import Geocoder
from townsquare.privacy import engine as privacy
from townsquare.privacy.gate import DELAYED
from townsquare.privacy.policy import Policy

FORMAT = 1
"""Version of the JSON shape; bumped only when a key changes meaning or disappears."""
OUTCOMES = ("normalized", "withheld", "quarantined", "duplicate")


@dataclass(frozen=True, slots=True)
class Withholding:
    """One reason a record would be withheld, and the policy key that makes it so."""

    rule: str
    reason: str


@dataclass(frozen=True, slots=True)
class CheckedRecord:
    """What ingesting would make of one record (public forms only, never the raw address)."""

    position: str
    outcome: str
    """normalized (public), withheld, quarantined, or duplicate (same bytes as an earlier one)."""
    record: NormalizedRecord | None = None
    title: str | None = None
    address_block: str | None = None
    point: geo.Point | None = None
    withheld: tuple[Withholding, ...] = ()
    field: str | None = None
    """Quarantined: the payload column at fault."""
    reason: str | None = None
    """Quarantined: why; duplicate: which record it repeats."""


@dataclass
class CheckReport:
    """Every record checked, and the counts a person reads first."""

    slug: str
    name: str
    kind: str
    location: str
    limit: int | None
    records: list[CheckedRecord] = field(default_factory=list)
    truncated: bool = False
    """The limit stopped the read: the source holds more records."""

    def count(self, outcome: str) -> int:
        """Records with this outcome."""
        return sum(1 for r in self.records if r.outcome == outcome)

    def unknown_call_types(self) -> list[tuple[str, int]]:
        """Call types [categories] does not map, most frequent first."""
        found = Counter(
            r.record.original_type for r in self.records if r.record and not r.record.mapped
        )
        return sorted(found.items(), key=lambda pair: (-pair[1], pair[0]))

    def quarantined_by_field(self) -> dict[str, int]:
        """Quarantined records per payload column."""
        return dict(sorted(Counter(r.field or "" for r in self.records if r.field).items()))

    def withheld_by_rule(self) -> dict[str, int]:
        """Withheld records per policy key (a record may be withheld by several)."""
        rules = Counter(w.rule for r in self.records for w in r.withheld)
        return dict(sorted(rules.items()))

    def calls(self) -> int:
        """Distinct calls (external ids) among the records not quarantined: incidents-to-be."""
        return len({r.record.external_id for r in self.records if r.record is not None})


def check_items(
    config: SourceConfig,
    items: Iterable[RawItem],
    *,
    now: datetime,
    limit: int | None = None,
    location: str | None = None,
    geocoder: Geocoder | None = None,
) -> CheckReport:
    """Check at most `limit` items of `config`'s source as ingesting them at `now` would."""
    rules = policy_for(config)
    placer = Placer(config, geocoder)
    report = CheckReport(config.slug, config.name, config.kind, location or config.location, limit)
    first_seen: dict[str, str] = {}
    for item in items:
        if limit is not None and len(report.records) == limit:
            report.truncated = True
            break
        digest = content_hash(item.payload)
        earlier = first_seen.get(digest)
        if earlier is not None:
            reason = f"the same bytes as {earlier}: ingesting it again changes nothing"
            report.records.append(CheckedRecord(item.position, "duplicate", reason=reason))
            continue
        first_seen[digest] = item.position
        report.records.append(check_one(item, config, rules, now, placer))
    return report


def check_one(
    item: RawItem,
    config: SourceConfig,
    rules: Policy,
    now: datetime,
    placer: Placer | None = None,
) -> CheckedRecord:
    """One item through normalize, placing, the privacy stage and the publication gate."""
    try:
        found: NormalizedRecord | NormalizeError = normalize(item, config)
    except NormalizeError as exc:
        found = exc
    [record] = settle(None, None, config, [found], now=now, placer=placer)
    if isinstance(record, NormalizeError):
        return CheckedRecord(item.position, "quarantined", field=record.field, reason=record.reason)
    assert record.point is not None
    category = taxonomy.get(record.category)
    title = privacy.public_text(record.original_type, rules)
    decision = privacy.decide(rules, category, title, record.occurred_at, now, category.severity)
    withheld = tuple(Withholding(rule_of(reason), reason) for reason in decision.visibility_reasons)
    return CheckedRecord(
        item.position,
        "withheld" if decision.visibility == "withheld" else "normalized",
        record=record,
        title=title,
        address_block=privacy.public_address(record.address, rules),
        point=privacy.public_point(record.point, rules),
        withheld=withheld,
    )


def rule_of(reason: str) -> str:
    """The policy key behind a reason of the publication gate (privacy.gate's wording)."""
    if reason.startswith(DELAYED):
        return "publication.delay_minutes"
    if reason.endswith("is a sensitive call type"):
        return "withhold.sensitive_categories"
    if reason.endswith("calls are withheld by policy"):
        return "withhold.categories"
    if reason.startswith("withheld: the call type says"):
        return "withhold.call_type_words"
    return "policy"


def utc_text(moment: datetime | None) -> str | None:
    """An aware time as ISO 8601 UTC with a Z ("2011-11-09T22:04:00Z")."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- output --------------------------------------------------------------------------------


def as_json(report: CheckReport) -> dict[str, Any]:
    """The report in its documented JSON shape (docs/cli.md, `sources check --json`)."""
    return {
        "format": FORMAT,
        "source": {
            "slug": report.slug,
            "name": report.name,
            "kind": report.kind,
            "location": report.location,
        },
        "records": [_record_json(r) for r in report.records],
        "unknown_call_types": [
            {"call_type": call_type, "count": n} for call_type, n in report.unknown_call_types()
        ],
        "summary": {
            "read": len(report.records),
            "limit": report.limit,
            "truncated": report.truncated,
            **{outcome: report.count(outcome) for outcome in OUTCOMES},
            "calls": report.calls(),
            "quarantined_by_field": report.quarantined_by_field(),
            "withheld_by_rule": report.withheld_by_rule(),
            "stored": False,
        },
    }


def _record_json(checked: CheckedRecord) -> dict[str, Any]:
    record = checked.record
    category = taxonomy.get(record.category) if record else None
    return {
        "position": checked.position,
        "outcome": checked.outcome,
        "external_id": record.external_id if record else None,
        "unit": record.unit if record else None,
        "call_type": record.original_type if record else None,
        "title": checked.title,
        "category": None
        if record is None or category is None
        else {"code": category.code, "label": category.label, "mapped": record.mapped},
        "occurred_at": utc_text(record.occurred_at) if record else None,
        "address_block": checked.address_block,
        "point": None
        if checked.point is None
        else {"lat": checked.point.lat, "lon": checked.point.lon},
        "precision": record.precision if record else None,
        "status": None if record is None else ("closed" if record.cleared_at else "active"),
        "closed_at": utc_text(record.cleared_at) if record else None,
        "withheld": [{"rule": w.rule, "reason": w.reason} for w in checked.withheld],
        "field": checked.field,
        "reason": checked.reason,
    }


_COLUMNS = ("position", "outcome", "occurred_at (UTC)", "category", "address", "point")
_WIDEST = 44


def as_text(report: CheckReport) -> list[str]:
    """The report as lines for a terminal: a table of records, then what to fix, then a summary."""
    rows = [_row(checked) for checked in report.records]
    lines = [
        f"{report.slug} ({report.kind}) {report.name}",
        f"read from {report.location}",
        "",
        *_table([(*_COLUMNS, "status", "id or reason")], rows),
    ]
    unknown = report.unknown_call_types()
    if unknown:
        lines += ["", "Unknown call types (published as `other`, never alerted, until mapped):"]
        lines += [f"  {n:6d}  {call_type}" for call_type, n in unknown]
    by_field = report.quarantined_by_field()
    if by_field:
        lines += ["", "Quarantined (kept raw, never published), by field:"]
        lines += [f"  {n:6d}  {name}" for name, n in by_field.items()]
    by_rule = report.withheld_by_rule()
    if by_rule:
        lines += ["", "Withheld from the public, by policy rule:"]
        lines += [f"  {n:6d}  {rule}" for rule, n in by_rule.items()]
    lines += ["", summary(report)]
    return lines


def summary(report: CheckReport) -> str:
    """One line: the counts per outcome; says that nothing was stored."""
    more = " (limit reached: the source holds more)" if report.truncated else ""
    unknown = len(report.unknown_call_types())
    return (
        f"summary: {len(report.records)} records read{more}: "
        f"{report.count('normalized')} public, {report.count('withheld')} withheld, "
        f"{report.count('quarantined')} quarantined, {report.count('duplicate')} duplicates; "
        f"{report.calls()} distinct calls; {unknown} unknown call types; nothing was stored"
    )


def _row(checked: CheckedRecord) -> tuple[str, ...]:
    record = checked.record
    if record is None:
        detail = f"{checked.field}: {checked.reason}" if checked.field else (checked.reason or "")
        return (checked.position, checked.outcome, "", "", "", "", "", detail)
    label = taxonomy.get(record.category).label
    category = f"{record.category} ({label})"
    if not record.mapped:
        category = f"{record.category} (unknown: {record.original_type})"
    point = checked.point
    detail = ", ".join(w.rule for w in checked.withheld) or record.key
    return (
        checked.position,
        checked.outcome,
        utc_text(record.occurred_at) or "",
        category,
        checked.address_block or "-",
        f"{point.lat:.5f}, {point.lon:.5f}" if point else "",
        "closed" if record.cleared_at else "active",
        detail,
    )


def _table(head: list[tuple[str, ...]], rows: list[tuple[str, ...]]) -> list[str]:
    every = head + rows
    widths = [min(_WIDEST, max(len(row[i]) for row in every)) for i in range(len(head[0]))]

    def line(row: tuple[str, ...]) -> str:
        cells = [_fit(cell, width) for cell, width in zip(row[:-1], widths, strict=False)]
        return "  ".join([*cells, row[-1]]).rstrip()

    return [line(row) for row in every]


def _fit(text: str, width: int) -> str:
    return (text if len(text) <= width else text[: width - 1] + "…").ljust(width)
