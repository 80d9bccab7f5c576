"""The public pages: the feed of a place, its htmx fragments, an incident's page and a reader's
mark on an alert.

`load_feed` and `load_incident` read only the feed service and its parsing helpers; the
templates show the result with the filters of `display`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from townsquare.accounts.security import server_secret
from townsquare.db import utcnow
from townsquare.errors import InvalidParameter, NotFound, TownsquareError
from townsquare.feedback import service as feedback
from townsquare.feedback.schemas import VERDICTS
from townsquare.feedback.views import reader
from townsquare.http.deps import DB, Config, Runtime, optional_actor, platform_of
from townsquare.http.feed import feed_query, run_feed
from townsquare.i18n import N_
from townsquare.i18n import gettext as _
from townsquare.incidents import mapping, service
from townsquare.incidents.schemas import Circle, FeedQuery, IncidentPublic, encode_cursor
from townsquare.web import display
from townsquare.web.kit import (
    Refused,
    page_router,
    refusal_shown,
    render,
    see_other,
    sentence,
    status_of,
)

router = page_router()
PAGE_SIZE = 25
DEFAULT_RADIUS_M = 2000.0
CLOSED_SHOWN = timedelta(hours=24)  # a closed call stays on the map, hollow, this long
MAX_ID_DIGITS = 18  # larger ids cannot exist in a signed 64-bit column
FIELD_LABELS = {
    "lat": N_("Latitude"),
    "lon": N_("Longitude"),
    "radius_m": N_("Radius"),
    "category": N_("Category"),
    "cursor": N_("The link to older incidents"),
    "q": N_("Search words"),
}


@dataclass(frozen=True, slots=True)
class FeedParams:
    """The page's query parameters as typed by the visitor, kept as text to echo in the form."""

    lat: str
    lon: str
    radius_m: str
    category: str = ""
    cursor: str = ""
    q: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, str], center: tuple[float, float]) -> FeedParams:
        """The parameters of a request; a place given by neither lat nor lon is `center`."""
        lat, lon = query.get("lat", "").strip(), query.get("lon", "").strip()
        if not lat and not lon:
            lat, lon = f"{center[0]:.4f}", f"{center[1]:.4f}"
        return cls(
            lat=lat,
            lon=lon,
            radius_m=query.get("radius_m", "").strip() or f"{DEFAULT_RADIUS_M:g}",
            category=query.get("category", "").strip(),
            cursor=query.get("cursor", "").strip(),
            q=" ".join(query.get("q", "").split()),
        )

    def feed_params(self, limit: int) -> dict[str, str | None]:
        """The parameters in the form `feed_query` reads, asking for `limit` incidents."""
        return {
            "lat": self.lat,
            "lon": self.lon,
            "radius_m": self.radius_m,
            "category": self.category or None,
            "cursor": self.cursor or None,
            "q": self.q or None,
            "limit": str(limit),
        }

    def query_string(self, **changes: str) -> str:
        """The non-empty parameters, with `changes` applied, as a query string."""
        values = replace(self, **changes)
        pairs = [
            ("lat", values.lat),
            ("lon", values.lon),
            ("radius_m", values.radius_m),
            ("category", values.category),
            ("q", values.q),
            ("cursor", values.cursor),
        ]
        return urlencode([(k, v) for k, v in pairs if v])

    def url(self, path: str = "/", **changes: str) -> str:
        """`path` with these parameters (and `changes`)."""
        query = self.query_string(**changes)
        return f"{path}?{query}" if query else path


@dataclass(frozen=True, slots=True)
class FeedPage:
    """One page of the feed for a place, or the reason it could not be read."""

    params: FeedParams
    incidents: tuple[IncidentPublic, ...] = ()
    area: Circle | None = None
    next_cursor: str | None = None
    error: InvalidParameter | None = None
    counts: Counter[str] = field(default_factory=Counter)
    """Incidents of each category in the whole area (the filter's choices), all filters off."""

    @property
    def status_code(self) -> int:
        """200, or the error's status."""
        return self.error.status if self.error else 200

    @property
    def error_field(self) -> str | None:
        """The form field the error is about, if any."""
        return self.error.parameter if self.error else None

    @property
    def error_message(self) -> str:
        """The error in words, led by the form field's label rather than the parameter name."""
        if self.error is None:
            return ""
        name = self.error.parameter
        text = self.error.detail.removeprefix(f"{name}: ")
        label = FIELD_LABELS.get(name)
        return f"{_(label) if label else name}: {text}."

    @property
    def next_url(self) -> str | None:
        """The page of older incidents, if there may be one."""
        return self.params.url(cursor=self.next_cursor) if self.next_cursor else None

    def next_fragment_url(self) -> str | None:
        """The fragment of older incidents, if there may be one."""
        if not self.next_cursor:
            return None
        return self.params.url("/fragments/incidents", cursor=self.next_cursor)


