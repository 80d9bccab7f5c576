"""What the public pages show, built only from the feed service and its parsing helpers.

Plain data and small functions: the routes in `views.py` call `load_feed` or `load_incident`
and hand the result to a template; formatting lives in the template filters below.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

from townsquare import geo, taxonomy
from townsquare.db import utcnow
from townsquare.errors import InvalidParameter, NotFound
from townsquare.http.deps import Runtime
from townsquare.http.feed import feed_query, run_feed
from townsquare.incidents import service
from townsquare.incidents.schemas import Circle, IncidentPublic, encode_cursor

PAGE_SIZE = 25
DEFAULT_RADIUS_M = 2000.0
RADIUS_CHOICES_M = (500, 1000, 2000, 5000, 10_000, 25_000)
MAX_ID_DIGITS = 18  # larger ids cannot exist in a signed 64-bit column
GROUP_LABELS = {
    "fire": "Fire",
    "rescue": "Rescue",
    "safety": "Hazards",
    "traffic": "Traffic",
    "crime": "Crime",
    "police": "Police",
    "sensitive": "Sensitive",
}
FIELD_LABELS = {
    "lat": "Latitude",
    "lon": "Longitude",
    "radius_m": "Radius",
    "category": "Category",
    "cursor": "The link to older incidents",
}


@dataclass(frozen=True, slots=True)
class Place:
    """A named place the page offers as a quick link."""

    name: str
    lat: float
    lon: float


QUICK_PLACES = (
    Place("Seattle", 47.6062, -122.3321),
    Place("San Francisco", 37.7793, -122.4193),
)


@dataclass(frozen=True, slots=True)
class Option:
    """One choice of a select."""

    value: str
    label: str


@dataclass(frozen=True, slots=True)
class OptionGroup:
    """An optgroup of a select."""

    label: str
    options: tuple[Option, ...]


@dataclass(frozen=True, slots=True)
class FeedParams:
    """The page's query parameters as typed by the visitor, kept as text to echo in the form."""

    lat: str
    lon: str
    radius_m: str
    category: str = ""
    cursor: str = ""

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
        )

    def feed_params(self, limit: int) -> dict[str, str | None]:
        """The parameters in the form `feed_query` reads, asking for `limit` incidents."""
        return {
            "lat": self.lat,
            "lon": self.lon,
            "radius_m": self.radius_m,
            "category": self.category or None,
            "cursor": self.cursor or None,
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
        return f"{FIELD_LABELS.get(name, name)}: {text}."

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
    return FeedPage(params, tuple(page), area, next_cursor)


def load_incident(platform: Runtime, raw_id: str) -> IncidentPublic:
    """One public incident by its id as written in a URL; NotFound for anything else."""
    if not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > MAX_ID_DIGITS:
        raise NotFound(f"incident {raw_id!r} not found")
    with platform.factory() as session:
        return service.get_public(session, int(raw_id))


def group_of(code: str) -> str:
    """The category group of a code: its first part ("fire" for "fire.structure")."""
    return code.split(".", 1)[0]


def category_options(current: str) -> list[OptionGroup]:
    """The category filter: each group and its codes; sensitive codes only when asked for."""
    groups: dict[str, list[Option]] = {}
    singles: list[Option] = []
    for code, category in taxonomy.categories().items():
        if category.sensitive and code != current:
            continue  # withheld by default, so a filter on them would always come back empty
        group = group_of(code)
        if group == code:
            singles.append(Option(code, category.label))
            continue
        options = groups.setdefault(group, [Option(group, f"All {group_label(group).lower()}")])
        options.append(Option(code, category.label))
    found = [OptionGroup(group_label(g), tuple(opts)) for g, opts in groups.items()]
    found.append(OptionGroup("More", tuple(sorted(singles, key=lambda o: o.label))))
    known = {o.value for g in found for o in g.options}
    if current and current not in known:
        found.insert(0, OptionGroup("Current filter", (Option(current, current),)))
    return found


def filter_label(category: str) -> str:
    """The category filter in words: 'all categories', a group, or a category's label."""
    if not category:
        return "all categories"
    known = taxonomy.categories().get(category)
    return known.label if known else group_label(category)


def group_label(group: str) -> str:
    """A person's name for a category group."""
    if group in GROUP_LABELS:
        return GROUP_LABELS[group]
    category = taxonomy.categories().get(group)
    return category.label if category else group.replace("_", " ").capitalize()


def radius_options(current: str, max_radius_m: float) -> list[Option]:
    """The radius choices up to the largest allowed, plus the current one if it is another."""
    options = [Option(f"{r:g}", distance_text(r)) for r in RADIUS_CHOICES_M if r <= max_radius_m]
    if current and current not in {o.value for o in options}:
        try:
            label = distance_text(float(current))
        except ValueError:
            label = current
        options.append(Option(current, label))
    return options


def distance_text(metres: float) -> str:
    """A distance as a person reads it: '800 m', '2 km', '1.5 km'."""
    if metres < 1000:
        return f"{metres:.0f} m"
    return f"{metres / 1000:.1f} km".replace(".0 km", " km")


def distance_from(area: Circle | None, incident: IncidentPublic) -> str:
    """How far the incident is from the centre of the searched place."""
    if area is None:
        return ""
    metres = geo.haversine_m(area.center.lat, area.center.lon, incident.lat, incident.lon)
    return f"{distance_text(round(metres, -2) if metres >= 100 else 100)} away"


def relative_age(moment: datetime, now: datetime | None = None) -> str:
    """How long ago, as a person says it: 'just now', '12 min ago', '3 h ago', '4 days ago'."""
    age = (now or utcnow()) - moment
    if age < timedelta(minutes=1):
        return "just now"
    minutes = int(age.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // (24 * 60)} days ago"


def coordinates_text(lat: float, lon: float) -> str:
    """A point as '47.6062° N, 122.3321° W' (no line break inside a coordinate)."""
    ns = "N" if lat >= 0 else "S"
    ew = "E" if lon >= 0 else "W"
    return f"{abs(lat):.4f}°\u00a0{ns}, {abs(lon):.4f}°\u00a0{ew}"


MEDIA_LABELS = {
    "photo": ("photo", "photos"),
    "clip": ("clip", "clips"),
    "processing": ("clip being blurred", "clips being blurred"),
    "failed": ("clip that could not be processed", "clips that could not be processed"),
}


def media_summary(ids: Sequence[int], kinds: Mapping[int, str] | None) -> str:
    """What a post carries, by kind and state: '1 photo, 2 clips being blurred'."""
    counts = Counter((kinds or {}).get(m, "photo") for m in ids)
    return ", ".join(f"{n} {MEDIA_LABELS[kind][n > 1]}" for kind, n in counts.items())


def content_security_policy(tile_url: str) -> str:
    """The pages' CSP: everything from this server; tile images also from the tile host."""
    images = "'self' data:"
    if tile_url:
        parts = urlsplit(tile_url.replace("{s}", "*"))
        images += (
            f" {parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else " https:"
        )
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src {images}; connect-src 'self'; font-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
