"""`create_app(settings)`: the ASGI app, its lifespan jobs, and the one error handler."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from townsquare import __version__
from townsquare.accounts.views import router as accounts_router
from townsquare.agencies.views import router as agencies_router
from townsquare.alerts.views import router as alerts_router
from townsquare.db import utcnow
from townsquare.desk.views import router as desk_router
from townsquare.events import wake
from townsquare.feedback.views import router as feedback_router
from townsquare.footage.views import cameras_router as footage_cameras_router
from townsquare.footage.views import public_router as footage_public_router
from townsquare.footage.views import router as footage_router
from townsquare.formats.views import router as cap_router
from townsquare.housekeeping.release import release_due
from townsquare.housekeeping.retention import run_retention
from townsquare.housekeeping.views import router as rights_router
from townsquare.http import openapi, problems
from townsquare.http.access import AccessLog
from townsquare.http.caching import FeedCaching
from townsquare.http.compress import Compression
from townsquare.http.cors import PublicCors
from townsquare.http.direct import DirectRoutes, direct_route
from townsquare.http.headers import SecurityHeaders
from townsquare.http.language import Language
from townsquare.http.limits import BodyLimit
from townsquare.http.metrics import Metrics
from townsquare.http.origin import PublicOrigin
from townsquare.http.proxy import ClientAddress
from townsquare.http.tracing import Traces, Tracing
from townsquare.incidents.views import router as incidents_router
from townsquare.ingest.views import router as ingest_router
from townsquare.live.rawsend import RawSend
from townsquare.live.views import router as stream_router
from townsquare.media.jobs import process_pending
from townsquare.media.service import store_of
from townsquare.media.views import router as media_router
from townsquare.moderation.views import router as moderation_router
from townsquare.open311.views import router as open311_router
from townsquare.places.views import router as places_router
from townsquare.platform import Platform
from townsquare.posts.views import router as posts_router
from townsquare.privacy.views import router as privacy_router
from townsquare.settings import Settings
from townsquare.tiles.views import router as tiles_router
from townsquare.web.mount import mount as mount_web
from townsquare.weekly import schedule as weekly_schedule
from townsquare.weekly.views import router as weekly_router

log = logging.getLogger(__name__)
RELEASE_INTERVAL_S = 30.0
GC_THRESHOLDS = (50_000, 20, 10)
"""Collector thresholds of a serving process. The defaults (700, 10, 10) ran a full
collection every few seconds under live-stream load, each a pause of 0.2-1.5 s over the
objects of thousands of connections; this makes full collections some hundred times rarer."""


async def _every(seconds: float, job: Callable[[], object], name: str, stop: asyncio.Event) -> None:
    """Run `job` in a thread every `seconds` until `stop`; a run in progress is let finish."""
    while not stop.is_set():
        try:
            await asyncio.to_thread(job)
        except Exception:
            log.exception("%s failed; retrying", name)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)


async def _relaying(platform: Platform, stop: asyncio.Event) -> None:
    """The outbox relay: every `relay_interval_s`, and at once when an announcing transaction
    commits on PostgreSQL (`townsquare.events.wake`)."""
    if not wake.listens(platform.engine):
        await _every(platform.settings.relay_interval_s, platform.relay_once, "outbox relay", stop)
        return
    waking = wake.OutboxWake(platform.engine, asyncio.get_running_loop())
    waking.start()
    stopped = asyncio.ensure_future(stop.wait())
    try:
        while not stop.is_set():
            waking.event.clear()  # a commit during this run runs it again
            try:
                await asyncio.to_thread(platform.relay_once)
            except Exception:
                log.exception("outbox relay failed; retrying")
            woken = asyncio.ensure_future(waking.event.wait())
            await asyncio.wait(
                [stopped, woken],
                timeout=platform.settings.relay_interval_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
            woken.cancel()
    finally:
        stopped.cancel()
        waking.stop()


def _scheduled(platform: Platform, stop: asyncio.Event) -> list[Coroutine[Any, Any, None]]:
    """The housekeeping the server does itself unless settings leave it to the CLI (cron)."""
    settings, factory = platform.settings, platform.factory
    jobs = []
    if settings.retention_interval_s > 0:
        store = store_of(settings)
        jobs.append(
            _every(
                settings.retention_interval_s,
                lambda: run_retention(factory, now=utcnow(), store=store),
                "retention",
                stop,
            )
        )
    if settings.weekly_digest_day != "off":
        jobs.append(
            _every(
                weekly_schedule.CHECK_INTERVAL_S,
                lambda: weekly_schedule.send_due(factory, settings, utcnow()),
                "weekly digest",
                stop,
            )
        )
    return jobs


def _fence_observer(metrics: Metrics, tracing: Tracing | None) -> Callable[[float], None]:
    """What the alert engine tells each batch's matching time: the metrics, and traces if on."""
    if tracing is None:
        return metrics.observe_fence

    def observe(seconds: float) -> None:
        metrics.observe_fence(seconds)
        tracing.observe_fence(seconds)

    return observe


