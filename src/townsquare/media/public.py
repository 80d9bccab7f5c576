"""Public copies of media, served: an approved post's blurred derivatives, by their hash.

Which derivatives are public, and their URLs, is `incidents.attachments`: while a post holding
the copy is approved and its incident public. Originals are never served here.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from townsquare.errors import NotFound
from townsquare.incidents.attachments import EXTENSIONS, public_only, shown
from townsquare.incidents.schemas import MediaPublic
from townsquare.media.models import Media
from townsquare.media.service import store_of
from townsquare.media.storage import Blob
from townsquare.posts.models import Post, PostMedia
from townsquare.settings import Settings

NAME = re.compile(r"^([0-9a-f]{64})\.(jpg|mp4)$")


def of_post(session: Session, post_id: int) -> list[MediaPublic]:
    """The public media of one post (none unless it is approved and its incident public)."""
    query = public_only(select(Post.incident_id, Media)).where(Post.id == post_id)
    rows = session.execute(query.order_by(PostMedia.position, Media.id))
    return [shown(row) for _, row in rows]


def read_public(session: Session, settings: Settings, name: str) -> Blob:
    """The bytes of a public derivative by its file name (`<sha256>.jpg|mp4`), else NotFound."""
    match = NAME.match(name)
    if match is None:
        raise NotFound(f"no public media {name}")
    key, extension = match.groups()
    query = public_only(select(Post.incident_id, Media)).where(Media.public_key == key)
    found = session.execute(query.limit(1)).first()
    if found is None or EXTENSIONS.get(found[1].public_type or "") != extension:
        raise NotFound(f"no public media {name}")
    return Blob(store_of(settings), key, found[1].public_type or "")
