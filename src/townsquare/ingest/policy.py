"""The privacy policy a stored source runs under, and its published redaction manifest."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from townsquare.agencies.models import Agency
from townsquare.errors import NotFound
from townsquare.incidents.models import Incident
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.models import RawRecord, Source
from townsquare.privacy import manifest
from townsquare.privacy.policy import Policy, SourcePolicy, source_policy
from townsquare.privacy.schemas import Figures, PolicyManifest, SourceRef


def policy_for(config: SourceConfig) -> Policy:
    """The policy a source is published under: the deployment's, tightened by its [policy]."""
    return source_policy(config.policy).policy


def policy_of(source: Source) -> SourcePolicy:
    """The policy a stored source runs under; ConfigError if its [policy] table is invalid."""
    return source_policy(source.config.get("policy"))


def _find_source(session: Session, key: str) -> Source:
    where = Source.id == int(key) if key.isdecimal() and len(key) < 19 else Source.slug == key
    source = session.scalar(select(Source).where(where))
    if source is None:
        raise NotFound(f"source {key!r} not found")
    return source


def _figures(session: Session, source_id: int) -> Figures:
    def count(model: Any, *where: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    return Figures(
        public_incidents=count(
            Incident, Incident.source_id == source_id, Incident.visibility == "public"
        ),
        withheld_incidents=count(
            Incident, Incident.source_id == source_id, Incident.visibility == "withheld"
        ),
        quarantined_records=count(
            RawRecord, RawRecord.source_id == source_id, RawRecord.outcome == "quarantined"
        ),
    )


def source_manifest(session: Session, key: str) -> PolicyManifest:
    """The published redaction manifest of the source with this id or slug."""
    source = _find_source(session, key)
    agency = session.get_one(Agency, source.agency_id)
    ref = SourceRef(id=source.id, slug=source.slug, name=source.name, agency=agency.name)
    return manifest.build(ref, source.config, policy_of(source), _figures(session, source.id))
