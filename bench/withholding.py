"""How many calls the withholding rules keep from the public, and why: before and after #13.

For each source (default: the shipped Seattle, San Francisco and Houston mappings, Houston
read from its 13 recorded snapshots), every record is normalized as ingestion does and its
call type scrubbed; each distinct call (external id) is then judged twice:

- before: the call-type words as word beginnings ("ems" matched "EMS" anywhere, "dv" the
  start of "DVD"), the list shipped before issue 13, no response descriptors;
- after: the current policy (`privacy.gate.withheld_reasons`): whole words, `*` stems, and
  "(FIRE & EMS)"-style descriptors not read on fire, traffic, rescue and safety calls.

Prints one table per source (calls withheld by reason: sensitive category, category by
policy, call-type word and which word) and the call types whose decision changed, among
the sample's calls and among every call type the mapping lists in [categories].

    .venv/bin/python bench/withholding.py [CONFIG.toml ...] [--sample SLUG=PATH ...]

PATH is a file the source's adapter reads, or a folder whose every file is read.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

from townsquare import taxonomy
from townsquare.ingest.config import MAPPINGS_DIR, SourceConfig, load_source_config
from townsquare.ingest.normalize import NormalizeError, normalize
from townsquare.ingest.sources.registry import adapter_for
from townsquare.privacy import engine
from townsquare.privacy.gate import call_type_word, withheld_reasons
from townsquare.privacy.policy import Policy
from townsquare.taxonomy import Category

SAMPLES = MAPPINGS_DIR.parent.parent / "samples"
SHIPPED = ("seattle_fire_911", "sf_fire_calls", "houston_active_incidents")
DEFAULT_SAMPLES = {"houston-active-incidents": SAMPLES / "houston_active_incidents"}
LEGACY_WORDS = (
    *("sex", "rape", "domestic", "dv", "abuse", "neglect", "juvenile", "runaway"),
    *("missing child", "suicid", "mental", "psych", "5150", "overdose", "death", "doa"),
    *("deceased", "dead body", "welfare", "medical", "medic", "aid response", "ems", "sick"),
    *("patient", "cardiac", "unconscious", "breathing", "seizure", "stroke", "injured person"),
    "fall victim",
)
"""`[withhold] call_type_words` as shipped before issue 13, read as word beginnings."""

Judge = Callable[[Policy, Category, str], str | None]


@cache
def _legacy_pattern() -> re.Pattern[str]:
    words = "|".join(re.escape(w) for w in LEGACY_WORDS)
    return re.compile(rf"\b(?:{words})", re.IGNORECASE)


def _category_reason(policy: Policy, category: Category) -> str | None:
    rules = policy.withhold
    released = any(taxonomy.matches(category.code, code) for code in rules.release)
    if not released and rules.sensitive_categories and category.sensitive:
        return "sensitive category"
    if not released and any(taxonomy.matches(category.code, c) for c in rules.categories):
        return "category by policy"
    return None


def before(policy: Policy, category: Category, call_type: str) -> str | None:
    """The reason the rules before issue 13 gave, or None if the call was public."""
    found = _category_reason(policy, category)
    if found is not None:
        return found
    match = _legacy_pattern().search(call_type)
    if match is None:
        return None
    word = next(w for w in LEGACY_WORDS if match[0].lower() == w.lower())
    return f"call-type word {word!r}"


def after(policy: Policy, category: Category, call_type: str) -> str | None:
    """The reason the current gate gives, or None if the call is public."""
    if not withheld_reasons(policy, category, call_type):
        return None
    found = _category_reason(policy, category)
    if found is not None:
        return found
    return f"call-type word {call_type_word(policy, category, call_type)!r}"


def _locations(config: SourceConfig, sample: Path | None) -> list[str]:
    if sample is None:
        return [config.location]
    if sample.is_dir():
        return [str(p) for p in sorted(sample.iterdir()) if p.suffix in {".json", ".csv"}]
    return [str(sample)]


def calls(config: SourceConfig, sample: Path | None) -> Iterator[tuple[str, str, Category]]:
    """(external id, scrubbed call type, category) of every record the samples hold."""
    policy = engine.policy_for(config)
    for location in _locations(config, sample):
        here = config.model_copy(update={"location": location})
        for item in adapter_for(here.kind).fetch(here):
            try:
                record = normalize(item, here)
            except NormalizeError:
                continue
            title = engine.public_text(record.original_type, policy)
            yield record.external_id, title, taxonomy.get(record.category)


def report(config: SourceConfig, sample: Path | None) -> list[str]:
    """The lines of one source's table."""
    policy = engine.policy_for(config)
    latest = {call_id: (title, category) for call_id, title, category in calls(config, sample)}
    counts: dict[str, Counter[str]] = {"before": Counter(), "after": Counter()}
    changed: Counter[tuple[str, str, str, str]] = Counter()
    for title, category in latest.values():
        was, now = before(policy, category, title), after(policy, category, title)
        counts["before"][was or "public"] += 1
        counts["after"][now or "public"] += 1
        if was != now:
            changed[(title, category.code, was or "public", now or "public")] += 1
    where = sample or config.location
    lines = [f"{config.slug}: {len(latest)} calls in {where}", _row("", "before", "after")]
    reasons = sorted(set(counts["before"]) | set(counts["after"]), key=_order)
    for reason in reasons:
        lines.append(_row(reason, counts["before"][reason], counts["after"][reason]))
    withheld = [len(latest) - counts[when]["public"] for when in ("before", "after")]
    lines.append(_row("withheld, all reasons", *withheld))
    lines += _changes("calls whose decision changed", changed)
    mapped: Counter[tuple[str, str, str, str]] = Counter()
    for call_type, code in sorted(config.categories.items()):
        category = taxonomy.get(code)
        title = engine.public_text(call_type, policy)
        was, now = before(policy, category, title), after(policy, category, title)
        if was != now:
            mapped[(call_type, code, was or "public", now or "public")] += 1
    lines += _changes("mapped call types ([categories]) whose decision changed", mapped)
    return lines


def _order(reason: str) -> tuple[int, str]:
    rank = {"public": 0, "sensitive category": 1, "category by policy": 2}
    return rank.get(reason, 3), reason


def _row(label: str, was: object, now: object) -> str:
    return f"  {label:<40}{was!s:>8}{now!s:>8}"


def _changes(title: str, changed: Counter[tuple[str, str, str, str]]) -> list[str]:
    if not changed:
        return [f"  {title}: none"]
    lines = [f"  {title}:"]
    for (call_type, code, was, now), n in sorted(changed.items()):
        lines.append(f"    {n:5d}  {call_type} [{code}]: {was} -> {now}")
    return lines


def main() -> None:
    """Print the tables for the sources named on the command line, or the shipped ones."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="*", type=Path, help="source TOML files")
    parser.add_argument("--sample", action="append", default=[], help="SLUG=PATH to read")
    args = parser.parse_args()
    paths = args.configs or [MAPPINGS_DIR / f"{name}.toml" for name in SHIPPED]
    samples = dict(DEFAULT_SAMPLES)
    samples.update({k: Path(v) for k, v in (s.split("=", 1) for s in args.sample)})
    for path in paths:
        config = load_source_config(path)
        print("\n".join(report(config, samples.get(config.slug))), end="\n\n")


if __name__ == "__main__":
    main()
