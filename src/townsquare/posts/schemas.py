"""Shapes of posts: what a resident sends, what the author sees, what anyone may see."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from townsquare.incidents.schemas import MediaPublic
from townsquare.privacy.types import CoarsePoint, ScrubbedText


class PersonIn(BaseModel):
    """A person the post describes."""

    action: str = Field(default="", max_length=300)
    descriptors: list[str] = Field(default_factory=list, max_length=12)
    suspicious: bool = False
    could_be: str | None = Field(
        default=None, description="delivery, solicitor, utility, neighbour or none"
    )


class PostIn(BaseModel):
    """A new post; the exact point is private and never shown to anyone else."""

    category: str = Field(max_length=64)
    title: str = Field(max_length=200)
    description: str = Field(max_length=5000)
    occurred_at: datetime
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    person: PersonIn | None = None
    media_ids: list[int] = Field(default_factory=list, max_length=6)


class CheckOut(BaseModel):
    """One guideline finding."""

    code: str
    reason: str


class PostOwn(BaseModel):
    """A post as its author (or a moderator) sees it."""

    id: int
    state: str
    reason: str | None
    category: str
    title: str
    description: str
    person: PersonIn | None = None
    occurred_at: datetime
    lat: float | None
    lon: float | None
    checks: list[CheckOut]
    fyi: bool
    alertable: bool
    alert_reasons: list[str]
    appeals: int
    appeal_text: str | None
    incident_id: int | None
    corroborated_by: int | None
    media_ids: list[int]
    created_at: datetime


class PostPublic(BaseModel):
    """A published post as anyone may see it: scrubbed text and the displaced, coarse point."""

    model_config = ConfigDict(frozen=True)

    id: int
    incident_id: int | None
    category: str
    title: ScrubbedText
    description: ScrubbedText
    point: CoarsePoint = Field(exclude=True)
    occurred_at: datetime
    provenance: str
    corroborated_by: int | None
    fyi: bool
    media: list[MediaPublic] = Field(
        default_factory=list, description="its photos and clips, blurred and without metadata"
    )


class Reason(BaseModel):
    """A moderator's reason, or an author's appeal."""

    reason: str = Field(min_length=3, max_length=2000)


class PostEdit(BaseModel):
    """An author's change to a pending or published post; unset fields stay as they were."""

    category: str | None = Field(default=None, max_length=64)
    title: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=5000)


class PersonReview(BaseModel):
    """The described person as a moderator sees it: scrubbed like public text."""

    model_config = ConfigDict(frozen=True)

    action: ScrubbedText
    descriptors: list[ScrubbedText]
    suspicious: bool
    could_be: str | None


class PostReview(BaseModel):
    """A post as a moderator sees it: scrubbed text and the public (displaced, coarse) point.

    The exact point and the text as written are not in it: they are read one post at a time
    through the audited reveal (`PostRevealed`), which the author sees in their access log.
    """

    model_config = ConfigDict(frozen=True)

    id: int
    state: str
    reason: str | None
    category: str
    title: ScrubbedText
    description: ScrubbedText
    person: PersonReview | None = None
    occurred_at: datetime
    point: CoarsePoint
    exact_point_kept: bool = Field(description="false once retention expired the exact point")
    checks: list[CheckOut]
    fyi: bool
    alertable: bool
    alert_reasons: list[str]
    appeals: int
    appeal_text: ScrubbedText | None
    incident_id: int | None
    corroborated_by: int | None
    media_ids: list[int]
    created_at: datetime


class RevealIn(BaseModel):
    """Why a moderator needs a post's exact point and text as written; the author reads it."""

    reason: str = Field(min_length=10, max_length=2000)


class PostRevealed(BaseModel):
    """One post's exact point and text as written, read under a stated, logged reason."""

    id: int
    lat: float | None = Field(description="null once retention expired the exact point")
    lon: float | None
    title: str
    description: str
    person: PersonIn | None = None
    appeal_text: str | None
    reason: str = Field(description="the stated reason, as written in the author's access log")
