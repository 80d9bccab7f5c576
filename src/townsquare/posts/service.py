"""Post actions of residents (submit, appeal) and the publication of a post as an incident."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from townsquare import audit, geo, taxonomy
from townsquare.accounts.models import Account
from townsquare.accounts.schemas import Actor
from townsquare.errors import Conflict, Forbidden, InvalidParameter, NotFound, TooManyRequests
from townsquare.events import topics
from townsquare.events.outbox import announce
from townsquare.incidents import publish as writer
from townsquare.incidents.models import Incident
from townsquare.incidents.nearby import nearby
from townsquare.media import public as public_media
from townsquare.media.models import Media
from townsquare.posts import guidelines
from townsquare.posts.models import Post, PostMedia
from townsquare.posts.schemas import CheckOut, PersonIn, PostIn, PostOwn, PostPublic
from townsquare.privacy import points
from townsquare.privacy.engine import public_text
from townsquare.privacy.policy import default_policy
from townsquare.privacy.public import seal_point, seal_text
from townsquare.settings import Settings

CORROBORATE_M = 300.0
CORROBORATE_WINDOW = timedelta(minutes=30)
COMPATIBLE = {"crime": ("crime", "police"), "police": ("police", "crime")}


class GuidelineRefusal(InvalidParameter):
    """A draft that breaks a guideline; carries every reason."""

    def __init__(self, checks: list[guidelines.Check]) -> None:
        super().__init__(checks[0].code, "; ".join(c.reason for c in checks))
        self.checks = checks


def _home_key(settings: Settings, secret: bytes, account: Account) -> bytes:
    # Posts of one home share a displacement; without a home, the account is the home.
    if account.home_lat is not None and account.home_lon is not None:
        home = f"home:{geo.cell_int(account.home_lat, account.home_lon, 9)}"
    else:
        home = f"account:{account.id}"
    return points.home_key(secret, home)


def submit_post(
    session: Session,
    settings: Settings,
    secret: bytes,
    draft: PostIn,
    *,
    actor: Actor,
    now: datetime,
) -> PostOwn:
    """Check a draft against the guidelines and queue it for moderation."""
    if not actor.email_verified:
        raise Forbidden("confirm your e-mail address before posting")
    hour_ago = now - timedelta(hours=1)
    recent = session.scalar(
        select(func.count()).where(Post.author_id == actor.account_id, Post.created_at > hour_ago)
    )
    if int(recent or 0) >= settings.posts_per_hour:
        raise TooManyRequests(f"at most {settings.posts_per_hour} posts an hour")
    person = None
    if draft.person is not None:
        p = draft.person
        person = guidelines.Person(p.action, tuple(p.descriptors), p.suspicious, p.could_be)
    outcome = guidelines.check(
        draft.category, draft.title, draft.description, draft.occurred_at, person, now=now
    )
    if outcome.refusals:
        raise GuidelineRefusal(outcome.refusals)
    account = session.get_one(Account, actor.account_id)
    policy = default_policy().point
    public = points.post_point(
        geo.Point(draft.lat, draft.lon),
        _home_key(settings, secret, account),
        home_median_m=policy.post_home_median_m,
        post_median_m=policy.post_median_m,
    )
    media = _own_media(session, draft.media_ids, actor)
    post = Post(
        author_id=actor.account_id,
        category=draft.category,
        title=draft.title.strip(),
        description=draft.description.strip(),
        person=draft.person.model_dump() if draft.person else None,
        occurred_at=draft.occurred_at,
        lat=draft.lat,
        lon=draft.lon,
        public_lat=public.lat,
        public_lon=public.lon,
        state="pending",
        checks=[{"code": c.code, "reason": c.reason} for c in outcome.flags],
        fyi=outcome.fyi,
        alertable=outcome.alertable,
        alert_reasons=outcome.alert_reasons,
        appeals=0,
        created_at=now,
        updated_at=now,
    )
    session.add(post)
    session.flush()
    for position, media_id in enumerate(media):
        session.add(PostMedia(post_id=post.id, media_id=media_id, position=position))
    audit.record_row(
        session,
        post,
        actor_id=actor.account_id,
        action="post.submit",
        subject_id=actor.account_id,
    )
    announce(session, topics.POST_SUBMITTED, {"id": post.id})
    session.commit()
    return own_view(session, post)


def _own_media(session: Session, ids: list[int], actor: Actor) -> list[int]:
    for media_id in ids:
        row = session.get(Media, media_id)
        if row is None or row.owner_id != actor.account_id:
            raise NotFound(f"media {media_id} not found")
    return list(dict.fromkeys(ids))


def own_view(session: Session, post: Post) -> PostOwn:
    """The author's view of a post: everything, the exact point too."""
    media = session.scalars(
        select(PostMedia.media_id).where(PostMedia.post_id == post.id).order_by(PostMedia.position)
    ).all()
    return PostOwn(
        id=post.id,
        state=post.state,
        reason=post.reason,
        category=post.category,
        title=post.title,
        description=post.description,
        person=PersonIn.model_validate(post.person) if post.person else None,
        occurred_at=post.occurred_at,
        lat=post.lat,
        lon=post.lon,
        checks=[CheckOut(**c) for c in post.checks],
        fyi=post.fyi,
        alertable=post.alertable,
        alert_reasons=list(post.alert_reasons),
        appeals=post.appeals,
        appeal_text=post.appeal_text,
        incident_id=post.incident_id,
        corroborated_by=post.corroborated_by,
        media_ids=list(media),
        created_at=post.created_at,
    )


