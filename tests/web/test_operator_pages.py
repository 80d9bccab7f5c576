"""The operator's pages: operators only, CSRF-checked forms, every change audited, refusals in
words; agencies verified with an uploaded or drawn jurisdiction, roles granted by e-mail, the
sources' health with their quarantined records, the audit chain's verdict."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.support import factories
from tests.support.footage import JURISDICTION, make_agency
from tests.support.residents import Mailbox, Person, privileged, resident
from townsquare.accounts.models import Account
from townsquare.agencies.models import Agency
from townsquare.audit import AuditEntry
from townsquare.db import utcnow
from townsquare.ingest.models import RawRecord, Source

PAGES = (
    "/operator",
    "/operator/agencies",
    "/operator/roles",
    "/operator/sources",
    "/operator/audit",
)


@pytest.fixture
def operator(
    desk_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> Person:
    """An operator signed in with two-factor."""
    return privileged(desk_client, mailbox[0], factory, "op@example.org", "operator", utcnow())


def words(html: str) -> str:
    """The text of a page, tags and runs of spaces gone."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def actions(factory: sessionmaker[Session]) -> list[str]:
    """The audited actions, oldest first."""
    with factory() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def pending_agency(factory: sessionmaker[Session], slug: str = "metro-fire") -> None:
    """An agency a feed registered: no jurisdiction, not verified."""
    with factory() as session:
        factories.agency(session, slug).name = "Metro Fire"
        session.commit()


def test_operators_only(
    desk_client: TestClient, mailbox: tuple[Mailbox, int], operator: Person
) -> None:
    for path in PAGES:
        anonymous = desk_client.get(path, follow_redirects=False)
        assert anonymous.status_code == 303
        assert anonymous.headers["location"] == f"/sign-in?next={path}"
    ada = resident(desk_client, mailbox[0], "ada@example.org")
    for path in PAGES:
        refused = ada.client.get(path)
        assert refused.status_code == 403
        assert "Operators only" in refused.text
        assert 'href="/operator"' not in refused.text  # no nav link for a resident
    granted = ada.client.post(
        "/operator/roles/grant",
        data={"csrf_token": ada.csrf, "email": "ada@example.org", "role": "operator"},
    )
    assert granted.status_code == 403
    for path in PAGES:
        shown = operator.client.get(path)
        assert shown.status_code == 200, path
        assert shown.headers["cache-control"] == "no-store"
        assert '<a href="/operator"' in shown.text  # the nav names it for operators


