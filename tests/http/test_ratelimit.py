"""Anonymous writes are limited per client address an hour, on every node alike.

Past the limit a client gets 429 problem+json with Retry-After (a form page says it in words);
another reader behind the same proxy, and anyone signed in, keeps going; two nodes over one
store share the count; a reset request is answered the same for known and unknown addresses.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.support.alerts import HOME
from tests.support.pages import value
from tests.support.residents import PASSWORD, Mailbox, resident
from townsquare.app import create_app
from townsquare.http.ratelimit import client_key
from townsquare.platform import Platform
from townsquare.settings import Settings

PROXY = ("10.0.0.5", 40000)
LIMIT = 2


@contextmanager
def node(
    settings: Settings, engine: Engine, factory: sessionmaker[Session], **changes: Any
) -> Iterator[TestClient]:
    """One app (a node) over the shared store, reached through the trusted proxy."""
    limits = {
        "trusted_proxies": "10.0.0.0/24",
        "signup_per_hour": LIMIT,
        "password_reset_per_hour": LIMIT,
        "anonymous_writes_per_hour": LIMIT,
    }
    platform = Platform(settings.model_copy(update={**limits, **changes}), engine, factory)
    with TestClient(create_app(platform=platform), client=PROXY) as client:
        yield client


@pytest.fixture
def client(
    resident_settings: Settings, engine: Engine, factory: sessionmaker[Session]
) -> Iterator[TestClient]:
    with node(resident_settings, engine, factory) as app:
        yield app


def sign_up(client: TestClient, n: int, reader: str = "203.0.113.7") -> Any:
    return client.post(
        "/api/v1/account/sign-up",
        json={"email": f"person{n}@example.org", "password": PASSWORD},
        headers={"x-forwarded-for": reader},
    )


def watch(client: TestClient, reader: str = "203.0.113.7", **kwargs: Any) -> int:
    area = {"type": "circle", "lat": HOME[0], "lon": HOME[1], "radius_m": 500}
    body = {"area": area, "channels": [{"kind": "email", "address": "watch@example.org"}]}
    headers = {"x-forwarded-for": reader, **kwargs.pop("headers", {})}
    response = client.post("/api/v1/subscriptions", json=body, headers=headers, **kwargs)
    return response.status_code


def test_sign_ups_past_the_limit_get_429_with_retry_after_and_other_readers_do_not(
    client: TestClient,
) -> None:
    assert [sign_up(client, n).status_code for n in range(LIMIT)] == [201] * LIMIT
    refused = sign_up(client, LIMIT)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert 0 < int(refused.headers["retry-after"]) <= 3600
    assert "sign-ups an hour" in refused.json()["detail"]
    assert sign_up(client, LIMIT, reader="203.0.113.8").status_code == 201  # same proxy


def test_a_reset_request_is_answered_alike_for_known_and_unknown_addresses(
    client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    resident(client, mailbox[0], "ada@example.org")

    def reset(email: str) -> tuple[int, str, str | None]:
        response = client.post(
            "/api/v1/account/password-reset",
            json={"email": email},
            headers={"x-forwarded-for": "198.51.100.4"},
        )
        return response.status_code, response.text, response.headers.get("retry-after")

    assert reset("ada@example.org")[0] == reset("nobody@example.org")[0] == 202
    known, unknown = reset("ada@example.org"), reset("nobody@example.org")
    assert known[0] == unknown[0] == 429
    assert known[1] == unknown[1]
    assert known[2] is not None
    assert unknown[2] is not None


def test_signed_in_people_are_not_held_to_the_anonymous_limit(
    client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    person = resident(client, mailbox[0], "ada@example.org")
    assert [watch(client) for _ in range(LIMIT + 1)] == [201] + [200] * (LIMIT - 1) + [429]
    session = TestClient(client.app, client=PROXY, cookies=person.client.cookies)
    assert {watch(session) for _ in range(LIMIT + 1)} <= {200, 201}
    token = person.post("/api/v1/account/tokens", json={"name": "script"}).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert watch(client, headers=bearer) in (200, 201)
    assert watch(client, headers={"Authorization": "Bearer made-up"}) == 429


def test_the_limit_holds_across_two_nodes_over_one_store(
    resident_settings: Settings, engine: Engine, factory: sessionmaker[Session]
) -> None:
    with (
        node(resident_settings, engine, factory) as one,
        node(resident_settings, engine, factory) as two,
    ):
        assert sign_up(one, 0).status_code == 201
        assert sign_up(two, 1).status_code == 201
        assert sign_up(one, 2).status_code == 429
        assert sign_up(two, 3).status_code == 429


def test_the_sign_up_form_says_in_words_when_an_address_signed_up_too_often(
    client: TestClient,
) -> None:
    start = client.get("/sign-up")
    token = value(start.text, "form_token")
    for n in range(LIMIT + 1):
        shown = client.post(
            "/sign-up",
            data={"email": f"form{n}@example.org", "password": PASSWORD, "form_token": token},
            headers={"x-forwarded-for": "203.0.113.9"},
        )
    assert shown.status_code == 429
    assert "try again in" in shown.text
    assert "Retry-After" in shown.headers


def test_the_forgotten_password_form_says_the_same_past_the_limit_for_any_address(
    client: TestClient,
) -> None:
    token = value(client.get("/forgot-password").text, "form_token")
    answers = [
        client.post(
            "/forgot-password",
            data={"email": email, "form_token": token},
            headers={"x-forwarded-for": "203.0.113.10"},
        )
        for email in ["a@example.org", "b@example.org", "a@example.org", "b@example.org"]
    ]
    assert [a.status_code for a in answers] == [200, 200, 429, 429]
    assert "password reset requests an hour" in answers[2].text


@pytest.mark.parametrize(
    ("address", "counted_as"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("testclient", "testclient"),
    ],
)
def test_an_ipv6_client_counts_by_its_64(address: str, counted_as: str) -> None:
    assert client_key(address) == counted_as
