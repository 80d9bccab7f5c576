"""Optional OpenTelemetry traces: a span per request, per feed query and per geofence match.

Off unless a collector is named (TOWNSQUARE_OTEL_ENDPOINT, or the standard
OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT). A span holds what the access log holds and nothing more:
method, route *template*, status, duration, request id. Spans are made here by hand rather than
by an instrumentation library, which would record the path, query string (coordinates) and
client address. A client's `traceparent` is not followed: a reader cannot join or mark our traces.
The provider belongs to the app (never the process-wide global), so apps and tests do not mix.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING

from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, StatusCode, Tracer, use_span
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from townsquare import __version__
from townsquare.http.access import request_id_of, route_of
from townsquare.setting_files import ConfigurationError
from townsquare.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

STANDARD_ENDPOINTS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
TRACES_PATH = "/v1/traces"
_current: ContextVar[Tracer | None] = ContextVar("townsquare_tracer", default=None)
"""The tracer of the request being answered, so the feed query can open its span inside it."""


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


class Tracing:
    """One app's tracer provider, exporting in batches to an OTLP/HTTP collector."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self.tracer = provider.get_tracer("townsquare", __version__)

    @classmethod
    def from_settings(
        cls, settings: Settings, environ: Mapping[str, str] = os.environ
    ) -> Tracing | None:
        """The app's tracing when a collector is configured, else None (nothing is installed)."""
        endpoint: str | None = settings.otel_endpoint.strip().rstrip("/") or None
        if endpoint is None and not any(environ.get(name) for name in STANDARD_ENDPOINTS):
            return None
        if endpoint is not None and not endpoint.endswith(TRACES_PATH):
            endpoint += TRACES_PATH
        try:  # here: only deployments that trace load the SDK (the `otel` extra)
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.resources import SERVICE_NAME, Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
        except ImportError:
            raise ConfigurationError(
                "TOWNSQUARE_OTEL_ENDPOINT: traces need the OpenTelemetry SDK and OTLP exporter: "
                "pip install 'townsquare[otel]'"
            ) from None
        # None: the exporter reads the standard variables (and their headers, timeout) itself
        exporter = OTLPSpanExporter(endpoint=endpoint)
        resource = Resource.create({SERVICE_NAME: settings.otel_service_name})
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(BatchSpanProcessor(exporter))
        return cls(provider)

    def observe_fence(self, seconds: float) -> None:
        """Record one batch's geofence matching as a span that ended now (the alerts hook)."""
        ended = time.time_ns()
        span = self.tracer.start_span(
            "geofence match", Context(), start_time=ended - int(seconds * 1e9)
        )
        span.set_attribute("townsquare.duration_ms", _ms(seconds))
        span.end(end_time=ended)

    def flush(self) -> None:
        """Send the spans still queued (at the end of the app's life, and in tests)."""
        self.provider.force_flush()


@contextlib.contextmanager
def traced(name: str) -> Iterator[Span | None]:
    """A child span of the request being traced; nothing when tracing is off."""
    tracer = _current.get()
    if tracer is None:
        yield None
        return
    with tracer.start_as_current_span(
        name, record_exception=False, set_status_on_exception=False
    ) as span:
        yield span


class Traces:
    """Wraps each HTTP request in a span named by its method and route template."""

    def __init__(self, app: ASGIApp, tracing: Tracing) -> None:
        self.app = app
        self.tracer = tracing.tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = str(scope["method"])
        started = time.perf_counter()
        status = 500  # as the access log: the app raised before answering

        async def send_traced(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        token = _current.set(self.tracer)
        # A root span whatever the request's headers say; its name is set once routing is done.
        span = self.tracer.start_span(method, Context(), SpanKind.SERVER, record_exception=False)
        try:
            # the current span of the route, in its threads too (they copy the context)
            with use_span(span, record_exception=False, set_status_on_exception=False):
                await self.app(scope, receive, send_traced)
        except BaseException as exc:
            span.set_attribute("error.type", type(exc).__name__)  # the type, never its message
            raise
        finally:
            _current.reset(token)
            route = route_of(scope)
            span.update_name(f"{method} {route}")
            span.set_attributes(
                {
                    "http.request.method": method,
                    "http.route": route,
                    "http.response.status_code": status,
                    "townsquare.duration_ms": _ms(time.perf_counter() - started),
                    "townsquare.request_id": request_id_of(scope),
                }
            )
            if status >= 500:
                span.set_status(StatusCode.ERROR)
            span.end()