def test_verify_an_agency_with_an_uploaded_jurisdiction(
    operator: Person, factory: sessionmaker[Session]
) -> None:
    pending_agency(factory)
    listed = words(operator.client.get("/operator/agencies").text)
    assert "Metro Fire metro-fire · America/Los_Angeles waiting no jurisdiction yet" in listed
    url = "/operator/agencies/metro-fire/verify"
    area = json.dumps(
        {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": JURISDICTION}]}
    )
    upload = {"jurisdiction_file": ("metro.geojson", area.encode(), "application/geo+json")}
    forged = operator.client.post(url, files=upload, data={"csrf_token": "forged"})
    assert forged.status_code == 403
    done = operator.client.post(
        url, files=upload, data={"csrf_token": operator.csrf}, follow_redirects=False
    )
    assert done.status_code == 303, done.text
    page = operator.client.get(done.headers["location"])
    assert "Verified Metro Fire (metro-fire)." in words(page.text)
    row = re.search(r'<tr id="agency-metro-fire".*?</tr>', page.text, re.S)
    assert row
    assert "verified" in words(row.group(0))
    with factory() as session:
        agency = session.scalars(select(Agency).where(Agency.slug == "metro-fire")).one()
        assert agency.verified_at is not None
        assert json.loads(agency.jurisdiction or "")["type"] == "MultiPolygon"
    assert actions(factory)[-2:] == ["agency.create", "agency.verify"]


def test_verify_with_a_drawn_polygon_and_refusals_in_words(
    operator: Person, factory: sessionmaker[Session]
) -> None:
    pending_agency(factory)
    url = "/operator/agencies/metro-fire/verify"
    before = actions(factory)
    nothing = operator.client.post(url, data={"csrf_token": operator.csrf, "jurisdiction": ""})
    assert nothing.status_code == 422
    assert "upload a GeoJSON file or draw the area on the map first" in nothing.text
    broken = operator.client.post(url, data={"csrf_token": operator.csrf, "jurisdiction": "{oops"})
    assert broken.status_code == 422
    assert "the GeoJSON is not JSON" in broken.text
    open_ring = {
        "type": "Polygon",
        "coordinates": [[[-122.3, 47.6], [-122.2, 47.6], [-122.2, 47.7]]],
    }
    unusable = operator.client.post(
        url, data={"csrf_token": operator.csrf, "jurisdiction": json.dumps(open_ring)}
    )
    assert unusable.status_code == 422
    assert "the area is not usable" in unusable.text
    assert 'role="alert"' in unusable.text
    assert actions(factory) == before  # nothing written
    drawn = operator.client.post(
        url,
        data={"csrf_token": operator.csrf, "jurisdiction": json.dumps(JURISDICTION)},
        follow_redirects=False,
    )
    assert drawn.status_code == 303
    again = operator.client.get("/operator/agencies/metro-fire")
    assert "verified" in words(again.text)
    assert "Verify Metro Fire" not in again.text  # no form once verified
    registered = make_agency(factory, "river-police", verified=False)
    assert registered
    as_is = operator.client.post(
        "/operator/agencies/river-police/verify",
        data={"csrf_token": operator.csrf},
        follow_redirects=False,
    )
    assert as_is.status_code == 303  # its registered area, verified as it is
    missing = operator.client.get("/operator/agencies/nobody")
    assert missing.status_code == 404


def test_grant_and_revoke_roles_by_email_audited(
    desk_client: TestClient,
    mailbox: tuple[Mailbox, int],
    operator: Person,
    factory: sessionmaker[Session],
) -> None:
    resident(desk_client, mailbox[0], "bo@example.org")
    form = {"csrf_token": operator.csrf, "email": "Bo@Example.org", "role": "moderator"}
    done = operator.client.post("/operator/roles/grant", data=form, follow_redirects=False)
    assert done.status_code == 303
    page = operator.client.get(done.headers["location"])
    shown = words(page.text)
    assert "Granted the moderator (curator) role to bo@example.org" in shown
    staff = re.search(r'<li class="card" data-staff="bo@example.org">.*?</ul>', page.text, re.S)
    assert staff
    assert 'data-role="moderator"' in staff.group(0)
    with factory() as session:
        account = session.scalars(select(Account).where(Account.email == "bo@example.org")).one()
        assert "moderator" in account.roles
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).all()
        granted = next(e for e in entries if e.action == "account.grant_role")
        assert (granted.actor_id, granted.detail) == (operator.account_id, {"role": "moderator"})
        # the page showed bo's address to the operator: bo reads that in their access log
        read = entries[0]
        assert (read.action, read.actor_id, read.subject_id) == (
            "account.email_read",
            operator.account_id,
            account.id,
        )
    unknown = operator.client.post(
        "/operator/roles/grant", data=form | {"email": "nobody@example.org"}
    )
    assert unknown.status_code == 404
    assert "No account nobody@example.org." in unknown.text
    no_agency = operator.client.post(
        "/operator/roles/grant", data=form | {"role": "agency_officer"}
    )
    assert no_agency.status_code == 422
    assert "needs the agency" in no_agency.text
    revoked = operator.client.post(
        "/operator/roles/revoke",
        data={"csrf_token": operator.csrf, "email": "bo@example.org", "role": "moderator"},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    assert "Revoked the moderator" in words(operator.client.get(revoked.headers["location"]).text)
    changes = [a for a in actions(factory) if a != "account.email_read"]
    assert changes[-2:] == ["account.grant_role", "account.revoke_role"]


def test_sources_health_and_quarantine(operator: Person, factory: sessionmaker[Session]) -> None:
    now = utcnow()
    with factory() as session:
        agency = factories.agency(session, "city-fire")
        source = Source(
            slug="city-cad",
            name="City CAD",
            kind="csv",
            agency_id=agency.id,
            config={"poll_interval_s": 60},
            last_success_at=now,
            last_error_at=now,
            last_error="HTTP 503 from the feed",
            failures=2,
        )
        session.add(source)
        session.flush()
        for n, outcome in enumerate(("normalized", "quarantined", "quarantined")):
            session.add(
                RawRecord(
                    source_id=source.id,
                    position=f"line {n + 2}",
                    external_id=f"C-{n}",
                    content_hash=f"{n:064d}",
                    payload="SECRET CALLER NAME",
                    received_at=now,
                    outcome=outcome,
                    error_field="occurred_at" if outcome == "quarantined" else None,
                    error="not a time: '31/02'" if outcome == "quarantined" else None,
                )
            )
        session.commit()
    page = operator.client.get("/operator/sources")
    found = re.search(r'<li class="card" id="source-city-cad".*?</li>', page.text, re.S)
    assert found, "no card for the source"
    card = words(found.group(0))
    assert "failing" in card
    assert "HTTP 503 from the feed (2 failed fetches in a row)" in card
    assert "1 normalized, 0 withheld, 2 quarantined" in card
    assert 'href="/operator/sources/city-cad/quarantine"' in page.text
    quarantine = operator.client.get("/operator/sources/city-cad/quarantine")
    assert quarantine.status_code == 200
    assert words(quarantine.text).count("occurred_at : not a time: '31/02'") == 2
    assert "line 3" in quarantine.text
    assert "SECRET CALLER NAME" not in quarantine.text  # the payload may name people
    assert operator.client.get("/operator/sources/nothing/quarantine").status_code == 404


def test_audit_verify_in_words(operator: Person, factory: sessionmaker[Session]) -> None:
    with factory() as session:
        count = len(session.scalars(select(AuditEntry.id)).all())
    intact = words(operator.client.get("/operator/audit").text)
    assert "The audit log is intact." in intact
    assert f"All {count} entries match their hashes" in intact
    assert "Checked" in intact
    with factory() as session:
        first = session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)).first()
        session.execute(update(AuditEntry).where(AuditEntry.id == first).values(action="forged"))
        session.commit()
    broken = words(operator.client.get("/operator/audit").text)
    assert f"The audit log is broken at entry {first}." in broken
