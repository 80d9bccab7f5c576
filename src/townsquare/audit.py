"""The append-only, hash-chained audit log: who did what to which object, and when.

Each entry's hash covers its own fields and the previous entry's hash, so changing or
deleting any entry breaks every hash after it; `verify` walks the chain and names the first
entry that does not match. Entries name people by account id only: the personal data stays
in the accounts table, so erasing an account leaves the fact, not the person.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, column, select, table
from sqlalchemy.orm import Mapped, Session, mapped_column

from townsquare.db import Base, UTCDateTime, utcnow

GENESIS = "0" * 64
_ACCOUNT = table("account", column("id", Integer), column("roles", JSON))
"""The account table's roles, read by name: the audit log sits below the accounts package."""


class AuditEntry(Base):
    """One audited action; rows are only ever appended."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(
        Integer, comment="account id of who acted; null for the system"
    )
    action: Mapped[str] = mapped_column(String(64), comment="e.g. post.approve")
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"),
        comment="account whose data was touched; they may read this entry",
    )
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, comment="ids and reasons, no contacts")
    actor_roles: Mapped[list[str] | None] = mapped_column(
        JSON(none_as_null=True),
        comment="the actor's roles when it acted: the access log names the reader's role",
    )
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


def _digest(entry: AuditEntry) -> str:
    body = json.dumps(
        [
            entry.id,
            entry.at.isoformat(),
            entry.actor_id,
            entry.action,
            entry.object_type,
            entry.object_id,
            entry.detail,
            entry.prev_hash,
            # Entries from before the roles were recorded keep the hash they were given.
            *([entry.actor_roles] if entry.actor_roles is not None else []),
        ],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: object,
    subject_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (the caller commits).

    The acting account's roles at this moment are recorded with it, so whoever reads the
    entry later (the resident in their access log) learns in which role their data was read.
    """
    # Lock the last entry so two writers cannot both chain onto it (PostgreSQL; SQLite
    # serialises writers already).
    last = session.scalars(
        select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1).with_for_update()
    ).first()
    entry = AuditEntry(
        at=utcnow(),
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        subject_id=subject_id,
        detail=detail or {},
        actor_roles=_roles_of(session, actor_id),
        prev_hash=last.hash if last else GENESIS,
        hash="pending",
    )
    entry.id = (last.id if last else 0) + 1
    entry.hash = _digest(entry)
    session.add(entry)
    session.flush()
    return entry


def record_row(
    session: Session,
    row: Base,
    *,
    actor_id: int | None,
    action: str,
    subject_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """`record` an action on a stored row, named by its table and id (a new row is flushed)."""
    if getattr(row, "id", None) is None:
        session.add(row)
        session.flush()
    return record(
        session,
        actor_id=actor_id,
        action=action,
        object_type=row.__tablename__,
        object_id=getattr(row, "id"),  # noqa: B009 - every audited table has an integer id
        subject_id=subject_id,
        detail=detail,
    )


def _roles_of(session: Session, actor_id: int | None) -> list[str] | None:
    if actor_id is None:
        return None
    roles = session.scalar(select(_ACCOUNT.c.roles).where(_ACCOUNT.c.id == actor_id))
    return sorted(roles or [])


@dataclass(frozen=True, slots=True)
class Verification:
    """The result of walking the chain."""

    entries: int
    broken_at: int | None

    @property
    def ok(self) -> bool:
        """True when every entry matches its hash and its predecessor."""
        return self.broken_at is None


def verify(session: Session) -> Verification:
    """Walk the whole chain; report the first entry whose hash or link does not match."""
    previous = GENESIS
    count = 0
    expected_id = 1
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id)).yield_per(1000):
        count += 1
        # A deleted entry leaves a gap in the ids, and its successor's link no longer matches.
        if entry.id != expected_id or entry.prev_hash != previous or _digest(entry) != entry.hash:
            return Verification(count, entry.id)
        previous = entry.hash
        expected_id += 1
    return Verification(count, None)


def entries_about(session: Session, subject_id: int) -> list[AuditEntry]:
    """Every entry about one account's data, oldest first (the resident may read them)."""
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.subject_id == subject_id).order_by(AuditEntry.id)
        )
    )
