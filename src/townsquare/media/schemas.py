"""What the owner of an upload is told about it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class MediaOut(BaseModel):
    """An upload of the caller's: a photo is ready at once, a clip after the media job."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: Literal["photo", "clip"]
    state: Literal["processing", "ready", "failed"] = Field(
        description="a clip is `processing` until its blurred copy is made in the background"
    )
    error: str | None = Field(description="why it could not be processed, if it failed")
    content_type: str = Field(description="of the original, detected from its bytes")
    width: int = Field(description="of the public derivative")
    height: int = Field(description="of the public derivative")
    duration_s: float | None
    blurred_regions: int = Field(description="faces and plates blurred (per frame, at most)")
    created_at: datetime
