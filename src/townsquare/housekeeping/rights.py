"""Data rights: download everything the platform holds about me, and delete my account.

The export is a ZIP of JSON files and the media bytes, built from the tables themselves
(every column, so a column added later is exported too), secrets excepted: password and
TOTP hashes, token hashes and CSRF values say nothing about the person and would only help
an attacker holding the file.

Deletion erases the person and keeps the fact. Posts leave the feed through the same
`incident.removed` event moderation uses (live streams drop them, alerted subscribers get a
cancellation), their incidents keep only the category and times, and the posts, their exact
points, the media rows, subscriptions, sessions and tokens are deleted. Blobs are erased from
the store after commit, only when no remaining row names the same content address (another
resident may have uploaded the same bytes). The audit log is hash-chained and append-only:
its entries name people by account id only (no e-mail, name or point; see `audit.py`), so
the entries stay as they are and the chain still verifies; once the account row is gone the
id points to no one. `subject_id` (who may read an entry) is outside the hash and is cleared.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from townsquare import audit, taxonomy
from townsquare.accounts import security, throttle
from townsquare.accounts.models import Account, AccountSession, ApiToken, EmailToken
from townsquare.accounts.schemas import Actor
from townsquare.alerts.export import forget_address, subscriptions_of
from townsquare.audit import AuditEntry
from townsquare.db import Base, columns
from townsquare.errors import Forbidden
from townsquare.events import topics
from townsquare.events.outbox import announce
from townsquare.feedback import service as feedback
from townsquare.footage.export import footage_of
from townsquare.incidents.models import Incident
from townsquare.media.models import Media
from townsquare.media.retention import erase_unreferenced
from townsquare.media.service import store_of
from townsquare.posts.models import Post, PostMedia
from townsquare.settings import Settings

SECRETS = frozenset(
    {"password_hash", "totp_secret", "token_hash", "csrf_token", "confirm_token_hash"}
)
RECENT_SIGN_IN = timedelta(minutes=15)
WITHDRAWN = "withdrawn: the author deleted their account"
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/heic": "heic",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
}
README = """Your Townsquare data, as of {now}.

account.json        your account, sessions and API tokens (secrets and hashes left out)
posts.json          your posts as written, with their exact (private) points
media.json          your photos and clips; the files are under media/<id>/
subscriptions.json  watch areas whose alerts go to your e-mail address (each area as the H3
                    cells the server keeps of it: the shape you drew stays in your browser)
feedback.json       the alerts you marked not useful or inaccurate while signed in
footage.json        your cameras (with their private points), clips, the footage requests you
                    received, what you shared (and revoked), and every break-glass access