def authored(session: Session, post_id: int, actor: Actor) -> Post:
    """The caller's own post; anyone else's (a moderator's too) is as if absent.

    Moderators read posts through the moderation queue, which never carries the exact point.
    """
    post = session.get(Post, post_id)
    if post is None or post.author_id != actor.account_id:
        raise NotFound(f"post {post_id} not found")
    return post


def get_own(session: Session, post_id: int, *, actor: Actor) -> PostOwn:
    """A post its author may read in full."""
    return own_view(session, authored(session, post_id, actor))


def list_mine(session: Session, *, actor: Actor) -> list[PostOwn]:
    """The caller's posts, newest first."""
    rows = session.scalars(
        select(Post).where(Post.author_id == actor.account_id).order_by(Post.id.desc())
    )
    return [own_view(session, p) for p in rows]


def appeal_post(
    session: Session, post_id: int, text: str, *, actor: Actor, now: datetime
) -> PostOwn:
    """Ask once for a rejected or removed post to be reviewed again; it returns to the queue."""
    post = authored(session, post_id, actor)
    if post.state not in ("rejected", "removed"):
        raise Conflict("only a rejected or removed post can be appealed")
    if post.appeals >= 1:
        raise Conflict("this post was appealed already; an appeal is allowed once")
    post.appeals += 1
    post.appeal_text = text
    post.state = "pending"
    post.updated_at = now
    post.checks = [*post.checks, {"code": "appeal", "reason": f"Appealed: {text}"}]
    audit.record_row(
        session,
        post,
        actor_id=actor.account_id,
        action="post.appeal",
        subject_id=actor.account_id,
    )
    session.commit()
    return own_view(session, post)


def _compatible(a: str, b: str) -> bool:
    group_a, group_b = a.split(".")[0], b.split(".")[0]
    return group_b in COMPATIBLE.get(group_a, (group_a,))


def corroborating_incident(session: Session, post: Post) -> int | None:
    """A dispatch incident within 300 m and 30 minutes of the post, of a compatible category."""
    if post.lat is None or post.lon is None:
        return None
    found = nearby(
        session,
        geo.Point(post.lat, post.lon),
        post.occurred_at,
        origins=("dispatch",),
        radius_m=CORROBORATE_M,
        window=CORROBORATE_WINDOW,
    )
    for near in sorted(found, key=lambda n: n.incident.id):
        if _compatible(post.category, near.incident.category):
            return near.incident.id
    return None


def publish(session: Session, post: Post, now: datetime) -> Incident:
    """Make (or show again) the post's incident: scrubbed text, displaced coarse point."""
    incident = session.get(Incident, post.incident_id) if post.incident_id else None
    if incident is None:
        incident = _first_publication(session, post, now)
        post.incident_id = incident.id
    else:
        _show_again(session, incident, post, now)
    post.published_at = post.published_at or now
    post.corroborated_by = corroborating_incident(session, post)
    return incident


def _first_publication(session: Session, post: Post, now: datetime) -> Incident:
    policy = default_policy()
    category = taxonomy.get(post.category)
    alertable = post.alertable and category.severity >= policy.alerts.min_severity
    reasons = list(post.alert_reasons) or (
        ["resident post"] if alertable else ["not alerted: below the alert severity"]
    )
    form = writer.PublicForm(
        category=post.category,
        original_type=category.label,
        title=public_text(post.title, policy),
        summary=public_text(post.description, policy),
        address_block=None,
        point=geo.Point(post.public_lat, post.public_lon),
        occurred_at=post.occurred_at,
    )
    identity = writer.Identity("resident", f"post-{post.id}")
    standing = writer.Standing("public", (), alertable, tuple(reasons))
    return writer.create(session, identity, form, standing, now=now)


def _show_again(session: Session, incident: Incident, post: Post, now: datetime) -> None:
    """The author may have edited the post since: the incident shows what was approved.

    Its call type, severity and alerting stay as first published (an edit is not alerted).
    """
    policy = default_policy()
    form = replace(
        writer.form_of(incident),
        category=post.category,
        title=public_text(post.title, policy),
        summary=public_text(post.description, policy),
    )
    standing = replace(writer.standing_of(incident), visibility="public", visibility_reasons=())
    writer.revise(session, incident, form, standing, now=now)


def hide(session: Session, post: Post, why: str, now: datetime) -> None:
    """Take the post's incident out of the feed on every channel (as the desk's retract does).

    `why` is the incident's visibility reason, e.g. "removed by moderation: ...".
    """
    if post.incident_id is None:
        return
    writer.remove(session, session.get_one(Incident, post.incident_id), why, now=now)


def get_public(session: Session, post_id: int) -> PostPublic:
    """A published post as anyone may see it; other states are as if absent.

    A closed post is shown only if its incident is public: one closed while it was pending
    (never approved, or edited since) is absent too. A post merged into a dispatch incident is
    shown while that incident is public (its own incident was taken out of the feed).
    """
    post = session.get(Post, post_id)
    homes = [post.incident_id, post.corroborated_by] if post else []
    incidents = [session.get(Incident, i) for i in homes if i is not None]
    shown = any(i is not None and i.visibility == "public" for i in incidents)
    if post is None or post.state not in ("published", "closed") or not shown:
        raise NotFound(f"post {post_id} not found")
    policy = default_policy()
    corroborated = post.corroborated_by is not None
    return PostPublic(
        id=post.id,
        incident_id=post.incident_id,
        category=post.category,
        title=seal_text(public_text(post.title, policy)),
        description=seal_text(public_text(post.description, policy)),
        point=seal_point(post.public_lat, post.public_lon),
        occurred_at=post.occurred_at,
        provenance="resident, corroborated by dispatch" if corroborated else "resident, unverified",
        corroborated_by=post.corroborated_by,
        fyi=post.fyi,
        media=public_media.of_post(session, post.id),
    )
