"""`/metrics` scraped by Prometheus: requests, feed and fence latency, ingest per source, outbox
depth and deliveries by outcome, all read from the real app and store."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.support.alerts import (
    add_incident,
    alert_settings,
    subscribe,
    unsettled,
    wait_until_settled,
)
from tests.support.waiting import wait_for
from tests.support.webhooks import Receiver
from townsquare.app import create_app
from townsquare.ingest import service as ingest
from townsquare.ingest.config import MAPPINGS_DIR, load_source_config
from townsquare.ingest.sources.registry import adapter_for
from townsquare.platform import Platform

AREA = "lat=47.61&lon=-122.33&radius_m=2000"


def scrape(client: TestClient) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Every sample of /metrics by name and labels."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = tuple(sorted(sample.labels.items()))
            samples.setdefault(sample.name, {})[labels] = sample.value
    return samples


def test_a_scrape_shows_requests_latency_ingest_outbox_and_deliveries(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path, receiver: Receiver
) -> None:
    config = load_source_config(MAPPINGS_DIR / "sf_fire_calls.toml")
    first_calls = islice(adapter_for(config.kind).fetch(config), 60)  # the sample's first 60
    report = ingest.ingest_items(factory, config, first_calls)
    subscribe(factory, [{"kind": "webhook", "url": receiver.url}], urgent_severity=1)
    settings = alert_settings(tmp_path)
    client = TestClient(create_app(platform=Platform(settings, engine, factory)))
    before = scrape(client)  # the app's loops not started: the ingest's events wait
    assert before["townsquare_outbox_depth"][()] == unsettled(factory)[0] > 0
    with client:
        add_incident(factory)
        wait_until_settled(factory)
        for _ in range(3):
            assert client.get(f"/api/v1/incidents?{AREA}").status_code == 200
        assert client.get(f"/feeds/atom?{AREA}").status_code == 200
        assert client.get("/api/v1/incidents/999999999").status_code == 404
        after = wait_for(
            lambda: (
                (s := scrape(client))["townsquare_fence_match_duration_seconds_count"][()] and s
            ),
            what="a fence match observed",
        )
    requests = after["townsquare_http_requests_total"]
    feed = (("method", "GET"), ("route", "/api/v1/incidents"), ("status", "200"))
    assert requests[feed] == 3
    one = (("method", "GET"), ("route", "/api/v1/incidents/{incident_id}"), ("status", "404"))
    assert requests[one] == 1
    feed_latency = after["townsquare_feed_duration_seconds_count"]
    assert feed_latency[(("route", "/api/v1/incidents"),)] == 3
    assert feed_latency[(("route", "/feeds/atom"),)] == 1
    records = {
        dict(labels)["outcome"]: value
        for labels, value in after["townsquare_ingest_records"].items()
        if dict(labels)["source"] == "sf-fire-calls"
    }
    assert sum(records.values()) == report.received > 0
    assert set(records) <= {"normalized", "withheld", "quarantined"}
    assert after["townsquare_ingest_lag_seconds"][(("source", "sf-fire-calls"),)] >= 0
    assert after["townsquare_outbox_depth"][()] == 0
    assert after["townsquare_alert_deliveries"][(("outcome", "sent"),)] >= 1
