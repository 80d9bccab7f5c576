"""Push keys an agency's admins set for their push sources: rotated here, checked by ingest.

A source declares `[push] key_env/secret_env`: the server's environment holds its first
credentials. Once an admin rotates the key here, the store holds them instead (the API key
as SHA-256, the HMAC secret in clear because checking a signature needs it) and the
environment is no longer read for that source: every earlier key stops at once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from townsquare import audit
from townsquare.accounts import security
from townsquare.accounts.schemas import Actor
from townsquare.agencies.models import PushKey
from townsquare.agencies.schemas import KeyMade, PushSourceOut
from townsquare.agencies.service import verified_agency_of
from townsquare.errors import NotFound
from townsquare.ingest.models import Source


@dataclass(frozen=True, slots=True)
class StoredKey:
    """What the store says of a pushed request's key."""

    managed: bool
    """True once the source has a stored key: its environment variables are not read."""
    secret: str | None
    """The HMAC secret when the sent key is the source's live key; None otherwise."""


def lookup(factory: sessionmaker[Session], source_slug: str, sent_key: str) -> StoredKey:
    """The stored credentials of a push source for the key a request sent."""
    with factory() as session:
        newest = session.execute(
            select(PushKey.key_hash, PushKey.secret, PushKey.revoked_at)
            .join(Source, Source.id == PushKey.source_id)
            .where(Source.slug == source_slug)
            .order_by(PushKey.id.desc())
            .limit(1)
        ).first()
    if newest is None:
        return StoredKey(managed=False, secret=None)
    key_hash, secret, revoked_at = newest
    live = revoked_at is None and security.same(security.digest(sent_key), key_hash)
    return StoredKey(managed=True, secret=secret if live else None)


def _push_sources(session: Session, agency_id: int) -> list[Source]:
    rows = session.scalars(
        select(Source).where(Source.agency_id == agency_id).order_by(Source.slug)
    )
    return [s for s in rows if (s.config or {}).get("push")]


def _live(session: Session, source_id: int) -> PushKey | None:
    return session.scalar(
        select(PushKey).where(PushKey.source_id == source_id, PushKey.revoked_at.is_(None))
    )


def push_sources(session: Session, *, actor: Actor) -> list[PushSourceOut]:
    """The push sources of the caller's agency and the state of their keys (admins only)."""
    agency = verified_agency_of(session, actor, "agency_admin")
    found = []
    for source in _push_sources(session, agency.id):
        live = _live(session, source.id)
        found.append(
            PushSourceOut(
                slug=source.slug,
                name=source.name,
                stored_key=live is not None,
                key_created_at=live.created_at if live else None,
            )
        )
    return found


def _own_source(session: Session, slug: str, actor: Actor) -> Source:
    agency = verified_agency_of(session, actor, "agency_admin")
    for source in _push_sources(session, agency.id):
        if source.slug == slug:
            return source
    raise NotFound(f"no push source {slug} in {agency.slug}")


def _revoke_all(session: Session, source_id: int, now: datetime) -> None:
    session.execute(
        update(PushKey)
        .where(PushKey.source_id == source_id, PushKey.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def rotate_key(session: Session, slug: str, *, actor: Actor, now: datetime) -> KeyMade:
    """A new key and secret for one of the agency's push sources, shown once; the old stop."""
    source = _own_source(session, slug, actor)
    _revoke_all(session, source.id, now)
    key, key_hash = security.new_secret()
    secret = secrets.token_hex(32)
    row = PushKey(
        source_id=source.id,
        key_hash=key_hash,
        secret=secret,
        created_by=actor.account_id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    audit.record_row(
        session,
        source,
        actor_id=actor.account_id,
        action="push_key.rotate",
        detail={"source": slug, "key_id": row.id},
    )
    session.commit()
    return KeyMade(source=slug, key=key, secret=secret, created_at=now)


def revoke_key(session: Session, slug: str, *, actor: Actor, now: datetime) -> None:
    """Stop every key of a push source (a leaked key): nothing is accepted until a rotation."""
    source = _own_source(session, slug, actor)
    if _live(session, source.id) is None:
        # Still record a stored, revoked key: the environment's key must stop too.
        key, key_hash = security.new_secret()
        del key
        session.add(
            PushKey(
                source_id=source.id,
                key_hash=key_hash,
                secret=secrets.token_hex(32),
                created_by=actor.account_id,
                created_at=now,
                revoked_at=now,
            )
        )
    _revoke_all(session, source.id, now)
    audit.record_row(
        session,
        source,
        actor_id=actor.account_id,
        action="push_key.revoke",
        detail={"source": slug},
    )
    session.commit()
