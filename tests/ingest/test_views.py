"""GET /api/v1/sources: anyone sees name, kind, agency and a coarse status; operators the rest."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.support.feeds import FeedServer, Reply
from tests.support.residents import Mailbox, privileged, resident, sign_in
from townsquare.accounts import grants
from townsquare.db import transaction, utcnow
from townsquare.errors import SourceError
from townsquare.ingest import service
from townsquare.ingest.config import MAPPINGS_DIR, load_source_config

PUBLIC_KEYS = {"slug", "name", "kind", "agency", "status"}


@pytest.fixture
def server() -> Iterator[FeedServer]:
    """A started local feed server."""
    with FeedServer() as running:
        yield running


@pytest.fixture
def sources(factory: sessionmaker[Session], server: FeedServer) -> str:
    """Three sources: one ok, one failing (its server answers 503), one lagging; its URL."""
    service.ingest(factory, load_source_config(MAPPINGS_DIR / "seattle_fire_911.toml"))
    server.routes["/down.csv"] = lambda _request: Reply(503, b"maintenance window")
    down = load_source_config(MAPPINGS_DIR / "sf_fire_calls.toml").model_copy(
        update={"location": f"{server.url}/down.csv", "poll_interval_s": 60}
    )
    with pytest.raises(SourceError):
        service.poll(factory, down)
    # Polled every 120 s and never fetched yet: lagging.
    houston = load_source_config(MAPPINGS_DIR / "houston_active_incidents.toml")
    with transaction(factory) as session:
        service.ensure_source(session, houston)
    return f"{server.url}/down.csv"


def _listed(client: TestClient, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = client.get("/api/v1/sources", headers=headers or {})
    assert response.status_code == 200, response.text
    return {row["slug"]: row for row in response.json()}


def _assert_public(listed: dict[str, Any], text: str) -> None:
    assert all(set(row) == PUBLIC_KEYS for row in listed.values())
    assert {slug: row["status"] for slug, row in listed.items()} == {
        "seattle-fire-911": "ok",
        "sf-fire-calls": "failing",
        "houston-active-incidents": "lagging",
    }
    assert listed["sf-fire-calls"]["agency"] == "San Francisco Fire Department"
    assert listed["houston-active-incidents"]["kind"] == "arcgis"
    for secret in ("maintenance", "503", "127.0.0.1", "houstontx", "samples"):
        assert secret not in text


def test_anyone_sees_the_coarse_status_only(app_client: TestClient, sources: str) -> None:
    _assert_public(_listed(app_client), app_client.get("/api/v1/sources").text)


def test_a_resident_sees_what_anyone_sees(
    app_client: TestClient, mailbox: tuple[Mailbox, int], sources: str
) -> None:
    person = resident(app_client, mailbox[0], "res@example.org")
    _assert_public(_listed(person.client), person.client.get("/api/v1/sources").text)


def test_an_operator_without_two_factor_sees_what_anyone_sees(
    app_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
    sources: str,
) -> None:
    resident(app_client, mailbox[0], "op@example.org")
    with factory() as session:
        grants.grant_role(session, "op@example.org", "operator", actor_id=None)
    person = sign_in(app_client, "op@example.org")  # no TOTP: the role does not apply
    _assert_public(_listed(person.client), person.client.get("/api/v1/sources").text)


def test_an_operator_sees_errors_locations_counts_and_lag(
    app_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
    sources: str,
) -> None:
    operator = privileged(app_client, mailbox[0], factory, "op@example.org", "operator", utcnow())
    listed = _listed(operator.client)
    down = listed["sf-fire-calls"]
    assert (down["status"], down["state"], down["failures"]) == ("failing", "failing", 1)
    assert "503" in down["last_error"]
    assert down["location"] == sources
    assert down["poll_interval_s"] == 60
    assert down["last_success_at"] is None
    seattle = listed["seattle-fire-911"]
    assert seattle["records"] == {"normalized": 1414, "withheld": 0, "quarantined": 25}
    assert seattle["incidents"] == 1411
    assert seattle["last_error"] is None
    assert 0 <= seattle["lag_s"] < 600
    assert seattle["location"].endswith("seattle_fire_911_calls_extract.csv")
    houston = listed["houston-active-incidents"]
    assert (houston["status"], houston["state"]) == ("lagging", "new")
    assert houston["location"].startswith("https://mycity2.houstontx.gov/")
    # The same through a personal API token made in the two-factor session.
    made = operator.post("/api/v1/account/tokens", json={"name": "monitoring"})
    assert made.status_code == 201, made.text
    bearer = {"Authorization": f"Bearer {made.json()['token']}"}
    again = _listed(TestClient(app_client.app), bearer)
    assert again["sf-fire-calls"] == down
    assert set(again["seattle-fire-911"]) == set(seattle)  # lag_s has grown meanwhile
