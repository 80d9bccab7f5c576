"""The OpenAPI document tells the truth: schemathesis drives every documented operation of the
real app (ASGI, SQLite store) with generated requests, anonymous, and checks each answer.

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
from townsquare.app import create_app
from townsquare.platform import Platform

EXAMPLES = 3
LEFT_OUT = {"/api/v1/stream"}  # an endless response
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # one store bounds the runtime
def test_every_answer_is_one_the_document_declares(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    app = create_app(platform=Platform(alert_settings(tmp_path), engine, factory))
    failures: Counter[str] = Counter()
    examples: dict[str, int] = {}
    seen: list[str] = []
    with TestClient(app):  # the lifespan runs: index built, loops started
        schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.path in LEFT_OUT:
                continue
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
                    response = case.call()
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
    print(f"schemathesis: {sum(examples.values())} requests over {len(examples)} operations")
    print(f"failures: {sum(failures.values())}")
    print("\n".join(seen))
    assert seen == []
