"""Imports every domain's tables so `Base.metadata` is complete (for Alembic and tests)."""

from townsquare.accounts.models import (
    Account,
    AccountSession,
    ApiToken,
    EmailToken,
    SigninThrottle,
)
from townsquare.agencies.models import Agency
from townsquare.alerts.models import AreaCell, Channel, Delivery, Subscription
from townsquare.audit import AuditEntry
from townsquare.db import Base
from townsquare.events.outbox import OutboxEvent
from townsquare.feedback.models import Feedback
from townsquare.footage.models import BreakGlass, Camera, Clip, FootageRequest, Notice, Share
from townsquare.incidents.models import Incident
from townsquare.ingest.models import RawRecord, Source
from townsquare.media.models import Media, MediaChunk
from townsquare.posts.models import Post, PostMedia
from townsquare.privacy.models import RetentionRun
from townsquare.weekly.models import WeeklyDigest

__all__ = [
    "Account",
    "AccountSession",
    "Agency",
    "ApiToken",
    "AreaCell",
    "AuditEntry",
    "Base",
    "BreakGlass",
    "Camera",
    "Channel",
    "Clip",
    "Delivery",
    "EmailToken",
    "Feedback",
    "FootageRequest",
    "Incident",
    "Media",
    "MediaChunk",
    "Notice",
    "OutboxEvent",
    "Post",
    "PostMedia",
    "RawRecord",
    "RetentionRun",
    "Share",
    "SigninThrottle",
    "Source",
    "Subscription",
    "WeeklyDigest",
]