audit.json          every audited action on your data: who did what, and when
"""


def _row(row: Base) -> dict[str, Any]:
    """Every column of a row, secrets left out."""
    return {key: value for key, value in columns(row).items() if key not in SECRETS}


def _dump(value: object) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str, ensure_ascii=False)


def _media_files(
    archive: zipfile.ZipFile, settings: Settings, media: list[Media]
) -> list[dict[str, Any]]:
    store = store_of(settings)
    listed = []
    for row in media:
        files: dict[str, str | None] = {}
        ext = EXTENSIONS.get(row.content_type, "bin")
        for name, key, suffix in (
            ("original", row.original_key, ext),
            ("public", row.public_key, EXTENSIONS.get(row.public_type or "", "bin")),
        ):
            files[name] = None
            if key is None:
                continue  # expired under the retention policy
            if store.size(key) is None:
                continue
            inside = f"media/{row.id}/{name}.{suffix}"
            with archive.open(inside, "w", force_zip64=True) as out:
                for chunk in store.chunks(key):  # streamed: clips can be large
                    out.write(chunk)
            files[name] = inside
        listed.append(_row(row) | {"files": files})
    return listed


def _audit(entries: list[AuditEntry], account_id: int) -> list[dict[str, Any]]:
    return [
        _row(e) | {"by_you": e.actor_id == account_id, "by_system": e.actor_id is None}
        for e in entries
    ]


def export_data(session: Session, settings: Settings, *, actor: Actor, now: datetime) -> Path:
    """A ZIP of everything about the caller, in a temporary file the caller removes."""
    account = session.get_one(Account, actor.account_id)
    audit.record_row(
        session,
        account,
        actor_id=account.id,
        action="account.export",
        subject_id=account.id,
    )
    session.commit()
    posts = list(session.scalars(select(Post).where(Post.author_id == account.id)))
    links = session.scalars(
        select(PostMedia).where(PostMedia.post_id.in_([p.id for p in posts]))
    ).all()
    media = list(session.scalars(select(Media).where(Media.owner_id == account.id)))
    handle, name = tempfile.mkstemp(prefix="townsquare-export-", suffix=".zip")
    os.close(handle)
    path = Path(name)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README.format(now=now.isoformat()))
        account_data = {
            "account": _row(account),
            "sessions": [
                _row(s)
                for s in session.scalars(
                    select(AccountSession).where(AccountSession.account_id == account.id)
                )
            ],
            "api_tokens": [
                _row(t)
                for t in session.scalars(select(ApiToken).where(ApiToken.account_id == account.id))
            ],
        }
        archive.writestr("account.json", _dump(account_data))
        archive.writestr(
            "posts.json",
            _dump(
                [
                    _row(p) | {"media_ids": [m.media_id for m in links if m.post_id == p.id]}
                    for p in posts
                ]
            ),
        )
        archive.writestr("media.json", _dump(_media_files(archive, settings, media)))
        subscriptions = subscriptions_of(session, account.email, _row)
        archive.writestr("subscriptions.json", _dump(subscriptions))
        secret = security.server_secret(settings)
        archive.writestr("feedback.json", _dump(feedback.votes_of(session, secret, account.id)))
        archive.writestr("footage.json", _dump(footage_of(session, account.id)))
        entries = audit.entries_about(session, account.id)
        archive.writestr("audit.json", _dump(_audit(entries, account.id)))
    return path


def _confirm(
    session: Session,
    settings: Settings,
    account: Account,
    actor: Actor,
    password: str | None,
    client: str,
    now: datetime,
) -> None:
    """The password again, or a session signed in within the last 15 minutes."""
    if password is not None:
        throttle.check(session, settings, account.email, client, now)
        if not security.check_password(account.password_hash, password):
            throttle.failed(session, settings, account.email, client, now)
            raise Forbidden("wrong password")
        return
    if actor.session_id is None:
        raise Forbidden("re-enter your password to delete the account")
    row = session.get_one(AccountSession, actor.session_id)
    if now - row.created_at > RECENT_SIGN_IN:
        raise Forbidden("re-enter your password, or sign in again, to delete the account")


def _withdraw(session: Session, post: Post, now: datetime) -> None:
    """Take the post's incident out of the feed and keep only its category and times."""
    if post.incident_id is None:
        return
    incident = session.get_one(Incident, post.incident_id)
    was_public = incident.visibility == "public"
    incident.visibility = "removed"
    incident.visibility_reasons = [WITHDRAWN]
    incident.title = taxonomy.get(incident.category).label
    incident.summary = ""
    incident.updated_at = now
    if was_public:
        announce(session, topics.INCIDENT_REMOVED, {"id": incident.id})


def delete_account(
    session: Session,
    settings: Settings,
    *,
    actor: Actor,
    password: str | None,
    client: str,
    now: datetime,
) -> None:
    """Erase the caller's account and everything of theirs; the audit keeps the fact."""
    account = session.get_one(Account, actor.account_id)
    _confirm(session, settings, account, actor, password, client, now)
    posts = list(session.scalars(select(Post).where(Post.author_id == account.id)))
    for post in posts:
        _withdraw(session, post, now)
    media = list(session.scalars(select(Media).where(Media.owner_id == account.id)))
    keys = {k for m in media for k in (m.original_key, m.public_key) if k}
    post_ids, media_ids = [p.id for p in posts], [m.id for m in media]
    session.execute(
        delete(PostMedia).where(
            or_(PostMedia.post_id.in_(post_ids), PostMedia.media_id.in_(media_ids))
        )
    )
    session.execute(delete(Post).where(Post.id.in_(post_ids)))
    session.execute(delete(Media).where(Media.id.in_(media_ids)))
    subscriptions = forget_address(session, account.email)
    marks = feedback.forget(session, security.server_secret(settings), account.id)
    for table in (ApiToken, EmailToken, AccountSession):
        session.execute(delete(table).where(table.account_id == account.id))
    session.execute(
        update(AuditEntry).where(AuditEntry.subject_id == account.id).values(subject_id=None)
    )
    audit.record(
        session,
        actor_id=account.id,
        action="account.delete",
        object_type="account",
        object_id=account.id,
        detail={
            "posts": len(posts),
            "media": len(media),
            "subscriptions": subscriptions,
            "feedback": marks,
        },
    )
    session.execute(delete(Account).where(Account.id == account.id))
    session.commit()
    erase_unreferenced(session, store_of(settings), keys)
