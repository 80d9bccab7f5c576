"""Uploads spooled to a private work folder under the data dir, in bounded chunks."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from townsquare.errors import InvalidParameter, PayloadTooLarge
from townsquare.media.images import sniff
from townsquare.settings import Settings

CHUNK = 1 << 20
ACCEPTED = "send a JPEG, PNG or HEIC photo, or an MP4 or MOV clip"


@dataclass(frozen=True, slots=True)
class Received:
    """An upload on disk: its type (from its bytes), its size and a scratch folder beside it."""

    path: Path
    content_type: str
    size: int
    work: Path

    @property
    def is_clip(self) -> bool:
        """Whether the upload is a video clip."""
        return self.content_type.startswith("video/")


def work_root(settings: Settings) -> Path:
    """Scratch space on the blob store's filesystem, so finished files move in without copying."""
    return Path(settings.data_dir) / "media" / "incoming"


def limit_of(settings: Settings, content_type: str) -> tuple[int, str]:
    """The byte limit of a type and how to say it."""
    if content_type.startswith("video/"):
        return settings.media_max_video_bytes, "clips"
    return settings.media_max_image_bytes, "photos"


@contextmanager
def receive(source: BinaryIO, settings: Settings) -> Iterator[Received]:
    """Copy an upload to a scratch folder, typed by its first bytes; the folder goes on exit."""
    head = source.read(CHUNK)
    content_type = sniff(head[:16])
    if content_type is None:
        raise InvalidParameter("file", ACCEPTED)
    limit, noun = limit_of(settings, content_type)
    root = work_root(settings)
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=root))
    try:
        path = work / "original"
        size = 0
        with path.open("wb") as out:
            chunk = head
            while chunk:
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"{noun} up to {limit} bytes")
                out.write(chunk)
                chunk = source.read(CHUNK)
        yield Received(path, content_type, size, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