def create_app(settings: Settings | None = None, platform: Platform | None = None) -> FastAPI:
    """Build the app; state is created here, never at import time."""
    owned = platform is None
    platform = platform or Platform.from_settings(settings or Settings())

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        platform.hub.bind(asyncio.get_running_loop())
        gc.set_threshold(*GC_THRESHOLDS)
        await asyncio.to_thread(platform.start)
        stop = asyncio.Event()
        jobs = [
            _relaying(platform, stop),
            platform.alerts.run(stop),
            platform.hub.keep_alive(platform.settings.stream_keepalive_s, stop),
            _every(
                RELEASE_INTERVAL_S,
                lambda: release_due(platform.factory, now=utcnow()),
                "releasing delayed incidents",
                stop,
            ),
        ]
        jobs += _scheduled(platform, stop)
        jobs += [
            _every(
                platform.settings.media_job_interval_s,
                lambda: process_pending(platform.factory, platform.settings, stop.is_set),
                "media job",
                stop,
            )
            for _ in range(platform.settings.media_jobs)
        ]
        tasks = [asyncio.create_task(job) for job in jobs]
        try:
            yield
        finally:
            stop.set()  # jobs finish their current run, so no thread holds a connection
            platform.stop()
            await asyncio.gather(*tasks)
            await asyncio.to_thread(platform.bus.close)
            if tracing is not None:  # the spans still queued are sent
                await asyncio.to_thread(tracing.flush)
            if owned:  # a platform passed in belongs to the caller, who closes it
                platform.engine.dispose()

    app = FastAPI(
        title="Townsquare",
        version=__version__,
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        # FastAPI's own OpenTelemetry would record paths (coordinates) on any global provider,
        # and asked os.environ whether one exists on every request: our spans are by hand.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.platform = platform
    metrics = Metrics(platform.factory)
    tracing = app.state.tracing = Tracing.from_settings(platform.settings)
    platform.alerts.observe_match = _fence_observer(metrics, tracing)
    # Innermost first. Up to AccessLog none copies the scope, so it sees the matched route.
    app.add_middleware(FeedCaching)  # hashes the body the route made: inside compression
    app.add_middleware(Language)  # the language pages, mails and errors are written in
    app.add_middleware(Compression)
    app.add_middleware(PublicCors)
    app.add_middleware(SecurityHeaders, settings=platform.settings)
    if tracing is not None:  # inside the access log: the same request id, the matched route
        app.add_middleware(Traces, tracing=tracing)
    app.add_middleware(AccessLog, metrics=metrics)
    app.add_middleware(PublicOrigin, settings=platform.settings)
    app.add_middleware(BodyLimit, settings=platform.settings)  # counts every byte
    app.add_middleware(ClientAddress, settings=platform.settings)  # outermost: who is asking
    app.add_middleware(RawSend)  # the server's send, for live streams' frames
    problems.install(app)
    openapi.install(app, platform.settings)
    app.include_router(incidents_router)
    app.include_router(privacy_router)
    app.include_router(ingest_router)
    app.include_router(alerts_router)
    app.include_router(stream_router)
    app.include_router(cap_router)
    app.include_router(accounts_router)
    app.include_router(posts_router)
    app.include_router(moderation_router)
    app.include_router(desk_router)
    app.include_router(feedback_router)
    app.include_router(media_router)
    app.include_router(agencies_router)
    app.include_router(open311_router)
    app.include_router(rights_router)
    app.include_router(footage_cameras_router)
    app.include_router(footage_router)
    app.include_router(footage_public_router)
    app.include_router(weekly_router)
    app.include_router(tiles_router)
    app.include_router(places_router)

    @app.get("/api/v1/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        # Swagger UI from our own static files: FastAPI's default loads it from a CDN.
        return get_swagger_ui_html(
            openapi_url="/api/v1/openapi.json",
            title="Townsquare API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
            # validatorUrl None: no badge fetched from validator.swagger.io (a third party)
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/healthz", tags=["operations"], summary="The process is alive")
    async def healthz() -> dict[str, str]:  # async: no thread-pool hop for a fixed answer
        return {"status": "ok"}

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics (counts and timings only, nothing about a person)",
        response_class=PlainTextResponse,
        responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
    )
    def prometheus_metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/readyz", tags=["operations"], summary="The store answers and the index is built")
    def readyz() -> JSONResponse:
        try:
            with platform.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:  # the readiness answer is the point, not the exception
            return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, 503)
        return JSONResponse(
            {
                "status": "ready",
                "indexed_incidents": len(platform.index),
                "watch_areas": len(platform.alerts.index),
            }
        )

    mount_web(app)
    # Inside the exception handlers and every middleware: only the router's walk is skipped.
    direct = [direct_route(app.router.routes, "/healthz")]
    direct.append(direct_route(incidents_router.routes, "/api/v1/incidents"))
    app.router.middleware_stack = DirectRoutes(app.router.middleware_stack, app.router, direct)
    return app
