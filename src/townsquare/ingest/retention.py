"""Retention of what ingest keeps: raw records, as long as each source's policy says."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from townsquare.errors import TownsquareError
from townsquare.ingest.models import RawRecord, Source
from townsquare.ingest.policy import policy_of
from townsquare.privacy.policy import SourcePolicy, default_policy

log = logging.getLogger(__name__)


def _retention_policy(source: Source) -> SourcePolicy:
    try:
        return policy_of(source)
    except TownsquareError:
        # Deleting on time matters more than the source's wishes: use the deployment's.
        log.exception("invalid policy; retention uses the default", extra={"source": source.slug})
        return SourcePolicy(default_policy())


def expire_raw_records(session: Session, now: datetime) -> int:
    deleted = 0
    for source in session.scalars(select(Source)):
        days = _retention_policy(source).policy.retention.raw_record_days
        expired = (
            RawRecord.source_id == source.id,
            RawRecord.received_at < now - timedelta(days=days),
        )
        found = int(session.scalar(select(func.count()).where(*expired)) or 0)
        if found:
            session.execute(delete(RawRecord).where(*expired))
        deleted += found
    return deleted
