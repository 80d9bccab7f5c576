"""A resident's watch areas for "download my data" and "delete my account".

Subscriptions carry no owner: an area is the resident's when one of its e-mail channels goes
to their (verified) address.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from h3.api import basic_int as h3i
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from townsquare.alerts.models import AreaCell, Channel, Delivery, Subscription
from townsquare.alerts.service import stored_cells
from townsquare.db import Base
from townsquare.events import topics
from townsquare.events.outbox import announce


def _mine(session: Session, email: str) -> list[tuple[Subscription, list[Channel]]]:
    """Watch areas with an e-mail channel to this address (subscriptions carry no owner)."""
    mine: dict[int, list[Channel]] = {}
    for channel in session.scalars(select(Channel).where(Channel.kind == "email")):
        address = str(channel.target.get("address", ""))
        if address.strip().lower() == email:
            mine.setdefault(channel.subscription_id, []).append(channel)
    return [(session.get_one(Subscription, sid), channels) for sid, channels in mine.items()]


def subscriptions_of(
    session: Session, email: str, row: Callable[[Base], dict[str, Any]]
) -> list[dict[str, Any]]:
    """The address's watch areas, each as the H3 cells kept of it, with its channels."""
    return [
        row(sub)
        | {
            "cells": [h3i.int_to_str(c) for c in stored_cells(session, sub.id)],
            "channels": [row(c) for c in channels],
        }
        for sub, channels in _mine(session, email)
    ]


def forget_address(session: Session, email: str) -> int:
    """Remove this address's e-mail channels; a watch area left without channels goes too."""
    removed = 0
    for sub, channels in _mine(session, email):
        ids = [c.id for c in channels]
        session.execute(delete(Delivery).where(Delivery.channel_id.in_(ids)))
        session.execute(delete(Channel).where(Channel.id.in_(ids)))
        left = session.scalar(select(Channel.id).where(Channel.subscription_id == sub.id))
        if left is None:
            for table in (Delivery, AreaCell):
                session.execute(delete(table).where(table.subscription_id == sub.id))
            session.execute(delete(Subscription).where(Subscription.id == sub.id))
            removed += 1
        announce(session, topics.SUBSCRIPTION_CHANGED, {"id": sub.id})
    return removed
