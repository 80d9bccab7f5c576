"""The one writer of incidents: the same content gives the same incident whatever its origin.

Every origin (dispatch, resident post, agency update, footage request) hands `publish` an
identity, a public form and a standing; what the feed shows, the H3 cells, the content hash
and the announcement depend on the content alone. The structure checks read the source: only
`incidents.publish` constructs an `Incident`, and no module announces a topic spelled out by
hand instead of a constant of `events.topics`.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.support import factories
from townsquare import geo, taxonomy
from townsquare.db import transaction
from townsquare.events import topics
from townsquare.events.outbox import OutboxEvent
from townsquare.incidents import publish
from townsquare.incidents.models import Incident

SRC = Path(__file__).parents[2] / "src" / "townsquare"
WHEN = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
FORM = publish.PublicForm(
    category="safety.hazard",
    original_type="Hazard",
    title="Gas leak on Pine St",
    summary="Avoid the area.",
    address_block="1200 block of Pine St",
    point=geo.coarsen(geo.Point(47.61234, -122.33321)),
    occurred_at=WHEN - timedelta(minutes=5),
)
STANDING = publish.Standing("public", (), True, ("alertable: test",))


def _identities(agency_id: int) -> dict[str, publish.Identity]:
    return {
        "dispatch": publish.Identity("dispatch", "call-1", agency_id=agency_id),
        "resident post": publish.Identity("resident", "post-1"),
        "agency update": publish.Identity("agency", "update-1", agency_id=agency_id),
        "footage request": publish.Identity("agency", "footage-request-1", agency_id=agency_id),
    }


def _seen(incident: Incident) -> tuple[Any, ...]:
    """Everything a reader could tell about an incident, apart from who it belongs to."""
    return (
        publish.form_of(incident),
        publish.standing_of(incident),
        (incident.h3_r5, incident.h3_r7, incident.h3_r9),
        incident.status,
        incident.published_at,
        incident.updated_at,
        incident.content_hash,
    )


def _events(session: Session) -> list[tuple[str, dict[str, Any]]]:
    rows = session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))
    return [(row.topic, row.payload) for row in rows]


def test_every_origin_gets_the_same_incident_and_announcement_for_the_same_content(
    factory: sessionmaker[Session],
) -> None:
    with transaction(factory) as session:
        agency_id = factories.agency(session).id
        made = {
            name: publish.create(session, identity, FORM, STANDING, now=WHEN)
            for name, identity in _identities(agency_id).items()
        }
        seen = {name: _seen(incident) for name, incident in made.items()}
        events = _events(session)
    assert len(set(seen.values())) == 1, seen
    form, standing, cells, status, published_at, *_ = seen["dispatch"]
    assert form == replace(FORM, severity=taxonomy.get(FORM.category).severity)
    assert standing == STANDING
    assert cells == tuple(geo.cells_of(FORM.point).values())
    assert (status, published_at) == ("active", WHEN)
    assert events == [(topics.INCIDENT_PUBLISHED, {"id": i.id}) for i in made.values()]


def test_every_origin_announces_a_change_the_same_way(factory: sessionmaker[Session]) -> None:
    later = WHEN + timedelta(minutes=10)
    moved = replace(FORM, title="Gas leak, street closed")
    with transaction(factory) as session:
        agency_id = factories.agency(session).id
        made = [
            publish.create(session, identity, FORM, STANDING, now=WHEN)
            for identity in _identities(agency_id).values()
        ]
        session.execute(OutboxEvent.__table__.delete())
        for incident in made:
            publish.revise(session, incident, moved, STANDING, now=later)
            publish.close(session, incident, at=later, now=later)
            publish.close(session, incident, at=later, now=later)  # closed already: silent
            publish.remove(session, incident, "retracted: test", now=later)
            publish.remove(session, incident, "retracted: test", now=later)  # gone already
        session.flush()
        events = _events(session)
        assert len({_seen(incident) for incident in made}) == 1
    expected = [topics.INCIDENT_UPDATED, topics.INCIDENT_CLOSED, topics.INCIDENT_REMOVED]
    assert events == [(t, {"id": i.id}) for i in made for t in expected]


def test_a_withheld_incident_is_stored_but_never_announced(factory: sessionmaker[Session]) -> None:
    withheld = publish.Standing("withheld", ("withheld: test",), False, ("not alerted: test",))
    with transaction(factory) as session:
        incident = publish.create(
            session, publish.Identity("dispatch", "call-2"), FORM, withheld, now=WHEN
        )
        publish.close(session, incident, at=WHEN, now=WHEN)
        assert incident.visibility_reasons == ["withheld: test"]
        assert _events(session) == []


@pytest.mark.parametrize(
    ("was_public", "visibility", "newly_closed", "topic"),
    [
        (False, "public", False, topics.INCIDENT_PUBLISHED),
        (False, "public", True, topics.INCIDENT_PUBLISHED),
        (True, "public", False, topics.INCIDENT_UPDATED),
        (True, "public", True, topics.INCIDENT_CLOSED),
        (True, "withheld", False, topics.INCIDENT_REMOVED),
        (True, "removed", True, topics.INCIDENT_REMOVED),
        (False, "withheld", False, None),
    ],
)
def test_the_topic_says_what_the_change_means_to_a_reader(
    was_public: bool, visibility: str, newly_closed: bool, topic: str | None
) -> None:
    incident = Incident(visibility=visibility)
    assert publish.change_topic(incident, was_public=was_public, newly_closed=newly_closed) == topic


def test_the_dispatch_hash_is_what_ingestion_stored_before_the_writer() -> None:
    # A Houston incident of the bundled snapshots (two units, cleared), hashed by the code
    # before incidents.publish existed: stored hashes keep matching, so re-ingesting an
    # unchanged record announces nothing.
    form = publish.PublicForm(
        category="medical",
        original_type="EMS EVENT",
        title="EMS EVENT",
        summary="Houston Emergency Center dispatched 2 units.",
        address_block="Beulah St",
        point=geo.Point(29.731533, -95.355288),
        occurred_at=datetime(2026, 8, 21, 0, 7, tzinfo=UTC),
        closed_at=datetime(2026, 8, 21, 4, 22, 12, tzinfo=UTC),
        unit_count=2,
        text_from_fields=True,
    )
    assert publish.content_hash(form) == (
        "8839dcc7eb73421d83b8ecf97d1562eace5c7ac7a85696cdb0ef327c32150148"
    )
    unmapped = replace(form, unmapped=("ZULU", "ALPHA", "ZULU"))
    parts = "medical|EMS EVENT|Beulah St|29.731533,-95.355288|2026-08-21T00:07:00+00:00"
    parts += "|2026-08-21T04:22:12+00:00|2|ALPHA,ZULU,ZULU"
    assert publish.content_hash(unmapped) == hashlib.sha256(parts.encode()).hexdigest()


def test_the_hash_covers_written_text_but_not_text_made_from_the_fields() -> None:
    retitled = replace(FORM, title="Gas leak on Pine St, closed")
    assert publish.content_hash(retitled) != publish.content_hash(FORM)
    derived = replace(FORM, text_from_fields=True)
    derived_retitled = replace(retitled, text_from_fields=True)
    assert publish.content_hash(derived_retitled) == publish.content_hash(derived)


# --- structure ---------------------------------------------------------------------------


def _modules() -> list[tuple[str, ast.Module]]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        name = ".".join(("townsquare", *path.relative_to(SRC).with_suffix("").parts))
        found.append((name.removesuffix(".__init__"), ast.parse(path.read_text(), str(path))))
    return found


def _called(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def test_only_the_writer_constructs_an_incident() -> None:
    builders = sorted(
        {
            name
            for name, tree in _modules()
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and _called(node) == "Incident"
        }
    )
    assert builders == ["townsquare.incidents.publish"]


def test_no_module_announces_a_topic_spelled_out_by_hand() -> None:
    by_hand = sorted(
        (name, node.lineno)
        for name, tree in _modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and _called(node) in ("announce", "queue")
        and any(isinstance(arg, ast.Constant) and isinstance(arg.value, str) for arg in node.args)
    )
    assert by_hand == []
