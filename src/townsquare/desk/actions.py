"""The curators' actions on one incident: each one audited, each announced in its transaction.

The outbox event is what carries a change to the live stream, the feed index, the alert
matching (alerts, updates, cancellations over every channel) and CAP Update/Cancel:
`incident.updated` for a public incident that changed, `incident.published` for one that
enters the feed, `incident.removed` for one that leaves it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from townsquare import audit, taxonomy
from townsquare.accounts.schemas import Actor
from townsquare.alerts.matching import CURATED
from townsquare.desk.schemas import DeskAction, DeskItem
from townsquare.desk.service import item, merged_reason, moderator, policy_for
from townsquare.errors import Conflict, InvalidParameter, NotFound
from townsquare.events import topics
from townsquare.incidents import publish
from townsquare.incidents.models import Incident
from townsquare.ingest.models import RawRecord, SourceRecord
from townsquare.posts.models import Post
from townsquare.privacy import gate
from townsquare.privacy.engine import public_text

ALERT_WINDOW = timedelta(minutes=60)
WITHHELD = "withheld by curation:"
ALERTED = CURATED  # what alert matching reads: the curator sends it now
Action = Callable[[Session, Incident, DeskAction, datetime], dict[str, object]]


def _scrubbed(session: Session, incident: Incident, text: str) -> str:
    """Free text sealed the way ingestion stores it: scrubbed under the incident's policy."""
    return public_text(text.strip(), policy_for(session, incident))


def _texts(session: Session, incident: Incident, body: DeskAction) -> dict[str, object]:
    changed: dict[str, object] = {}
    if body.title is not None:
        incident.title = _scrubbed(session, incident, body.title)
        changed["title"] = True
    if body.summary is not None:
        incident.summary = _scrubbed(session, incident, body.summary)
        changed["summary"] = True
    return changed


def _rewrite(
    session: Session, incident: Incident, body: DeskAction, now: datetime
) -> dict[str, object]:
    if body.title is None and body.summary is None:
        raise InvalidParameter("title", "rewrite needs a title or a summary")
    return _texts(session, incident, body)


def _regate(session: Session, incident: Incident, now: datetime) -> None:
    """Run the gate again; a removal or a curator's withholding or alert stands."""
    held = incident.visibility == "removed" or any(
        r.startswith(WITHHELD) for r in incident.visibility_reasons
    )
    if held:
        return
    curated = incident.alertable and any(r.startswith(ALERTED) for r in incident.alertable_reasons)
    decision = gate.decide(
        policy_for(session, incident),
        taxonomy.get(incident.category),
        incident.original_type,
        incident.occurred_at,
        now,
        incident.severity,
    )
    incident.visibility = decision.visibility
    incident.visibility_reasons = list(decision.visibility_reasons)
    if curated and decision.visibility == "public":
        return
    incident.alertable = decision.alertable
    incident.alertable_reasons = list(decision.alertable_reasons)


def _categorize(
    session: Session, incident: Incident, body: DeskAction, now: datetime
) -> dict[str, object]:
    if body.category is None and body.severity is None:
        raise InvalidParameter("category", "categorize needs a category or a severity")
    if body.category is not None:
        if body.category not in taxonomy.categories():
            raise InvalidParameter("category", f"unknown category {body.category!r}")
        incident.category = body.category
    if body.severity is not None:
        incident.severity = body.severity
    _regate(session, incident, now)
    return {"category": incident.category, "severity": incident.severity}


def _merge(
    session: Session, incident: Incident, body: DeskAction, now: datetime
) -> dict[str, object]:
    if body.into is None:
        raise InvalidParameter("into", "link and merge need the primary's id")
    primary = session.get(Incident, body.into)
    if primary is None or primary.visibility == "removed":
        raise NotFound(f"incident {body.into} not found")
    if primary.id == incident.id:
        raise Conflict("an incident cannot be merged into itself")
    incident.visibility = "removed"
    incident.visibility_reasons = [merged_reason(primary.id)]
    incident.alertable = False
    for model in (SourceRecord, RawRecord):
        session.execute(
            update(model).where(model.incident_id == incident.id).values(incident_id=primary.id)
        )
    # The post keeps its own (now removed) incident, so moderating the post never hides the
    # primary; its link to the primary is the corroboration.
    session.execute(
        update(Post).where(Post.incident_id == incident.id).values(corroborated_by=primary.id)
    )
    primary.updated_at = now
    return {"into": primary.id}


