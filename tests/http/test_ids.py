"""An id past the store's integer range is a 404 on every route that takes one, never a 500."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.support.residents import Mailbox, resident

HUGE = [2**31, 2**63, 2**64]
"""Past PostgreSQL's integer, past SQLite's (and Python's int64), and past both."""


def _id_routes(client: TestClient) -> list[tuple[str, str]]:
    """(method, path) of every documented route with an id in its path."""
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    return [
        (method.upper(), path)
        for path, operations in paths.items()
        if re.search(r"\{\w*id\}", path)
        for method in operations
    ]


@pytest.mark.parametrize("number", HUGE)
def test_huge_ids_are_not_found_whoever_asks(
    app_client: TestClient, mailbox: tuple[Mailbox, int], number: int
) -> None:
    routes = _id_routes(app_client)
    assert len(routes) >= 20
    person = resident(app_client, mailbox[0], "ida@example.org")
    errors = []
    for method, template in routes:
        path = re.sub(r"\{\w*id\}", str(number), template)
        path = re.sub(r"\{[^}]+\}", "json", path)  # other parameters: a format, an action
        for who, client in (("anyone", TestClient(app_client.app)), ("resident", person.client)):
            headers = {"X-CSRF-Token": person.csrf} if who == "resident" else {}
            response = client.request(method, path, headers=headers, json={})
            if response.status_code >= 500:
                errors.append(f"{who} {method} {path}: {response.status_code}")
    assert errors == []
