"""Agencies and their people made the way they are made in production: over the API.

An operator (granted from the CLI's service call, two-factor enrolled) registers and
verifies an agency and appoints its admin; the admin adds officers. Everyone's account is
made by sign-up with the link read from the local SMTP server.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.support.residents import Mailbox, Person, privileged, resident, sign_in
from townsquare.db import utcnow

SEATTLE: dict[str, Any] = {
    "type": "Polygon",
    "coordinates": [
        [[-122.45, 47.48], [-122.22, 47.48], [-122.22, 47.74], [-122.45, 47.74], [-122.45, 47.48]]
    ],
}
TACOMA: dict[str, Any] = {
    "type": "Polygon",
    "coordinates": [
        [[-122.56, 47.17], [-122.36, 47.17], [-122.36, 47.32], [-122.56, 47.32], [-122.56, 47.17]]
    ],
}


def operator(
    client: TestClient, box: Mailbox, factory: sessionmaker[Session], email: str
) -> Person:
    """An operator signed in with two-factor (the role granted as `users grant` does)."""
    return privileged(client, box, factory, email, "operator", utcnow())


def enrolled(client: TestClient, box: Mailbox, email: str, at: datetime | None = None) -> Person:
    """A resident with two-factor sign-in on, signed in with a code: roles granted apply."""
    moment = at or utcnow()
    person = resident(client, box, email)
    secret = person.post("/api/v1/account/totp").json()["secret"]
    totp = pyotp.TOTP(secret)
    confirmed = person.post("/api/v1/account/totp/confirm", json={"code": totp.at(moment)})
    assert confirmed.status_code == 204, confirmed.text
    return sign_in(client, email, totp.at(moment, counter_offset=1))


def register(op: Person, slug: str, area: dict[str, Any], *, verify: bool = True) -> None:
    """The operator registers (and verifies) an agency."""
    body = {"slug": slug, "name": slug.title(), "time_zone": "America/Los_Angeles"}
    made = op.post("/api/v1/agencies", json=body | {"jurisdiction": area})
    assert made.status_code == 201, made.text
    if verify:
        assert op.post(f"/api/v1/agencies/{slug}/verify").status_code == 200


def admin(client: TestClient, box: Mailbox, op: Person, slug: str, email: str) -> Person:
    """A two-factor person the operator appoints admin of `slug`."""
    person = enrolled(client, box, email)
    made = op.post(f"/api/v1/agencies/{slug}/admins", json={"email": email})
    assert made.status_code == 201, made.text
    return person


def officer(client: TestClient, box: Mailbox, chief: Person, email: str) -> Person:
    """A two-factor person an agency admin adds as officer."""
    person = enrolled(client, box, email)
    made = chief.post("/api/v1/agency/officers", json={"email": email})
    assert made.status_code == 201, made.text
    return person