def _withhold(
    session: Session, incident: Incident, body: DeskAction, now: datetime
) -> dict[str, object]:
    if incident.visibility == "removed":
        raise Conflict("a removed incident cannot be withheld; publish it first")
    incident.visibility = "withheld"
    incident.visibility_reasons = [f"{WITHHELD} {body.reason}"]
    incident.alertable = False
    incident.alertable_reasons = ["not alerted: withheld from the public"]
    return {}


def _publish(
    session: Session, incident: Incident, body: DeskAction, now: datetime
) -> dict[str, object]:
    incident.visibility = "public"
    incident.visibility_reasons = []
    return {}


def _alert(
    session: Session, incident: Incident, body: DeskAction, now: datetime
) -> dict[str, object]:
    if incident.visibility != "public":
        raise Conflict(f"rule: a {incident.visibility} incident is never alerted; publish it first")
    if now - incident.occurred_at > ALERT_WINDOW:
        age = gate.describe_age(now - incident.occurred_at)
        raise Conflict(
            f"rule: only incidents of the last 60 minutes are alerted (this is {age} old)"
        )
    incident.alertable = True
    incident.alertable_reasons = [f"{ALERTED} {body.reason}"]
    return {}


def _retract(
    session: Session, incident: Incident, body: DeskAction, now: datetime
) -> dict[str, object]:
    incident.visibility = "removed"
    incident.visibility_reasons = [f"retracted by curation: {body.reason}"]
    incident.alertable = False
    return {}


def _correct(
    session: Session, incident: Incident, body: DeskAction, now: datetime
) -> dict[str, object]:
    changed = _texts(session, incident, body)
    if body.severity is not None:
        incident.severity = changed["severity"] = body.severity
    if body.status is not None and body.status != incident.status:
        incident.status = changed["status"] = body.status
        incident.closed_at = now if body.status == "closed" else None
    if not changed:
        raise InvalidParameter("title", "correct needs a title, summary, severity or status")
    return changed


ACTIONS: dict[str, Action] = {
    "rewrite": _rewrite,
    "categorize": _categorize,
    "link": _merge,
    "merge": _merge,
    "withhold": _withhold,
    "publish": _publish,
    "alert": _alert,
    "retract": _retract,
    "correct": _correct,
}


def act(
    session: Session,
    incident_id: int,
    action: str,
    body: DeskAction,
    *,
    actor: Actor,
    now: datetime,
) -> DeskItem:
    """Apply one action, audit it with the curator and reason, announce it; one commit."""
    moderator(actor)
    run = ACTIONS.get(action)
    if run is None:
        raise NotFound(f"no desk action {action}")
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} not found")
    reason = body.reason.strip()
    if len(reason) < 3:
        raise InvalidParameter("reason", "every desk action needs a reason")
    body = body.model_copy(update={"reason": reason})
    was_public = incident.visibility == "public"
    detail = run(session, incident, body, now)
    incident.updated_at = now
    audit.record_row(
        session,
        incident,
        actor_id=actor.account_id,
        action=f"desk.{action}",
        detail={"reason": reason, **detail},
    )
    # A curator's close is announced as an update, so open pages reload and drop it.
    topic = publish.change_topic(incident, was_public=was_public, newly_closed=False)
    publish.announce(session, incident, topic)
    primary = (
        session.get(Incident, body.into) if action in ("link", "merge") and body.into else None
    )
    if primary is not None and primary.visibility == "public":
        publish.announce(session, primary, topics.INCIDENT_UPDATED)
    session.commit()
    return item(session, incident.id, actor=actor, now=now)
