"""Optional OpenTelemetry traces, received by a real OTLP/HTTP endpoint: spans named by route
template, carrying what the access log carries and never a reader's place, path values, token
or address; with no collector configured nothing is installed and nothing is sent."""

from __future__ import annotations

import gzip
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.support.alerts import add_incident, alert_settings
from tests.support.waiting import wait_for
from tests.support.webhooks import Received, Receiver, serve_receiver
from townsquare.app import create_app
from townsquare.http.tracing import STANDARD_ENDPOINTS, Traces
from townsquare.platform import Platform
from townsquare.setting_files import ConfigurationError

AREA = "lat=47.61234&lon=-122.33321&radius_m=2000"
CLIENT = "203.0.113.50"
TOKEN = "tok-5f3a9c1e77d24b0b"
SQLITE = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # traces are not the store's


@dataclass
class SpanSeen:
    """One span as the collector decoded it."""

    name: str
    trace_id: bytes
    span_id: bytes
    parent_span_id: bytes
    attributes: dict[str, object]


def _value(value: AnyValue) -> object:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


def _answer(_receiver: Receiver, got: Received) -> tuple[int, bytes]:
    """What an OTLP/HTTP collector answers: an ExportTraceServiceResponse (or 404 elsewhere)."""
    if got.path != "/v1/traces" or got.headers["content-type"] != "application/x-protobuf":
        return 404, b""
    ExportTraceServiceRequest.FromString(_body(got))  # a body that does not decode fails here
    return 200, ExportTraceServiceResponse().SerializeToString()


def _body(got: Received) -> bytes:
    return gzip.decompress(got.body) if got.headers.get("content-encoding") == "gzip" else got.body


