"""Withheld incidents are kept for their agency's own view: its officers see them, nobody else."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.support import factories
from tests.support.residents import Mailbox, privileged, resident
from townsquare.accounts import grants
from townsquare.db import utcnow
from townsquare.errors import InvalidParameter


def _two_agencies_with_incidents(factory: sessionmaker[Session]) -> dict[str, int]:
    with factory() as session:
        fire = factories.agency(session, "seattle-fire")
        police = factories.agency(session, "seattle-police")
        when = utcnow()
        ids = {
            "fire_public": factories.incident(
                session, lat=47.61, lon=-122.33, occurred_at=when, agency_id=fire.id
            ).id,
            "fire_withheld": factories.incident(
                session,
                lat=47.62,
                lon=-122.34,
                occurred_at=when,
                category="medical",
                visibility="withheld",
                agency_id=fire.id,
            ).id,
            "police_withheld": factories.incident(
                session,
                lat=47.63,
                lon=-122.35,
                occurred_at=when,
                category="medical",
                visibility="withheld",
                agency_id=police.id,
            ).id,
        }
        session.commit()
    return ids


def test_an_officer_sees_the_withheld_incidents_of_their_own_agency_only(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    ids = _two_agencies_with_incidents(factory)
    officer = privileged(
        app_client,
        mailbox[0],
        factory,
        "cap@fire.example.org",
        "agency_officer",
        utcnow(),
        agency="seattle-fire",
    )
    seen = officer.client.get("/api/v1/agency/incidents").json()
    assert {item["incident"]["id"] for item in seen} == {ids["fire_public"], ids["fire_withheld"]}
    withheld = officer.client.get("/api/v1/agency/incidents?visibility=withheld").json()
    assert [item["incident"]["id"] for item in withheld] == [ids["fire_withheld"]]
    assert withheld[0]["visibility"] == "withheld"
    # The public never sees it.
    assert app_client.get(f"/api/v1/incidents/{ids['fire_withheld']}").status_code == 404


def test_residents_and_anonymous_callers_are_refused(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    _two_agencies_with_incidents(factory)
    ada = resident(app_client, mailbox[0], "ada@example.org")
    assert ada.client.get("/api/v1/agency/incidents").status_code == 403
    assert app_client.get("/api/v1/agency/incidents").status_code == 401


def test_an_agency_role_names_its_agency(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    resident(app_client, mailbox[0], "ada@example.org")
    with factory() as session, pytest.raises(InvalidParameter, match="agency"):
        grants.grant_role(session, "ada@example.org", "agency_officer", actor_id=None)
