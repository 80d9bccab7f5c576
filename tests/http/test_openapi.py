"""The OpenAPI document tells the truth: schemathesis drives every documented operation of the
real app (ASGI, SQLite store) with generated requests, anonymous and with a token of each role
(resident, moderator, agency officer, operator) on the operations that need one, and checks
each answer.

0 server errors, 0 statuses and 0 content types the document does not declare. Runtime is
bounded: EXAMPLES generated requests per operation with a fixed seed (derandomized), the
live stream left out (it never ends). The counts are printed for the closing note.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.support.alerts import alert_settings
from tests.support.people import SEATTLE, admin, officer, operator, register
from tests.support.residents import Mailbox, privileged, resident
from townsquare.app import create_app
from townsquare.db import utcnow
from townsquare.platform import Platform

EXAMPLES = 3
LEFT_OUT = {"/api/v1/stream"}  # an endless response
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]


ROLES = ["anonymous", "resident", "moderator", "agency_officer", "operator"]


def bearer(client: TestClient, box: Mailbox, factory: sessionmaker[Session], role: str) -> str:
    """A personal API token of a new account holding `role` (two-factor where it needs it)."""
    email = f"{role}@example.org"
    if role == "resident":
        person = resident(client, box, email)
    elif role == "agency_officer":
        op = operator(client, box, factory, "op@example.org")
        register(op, "seattle-pd", SEATTLE)
        chief = admin(client, box, op, "seattle-pd", "chief@example.org")
        person = officer(client, box, chief, email)
    else:
        person = privileged(client, box, factory, email, role, utcnow())
    made = person.post("/api/v1/account/tokens", json={"name": "schemathesis"})
    assert made.status_code == 201, made.text
    return str(made.json()["token"])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # one store bounds the runtime
def test_every_answer_is_one_the_document_declares(
    role: str,
    engine: Engine,
    factory: sessionmaker[Session],
    tmp_path: Path,
    place_index: Path,
    mailbox: tuple[Mailbox, int],
) -> None:
    """Anonymous over every operation; each role with its token over those that need one."""
    config = alert_settings(tmp_path).model_copy(
        update={
            "places_index": place_index,
            "account_mail": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": mailbox[1],
        }
    )
    app = create_app(platform=Platform(config, engine, factory))
    failures: Counter[str] = Counter()
    examples: dict[str, int] = {}
    seen: list[str] = []
    with TestClient(app) as client:  # the lifespan runs: index built, loops started
        headers = {}
        if role != "anonymous":
            headers = {"Authorization": f"Bearer {bearer(client, mailbox[0], factory, role)}"}
        schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.path in LEFT_OUT:
                continue
            if headers and not operation.definition.raw.get("security"):
                continue  # what anyone may call is driven anonymously
            label = f"{operation.method.upper()} {operation.path}"

            @given(case=operation.as_strategy(), label=st.just(label))
            @settings(
                max_examples=EXAMPLES,
                derandomize=True,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            )
            def run(case: schemathesis.Case, label: str) -> None:
                examples[label] = examples.get(label, 0) + 1
                try:
                    response = case.call(headers=headers)
                except ValueError:  # a header no HTTP client can send (a line break in it)
                    reject()
                try:
                    case.validate_response(response, checks=CHECKS)
                except (Failure, FailureGroup) as exc:
                    found = exc.exceptions if isinstance(exc, FailureGroup) else [exc]
                    for failure in found:
                        key = f"{type(failure).__name__}: {label}: {failure.title}"
                        if key not in failures:
                            media = response.headers.get("content-type")
                            seen.append(f"{key} ({response.status_code} {media})")
                        failures[key] += 1

            run()
    print(
        f"schemathesis as {role}: {sum(examples.values())} requests over {len(examples)} operations"
    )
    print(f"failures: {sum(failures.values())}")
    print("\n".join(seen))
    assert examples
    assert seen == []


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_document_types_feeds_errors_and_security(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = alert_settings(tmp_path, public_url="https://safety.city.example/town")
    with TestClient(create_app(platform=Platform(settings, engine, factory))) as client:
        doc = client.get("/api/v1/openapi.json").json()
        missing = client.get("/api/v1/incidents/999999")
        described = client.get(missing.json()["type"].removeprefix(settings.site_url()))
        docs_page = client.get("/api/v1/docs").text
    feed = doc["paths"]["/api/v1/incidents"]["get"]
    types = {p["name"]: p["schema"].get("type") for p in feed["parameters"]}
    assert types["lat"] == types["lon"] == types["radius_m"] == "number"
    assert types["limit"] == "integer"
    assert feed["operationId"] == "list_incidents"
    ok = feed["responses"]["200"]["content"]
    assert ok == {
        "application/geo+json": {"schema": {"$ref": "#/components/schemas/FeatureCollection"}}
    }
    assert feed["responses"]["422"]["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
    assert (
        "application/atom+xml" in doc["paths"]["/feeds/atom"]["get"]["responses"]["200"]["content"]
    )
    cap = doc["paths"]["/feeds/cap/{incident_id}.xml"]["get"]["responses"]["200"]["content"]
    assert list(cap) == ["application/cap+xml"]
    assert "HTTPValidationError" not in str(doc)
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal API token (POST /api/v1/account/tokens).",
    }
    me = doc["paths"]["/api/v1/account"]["get"]
    assert {"bearer": []} in me["security"]
    assert {"401", "403"} <= set(me["responses"])
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    assert not [i for i in ids if "_api_v1_" in i and i.endswith(("_get", "_post"))]
    # A problem's type is a real page on the public URL, not a placeholder host.
    assert missing.json()["type"] == "https://safety.city.example/town/api/v1/problems/not-found"
    assert described.json()["status"] == 404
    # The API docs load nothing from a third party, and ask no validator.
    assert '"validatorUrl": null' in docs_page
    assert "https://" not in docs_page
    assert "http://" not in docs_page