@dataclass
class Collector:
    """The received export requests, decoded."""

    receiver: Receiver

    @property
    def endpoint(self) -> str:
        """Its base URL, as an operator would set it."""
        return self.receiver.url.removesuffix("/hook")

    def bodies(self) -> list[bytes]:
        """Every request body as sent."""
        with self.receiver.lock:
            return [_body(got) for got in self.receiver.received]

    def spans(self) -> list[SpanSeen]:
        """Every span received so far, with the resource's attributes checked too."""
        seen = []
        for body in self.bodies():
            for resource_spans in ExportTraceServiceRequest.FromString(body).resource_spans:
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        attributes = {a.key: _value(a.value) for a in span.attributes}
                        seen.append(
                            SpanSeen(
                                span.name,
                                span.trace_id,
                                span.span_id,
                                span.parent_span_id,
                                attributes,
                            )
                        )
        return seen

    def resources(self) -> list[dict[str, object]]:
        """The resource attributes of every batch."""
        return [
            {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for body in self.bodies()
            for resource_spans in ExportTraceServiceRequest.FromString(body).resource_spans
        ]


@pytest.fixture
def collector() -> Iterator[Collector]:
    """A real OTLP/HTTP trace endpoint on loopback."""
    for receiver in serve_receiver(_answer):
        yield Collector(receiver)


@pytest.fixture
def no_standard_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process environment names no collector of its own."""
    for name in STANDARD_ENDPOINTS:
        monkeypatch.delenv(name, raising=False)


def _flushed(app: FastAPI, collector: Collector, name: str) -> list[SpanSeen]:
    """Flush the app's spans until one called `name` has arrived; every span so far."""

    def arrived() -> list[SpanSeen]:
        app.state.tracing.flush()
        spans = collector.spans()
        return spans if any(span.name == name for span in spans) else []

    return wait_for(arrived, what=f"a span {name!r} at the collector")


@SQLITE
@pytest.mark.usefixtures("no_standard_endpoint")
def test_spans_name_route_templates_and_never_the_reader_s_place_path_token_or_address(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path, collector: Collector
) -> None:
    incident_id = add_incident(factory)  # matched against the watch areas once the app starts
    settings = alert_settings(
        tmp_path, otel_endpoint=collector.endpoint, otel_service_name="townsquare-node-1"
    )
    app = create_app(platform=Platform(settings, engine, factory))
    with TestClient(app, client=(CLIENT, 1)) as client:
        feed = client.get(f"/api/v1/incidents?{AREA}", headers={"X-Request-ID": "rq-1"})
        one = client.get(f"/api/v1/incidents/{incident_id}?{AREA}")
        missing = client.get("/api/v1/incidents/987654321")
        signed = client.get("/api/v1/account", headers={"Authorization": f"Bearer {TOKEN}"})
        assert [r.status_code for r in (feed, one, missing, signed)] == [200, 200, 404, 401]
        assert feed.json()["features"]
        spans = _flushed(app, collector, "geofence match")
        spans = _flushed(app, collector, "GET /api/v1/account")

    requests = [s for s in spans if s.attributes.get("http.route")]
    assert [(s.name, s.attributes["http.response.status_code"]) for s in requests] == [
        ("GET /api/v1/incidents", 200),
        ("GET /api/v1/incidents/{incident_id}", 200),
        ("GET /api/v1/incidents/{incident_id}", 404),
        ("GET /api/v1/account", 401),
    ]
    for span, response in zip(requests, (feed, one, missing, signed), strict=True):
        assert set(span.attributes) == {
            "http.request.method",
            "http.route",
            "http.response.status_code",
            "townsquare.duration_ms",
            "townsquare.request_id",
        }
        assert span.attributes["http.request.method"] == "GET"
        assert span.attributes["http.route"] == span.name.removeprefix("GET ")
        assert span.attributes["townsquare.request_id"] == response.headers["X-Request-ID"]
        assert isinstance(span.attributes["townsquare.duration_ms"], float)
    assert requests[0].attributes["townsquare.request_id"] == "rq-1"

    (query,) = [s for s in spans if s.name == "feed query"]  # the one feed page asked
    assert (query.trace_id, query.parent_span_id) == (requests[0].trace_id, requests[0].span_id)
    assert query.attributes["townsquare.feed.items"] == len(feed.json()["features"])
    (fence,) = [s for s in spans if s.name == "geofence match"]
    assert fence.parent_span_id == b""
    assert set(fence.attributes) == {"townsquare.duration_ms"}
    assert {r["service.name"] for r in collector.resources()} == {"townsquare-node-1"}

    sent = b"".join(collector.bodies())
    typed = ("47.61234", "122.33321", "radius_m", "lat=", f"/incidents/{incident_id}", "987654321")
    for secret in (*typed, TOKEN, CLIENT, "testserver"):
        assert secret.encode() not in sent, secret


@SQLITE
def test_the_standard_otlp_endpoint_variable_turns_traces_on(
    engine: Engine,
    factory: sessionmaker[Session],
    tmp_path: Path,
    collector: Collector,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint)
    app = create_app(platform=Platform(alert_settings(tmp_path), engine, factory))
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        spans = _flushed(app, collector, "GET /healthz")
    assert {r["service.name"] for r in collector.resources()} == {"townsquare"}
    assert [s.name for s in spans if s.name.startswith("GET ")] == ["GET /healthz"]


@SQLITE
@pytest.mark.usefixtures("no_standard_endpoint")
def test_without_a_collector_nothing_is_installed_and_nothing_is_sent(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path, collector: Collector
) -> None:
    threads = set(threading.enumerate())
    app = create_app(platform=Platform(alert_settings(tmp_path), engine, factory))
    assert app.state.tracing is None
    assert Traces not in [m.cls for m in app.user_middleware]
    assert not isinstance(trace.get_tracer_provider(), TracerProvider)  # no global one either
    with TestClient(app) as client:
        assert client.get(f"/api/v1/incidents?{AREA}").status_code == 200
    started = {t.name for t in set(threading.enumerate()) - threads}
    assert not [name for name in started if name.startswith("OtelBatch")]
    assert collector.bodies() == []


@SQLITE
def test_a_collector_without_the_otel_extra_is_one_line_naming_what_to_install(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.exporter.otlp.proto.http.trace_exporter", None)
    settings = alert_settings(tmp_path, otel_endpoint="http://127.0.0.1:4318")
    with pytest.raises(ConfigurationError) as raised:
        create_app(platform=Platform(settings, engine, factory))
    assert str(raised.value) == (
        "TOWNSQUARE_OTEL_ENDPOINT: traces need the OpenTelemetry SDK and OTLP exporter: "
        "pip install 'townsquare[otel]'"
    )
