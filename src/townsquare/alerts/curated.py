"""What a curator's "send as an alert" did: deliveries sent now, deliveries held, and why.

The desk decides a curated alert's deliveries at once (not when the bus brings the event
round), so the curator reads the real figures in the answer to the click. Deciding twice is
harmless: deliveries are unique per channel, kind and revision (see `matching`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from townsquare.alerts.matching import SENT_LIKE, in_quiet_hours
from townsquare.alerts.models import Delivery, Subscription


@dataclass(frozen=True, slots=True)
class CuratedOutcome:
    """The alert deliveries of one incident, as they stand."""

    sent_now: int = 0
    held_quiet: int = 0
    """Held because the area is in its quiet hours: they go in its digest after."""
    held_other: int = 0
    """Held from before the curator's decision whose area is not in quiet hours (none
    normally: the decision releases them)."""

    @property
    def held(self) -> int:
        """Every held delivery."""
        return self.held_quiet + self.held_other

    def sentence(self) -> str:
        """The figures in words, for the desk: 'sent now 2, held 1 (…)'."""
        said = f"sent now {self.sent_now}, held {self.held}"
        why = []
        if self.held_quiet:
            why.append(
                f"{self.held_quiet} in their area's quiet hours: they go in the area's digest "
                "once the quiet hours end"
            )
        if self.held_other:
            why.append(f"{self.held_other} waiting for their area's digest")
        if why:
            said += " (" + "; ".join(why) + ")"
        if not self.sent_now and not self.held:
            said += " (no watch area around it asked for its category)"
        return said


def outcome(session: Session, incident_id: int, now: datetime) -> CuratedOutcome:
    """Count the incident's alert deliveries: sent now (or on their way) and held, by reason."""
    rows = session.execute(
        select(Delivery.status, Subscription)
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .where(Delivery.incident_id == incident_id, Delivery.kind == "alert")
    )
    sent = quiet = other = 0
    for status, sub in rows:
        if status in SENT_LIKE:
            sent += 1
        elif status == "held" and in_quiet_hours(sub, now):
            quiet += 1
        elif status == "held":
            other += 1
    return CuratedOutcome(sent, quiet, other)
