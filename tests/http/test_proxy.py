"""Behind a trusted proxy, the client is who X-Forwarded-For says; from anyone else, not.

The anonymous feedback limit is the visible case: readers behind one proxy each get their
own allowance, and a reader who connects directly cannot escape it by writing the header.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker

from tests.support.desk import add
from townsquare.app import create_app
from townsquare.db import transaction
from townsquare.http.proxy import client_behind, trusted_networks
from townsquare.incidents.models import Incident
from townsquare.platform import Platform
from townsquare.settings import Settings

PROXY = ("10.0.0.5", 40000)
LIMIT = 2


@pytest.fixture
def platform(desk_settings: Settings, engine: Engine, factory: sessionmaker[Session]) -> Platform:
    settings = desk_settings.model_copy(
        update={"trusted_proxies": "10.0.0.0/24, ::1", "feedback_anonymous_per_hour": LIMIT}
    )
    return Platform(settings, engine, factory)


def alerts(factory: sessionmaker[Session], count: int) -> list[int]:
    ids = [add(factory) for _ in range(count)]
    with transaction(factory) as session:
        session.execute(update(Incident).where(Incident.id.in_(ids)).values(alertable=True))
    return ids


@pytest.fixture
def via_proxy(platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(platform=platform), client=PROXY) as client:
        yield client


def mark(client: TestClient, incident_id: int, forwarded_for: str) -> int:
    response = client.post(
        f"/api/v1/incidents/{incident_id}/feedback",
        json={"verdict": "not_useful"},
        headers={"x-forwarded-for": forwarded_for},
    )
    return response.status_code


def test_readers_behind_the_proxy_each_get_their_own_feedback_allowance(
    via_proxy: TestClient, factory: sessionmaker[Session]
) -> None:
    ids = alerts(factory, LIMIT + 1)
    # The reader's own browser may add a made-up hop on the left: only the proxy's is believed.
    codes = [mark(via_proxy, i, "6.6.6.6, 203.0.113.7") for i in ids]
    assert codes == [200] * LIMIT + [429]
    assert mark(via_proxy, ids[-1], "203.0.113.8") == 200  # another reader, same proxy
    assert mark(via_proxy, ids[-1], "1.2.3.4, 203.0.113.7") == 429  # the first, any left hop


def test_a_direct_client_cannot_pick_its_address_with_the_header(
    platform: Platform, factory: sessionmaker[Session]
) -> None:
    ids = alerts(factory, LIMIT + 1)
    with TestClient(create_app(platform=platform), client=("198.51.100.9", 5000)) as direct:
        codes = [mark(direct, i, f"203.0.113.{n}") for n, i in enumerate(ids)]
    assert codes == [200] * LIMIT + [429]


@pytest.mark.parametrize(
    ("peer", "header", "client"),
    [
        ("10.0.0.5", ["203.0.113.7"], "203.0.113.7"),
        ("10.0.0.5", ["203.0.113.7, 10.0.0.9"], "203.0.113.7"),  # two proxies in a row
        ("10.0.0.5", ["203.0.113.7", "10.0.0.9"], "203.0.113.7"),  # two header lines
        ("10.0.0.5", [], "10.0.0.5"),
        ("10.0.0.5", ["not-an-address"], "10.0.0.5"),
        ("::1", ["2001:db8::1"], "2001:db8::1"),
        ("192.0.2.1", ["203.0.113.7"], "192.0.2.1"),  # not a proxy of ours
    ],
)
def test_the_client_is_the_nearest_untrusted_hop(peer: str, header: list[str], client: str) -> None:
    assert client_behind(peer, header, trusted_networks("10.0.0.0/24,::1")) == client


def test_a_bad_proxy_entry_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match=r"10\.0\.0\.300"):
        Settings(trusted_proxies="10.0.0.1, 10.0.0.300")