def load_feed(platform: Runtime, params: FeedParams) -> FeedPage:
    """The newest incidents of the place in `params`; bad parameters become `error`."""
    limit = min(PAGE_SIZE, platform.settings.page_size_max)
    try:
        if bool(params.lat) != bool(params.lon):
            missing = "lon" if params.lat else "lat"
            raise InvalidParameter(missing, "give both latitude and longitude (or neither)")
        query = feed_query(platform, params.feed_params(limit))
    except InvalidParameter as exc:
        return FeedPage(params, error=exc)
    page = run_feed(platform, query)
    next_cursor = None
    if len(page) == query.limit:
        next_cursor = encode_cursor(page[-1].occurred_at, page[-1].id)
    area = query.area if isinstance(query.area, Circle) else None
    counts: Counter[str] = Counter()
    if not params.cursor:
        with platform.factory() as session:
            counts = mapping.category_counts(session, query.area)
    return FeedPage(params, tuple(page), area, next_cursor, counts=counts)


def load_incident(platform: Runtime, raw_id: str) -> IncidentPublic:
    """One public incident by its id as written in a URL; NotFound for anything else."""
    if not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > MAX_ID_DIGITS:
        raise NotFound(f"incident {raw_id!r} not found")
    with platform.factory() as session:
        return service.get_public(session, int(raw_id))


def feed_page_of(request: Request) -> FeedPage:
    """The feed page for this request's query parameters."""
    platform = platform_of(request)
    params = FeedParams.from_query(request.query_params, platform.settings.map_center)
    return load_feed(platform, params)


@router.get("/")
def feed_page(request: Request) -> Response:
    """The newest incidents of a place: map, filters, list; bad parameters explained in-page."""
    feed = feed_page_of(request)
    return render(request, "feed/feed.html", feed.status_code, feed=feed)


@router.get("/fragments/incidents")
def feed_fragment(request: Request) -> Response:
    """htmx: the results of a new search, or (with `cursor`) the next items of the list."""
    feed = feed_page_of(request)
    template = "feed/_more.html" if feed.params.cursor else "feed/_results.html"
    response = render(request, template, feed.status_code, feed=feed)
    if not feed.params.cursor and feed.error is None:
        response.headers["HX-Push-Url"] = feed.params.url()
    return response


@router.get("/fragments/map-points")
def map_points(request: Request) -> Response:
    """The map's markers for the area and filter of the page: more than the list's page (up to
    `mapping.MAP_LIMIT`), active ones and those closed in the last day, as compact JSON."""
    platform = platform_of(request)
    params = FeedParams.from_query(request.query_params, platform.settings.map_center)
    try:
        query = feed_query(platform, replace(params, cursor="").feed_params(1))
    except InvalidParameter as exc:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status)
    with platform.factory() as session:
        if query.text:  # the list's matches, so map and list agree
            points, more = searched_points(platform, replace(query, limit=mapping.MAP_LIMIT))
        else:
            points, more = mapping.map_points(
                session, query.area, category=query.category, closed_since=utcnow() - CLOSED_SHOWN
            )
    body = {
        "more": more,
        "points": [
            {
                "id": p.id,
                "lat": p.lat,
                "lon": p.lon,
                "icon": display.icon_of(p.category, p.resident),
                "group": display.group_of(p.category),
                "label": display.label_of(p.category),
                "title": p.title,
                "closed": p.status == "closed",
                "severity": p.severity,
            }
            for p in points
        ],
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def searched_points(platform: Runtime, query: FeedQuery) -> tuple[list[mapping.MapPoint], bool]:
    """The map's markers of a search: the incidents the list would show, up to the limit."""
    found = run_feed(platform, query)
    points = [
        mapping.MapPoint(
            id=i.id,
            lat=i.lat,
            lon=i.lon,
            category=i.category,
            title=i.title,
            status=i.status,
            severity=i.severity,
            occurred_at=i.occurred_at,
            resident=i.origin == "resident",
        )
        for i in found
    ]
    return points, len(found) == query.limit


@router.get("/incidents/{incident_id}")
def incident_page(request: Request, incident_id: str, marked: str = "") -> Response:
    """One incident: what, where (to about 100 m), when, from whom, and why it was (not) alerted."""
    try:
        incident = load_incident(platform_of(request), incident_id)
    except NotFound:
        return render(request, "feed/not_found.html", 404, incident_id=incident_id)
    verdict = marked if marked in VERDICTS else None
    return render(request, "feed/incident.html", incident=incident, marked=verdict)


def _refused_mark(request: Request, incident_id: int, exc: Refused) -> Response:
    try:
        incident = load_incident(platform_of(request), str(incident_id))
    except NotFound:
        return render(request, "feed/not_found.html", 404, incident_id=incident_id)
    refused = sentence(exc)
    status = status_of(exc)
    return render(request, "feed/incident.html", status, incident=incident, refused=refused)


@router.post("/incidents/{incident_id}/feedback")
async def incident_feedback(
    request: Request, incident_id: int, session: DB, settings: Config
) -> Response:
    """A reader's mark on an alert, from the form on its page (works without JavaScript)."""
    verdict = (await request.form()).get("verdict")
    with refusal_shown(
        session, lambda exc: _refused_mark(request, incident_id, exc), TownsquareError
    ):
        if verdict not in VERDICTS:
            raise InvalidParameter("verdict", "choose not useful or inaccurate")
        actor = await optional_actor(request, session, settings)
        secret = server_secret(settings)
        feedback.vote(
            session, settings, secret, incident_id, verdict, reader(request, actor), utcnow()
        )
    return see_other(f"/incidents/{incident_id}?marked={verdict}#feedback")
