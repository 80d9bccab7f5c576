"""Prometheus metrics of one app: what a city's operator graphs and alerts on.

Counted as they happen: requests by route template and status, request and feed latency,
geofence (alert matching) latency. Read from the store at each scrape, so every node reports
the same shared truth: records ingested per source and outcome, seconds since each source's
last good poll, outbox events not yet relayed, alert deliveries by outcome. Each app has its
own registry (nothing is made at import time), served at `/metrics`.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from townsquare.alerts.models import Delivery
from townsquare.db import utcnow
from townsquare.events.outbox import OutboxEvent
from townsquare.ingest.models import RawRecord, Source

FEED_ROUTES = frozenset({"/api/v1/incidents", "/feeds/atom", "/feeds/cap", "/"})
"""Routes whose answer is a page of the feed (JSON/GeoJSON, Atom, CAP index, the map page)."""
STREAMS = frozenset({"/api/v1/stream"})
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


_Series = tuple[Counter, Histogram | None, Histogram | None]


class StoreCollector(Collector):
    """Gauges read from the shared store when Prometheus scrapes."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def collect(self) -> Iterator[Metric]:
        """One query per family; a store that does not answer yields nothing, not an error."""
        records = GaugeMetricFamily(
            "townsquare_ingest_records",
            "Raw records kept per source and outcome (normalized, withheld, quarantined).",
            labels=["source", "outcome"],
        )
        lag = GaugeMetricFamily(
            "townsquare_ingest_lag_seconds",
            "Seconds since each source's last successful poll or push.",
            labels=["source"],
        )
        outbox = GaugeMetricFamily(
            "townsquare_outbox_depth", "Events committed but not yet relayed to the bus."
        )
        deliveries = GaugeMetricFamily(
            "townsquare_alert_deliveries",
            "Alert deliveries by outcome (queued, retrying, sent, dead, held, digested, ...).",
            labels=["outcome"],
        )
        now = utcnow()
        with self.factory() as session:
            counts = session.execute(
                select(Source.slug, RawRecord.outcome, func.count())
                .join(RawRecord, RawRecord.source_id == Source.id)
                .group_by(Source.slug, RawRecord.outcome)
            )
            for slug, outcome, count in counts:
                records.add_metric([slug, outcome], count)
            for slug, last in session.execute(select(Source.slug, Source.last_success_at)):
                if last is not None:
                    lag.add_metric([slug], (now - last).total_seconds())
            pending = select(func.count()).where(OutboxEvent.relayed_at.is_(None))
            outbox.add_metric([], session.scalar(pending) or 0)
            by_status = select(Delivery.status, func.count()).group_by(Delivery.status)
            for status, count in session.execute(by_status):
                deliveries.add_metric([status], count)
        yield from (records, lag, outbox, deliveries)


class Metrics:
    """The registry of one app and the instruments the request path and alerts feed."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "townsquare_http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "townsquare_http_request_duration_seconds",
            "Time to answer an HTTP request (to the end of its body), by route template.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.feed = Histogram(
            "townsquare_feed_duration_seconds",
            "Time to answer a page of the feed (JSON/GeoJSON, Atom, CAP index, map page).",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.fence = Histogram(
            "townsquare_fence_match_duration_seconds",
            "Time to match a batch of incident events against every watch area and record "
            "the deliveries it decides.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(StoreCollector(factory))
        self._series: dict[tuple[str, str, int], _Series] = {}

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        key = (method, route, status)
        series = self._series.get(key)
        if series is None:  # the labelled children, looked up once per kind of request
            series = self._series[key] = self._series_of(method, route, status)
        count, latency, feed = series
        count.inc()
        if latency is not None:
            latency.observe(seconds)
        if feed is not None:
            feed.observe(seconds)

    def _series_of(self, method: str, route: str, status: int) -> _Series:
        count = self.requests.labels(method, route, str(status))
        latency = None if route in STREAMS else self.latency.labels(route)
        # a stream lasts as long as its reader stays: no latency of it
        feed = None
        if route in FEED_ROUTES and method in ("GET", "HEAD"):
            feed = self.feed.labels(route)
        return count, latency, feed

    def observe_fence(self, seconds: float) -> None:
        """Record one batch's geofence matching time."""
        self.fence.observe(seconds)
