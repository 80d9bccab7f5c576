"""The published redaction manifest of a source: its policy, what it changed, what it shows."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class SourceRef(_Out):
    """Which source the manifest is about."""

    id: int
    slug: str
    name: str
    agency: str


class PolicyChange(_Out):
    """One value the source changed from the deployment's policy."""

    field: str
    default: Any
    value: Any
    effect: str


class WithheldCategory(_Out):
    """A category whose incidents never reach the public under this policy."""

    code: str
    label: str
    reason: str


class Figures(_Out):
    """Counts of this source's incidents and records, for the transparency report."""

    public_incidents: int
    withheld_incidents: int
    quarantined_records: int


class PolicyManifest(_Out):
    """What anyone may know about how a source's data is redacted before publication."""

    source: SourceRef
    rules: list[str]
    published_fields: dict[str, str]
    never_published: str
    withheld_categories: list[WithheldCategory]
    withheld_call_type_words: list[str]
    changes: list[PolicyChange]
    loosen_reason: str | None
    policy: dict[str, Any]
    figures: Figures
