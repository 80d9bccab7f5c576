"""Imports every domain's tables so `Base.metadata` is complete (for Alembic and tests)."""

from townsquare.agencies.models import Agency
from townsquare.alerts.models import AreaCell, Channel, Delivery, Subscription
from townsquare.db import Base
from townsquare.events import OutboxEvent
from townsquare.incidents.models import Incident
from townsquare.ingest.models import RawRecord, Source
from townsquare.privacy.models import RetentionRun

__all__ = [
    "Agency",
    "AreaCell",
    "Base",
    "Channel",
    "Delivery",
    "Incident",
    "OutboxEvent",
    "RawRecord",
    "RetentionRun",
    "Source",
    "Subscription",
]
