"""Per-client-address counters in the store, so every node sees the same counts.

One row per key (a keyed digest: the table holds no e-mail and no IP address) counts events
in a window and, once past its limit, holds the key back until `blocked_until`. Two users:

- failed sign-ins, per (client address, e-mail) pair and per client address. Past
  `signin_max_failures` for a pair, or `signin_address_max_failures` for an address, in
  `signin_lockout_minutes`, that pair or address is refused (429) for the same minutes. The
  e-mail is counted whether or not an account has it, so the answers (401, then 429) are the
  same for existing and unknown accounts; the owner signing in from elsewhere is not held up;
- anonymous writes (`http/ratelimit.py`): `hit` counts each and refuses past the limit until
  the window ends.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from townsquare.accounts import security
from townsquare.accounts.models import SigninThrottle
from townsquare.errors import TooManyRequests
from townsquare.settings import Settings


def _row(session: Session, key: str, now: datetime) -> SigninThrottle:
    """The key's row, locked until commit where the store can (PostgreSQL); made if absent."""
    row = session.get(SigninThrottle, key, with_for_update=True)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = SigninThrottle(key=key, failures=0, window_start=now)
            session.add(row)
        return row
    except IntegrityError:  # another node made it first
        return session.get_one(SigninThrottle, key, with_for_update=True)


def seconds_until(when: datetime, now: datetime) -> int:
    """Whole seconds from `now` to `when`, at least one (a `Retry-After` value)."""
    return max(1, math.ceil((when - now).total_seconds()))


def hit(
    session: Session, key: str, limit: int, window: timedelta, now: datetime
) -> datetime | None:
    """Count one event against `key` and commit; when it is over `limit` in `window`, count
    nothing and return when the key may try again."""
    row = _row(session, key, now)
    if row.blocked_until is not None and row.blocked_until > now:
        retry = row.blocked_until
    else:
        if now - row.window_start >= window:
            row.failures, row.window_start, row.blocked_until = 0, now, None
        if row.failures >= limit:
            row.blocked_until = retry = row.window_start + window
        else:
            row.failures += 1
            retry = None
    session.commit()
    return retry


def _keys(settings: Settings, email: str, client: str) -> dict[str, int]:
    """The keys a sign-in attempt counts against, with the failures each may have."""
    secret = security.server_secret(settings)
    pair = security.keyed_digest(secret, f"signin|{security.normal_email(email)}|{client}")
    address = security.keyed_digest(secret, f"signin|{client}")
    return {pair: settings.signin_max_failures, address: settings.signin_address_max_failures}


def check(session: Session, settings: Settings, email: str, client: str, now: datetime) -> None:
    """TooManyRequests while this address, or this address for this e-mail, is held back."""
    for key in _keys(settings, email, client):
        row = session.get(SigninThrottle, key)
        if row is not None and row.blocked_until is not None and row.blocked_until > now:
            minutes = max(1, round((row.blocked_until - now).total_seconds() / 60))
            raise TooManyRequests(
                f"too many failed sign-ins from this address: try again in {minutes} minutes",
                retry_after=seconds_until(row.blocked_until, now),
            )


def failed(session: Session, settings: Settings, email: str, client: str, now: datetime) -> None:
    """Count one failure against the pair and the address, and commit it."""
    window = timedelta(minutes=settings.signin_lockout_minutes)
    for key, limit in _keys(settings, email, client).items():
        row = _row(session, key, now)
        if now - row.window_start > window:
            row.failures, row.window_start = 0, now
        row.failures += 1
        if row.failures >= limit:
            row.blocked_until, row.failures, row.window_start = now + window, 0, now
    session.commit()


def cleared(session: Session, settings: Settings, email: str, client: str) -> None:
    """A right password forgets the pair's failures (the caller commits)."""
    pair = next(iter(_keys(settings, email, client)))
    row = session.get(SigninThrottle, pair)
    if row is not None:
        session.delete(row)


COUNTER_DAYS = 1
"""Counters untouched this long are gone: every window is an hour, every block ends sooner."""


def expire_counters(session: Session, now: datetime) -> int:
    """Delete the counters of addresses and accounts not seen for COUNTER_DAYS (retention)."""
    cutoff = now - timedelta(days=COUNTER_DAYS)
    idle = (
        SigninThrottle.window_start < cutoff,
        or_(SigninThrottle.blocked_until.is_(None), SigninThrottle.blocked_until < now),
    )
    found = int(session.scalar(select(func.count()).where(*idle)) or 0)
    if found:
        session.execute(delete(SigninThrottle).where(*idle))
    return found
