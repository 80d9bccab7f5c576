"""How the pages show values: the template filters, the choices of the feed's selects and
the quick places. Templates reach the functions as `pages.*` (see `kit.render`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from townsquare import geo, taxonomy
from townsquare.db import utcnow
from townsquare.i18n import N_
from townsquare.i18n import gettext as _
from townsquare.incidents.schemas import Circle, IncidentPublic

RADIUS_CHOICES_M = (500, 1000, 2000, 5000, 10_000, 25_000)


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


# The map's icons: a few groups people tell apart at a glance (taxonomy group -> icon).
ICON_OF_GROUP = {
    "fire": "fire",
    "rescue": "fire",
    "medical": "medical",
    "welfare": "medical",
    "police": "police",
    "crime": "police",
    "sensitive": "police",
    "traffic": "traffic",
    "safety": "hazard",
    "civil": "hazard",
    "animal": "hazard",
}
ICON_LABELS = {
    "fire": N_("Fire & rescue"),
    "medical": N_("Medical"),
    "police": N_("Police & crime"),
    "traffic": N_("Traffic"),
    "hazard": N_("Hazards"),
    "resident": N_("Resident post"),
    "other": N_("Other"),
}


def icon_of(code: str, resident: bool = False) -> str:
    """The map icon of an incident: 'resident' for a resident's post, else its group's."""
    return "resident" if resident else ICON_OF_GROUP.get(group_of(code), "other")


def group_of(code: str) -> str:
    """The category group of a code: its first part ("fire" for "fire.structure")."""
    return code.split(".", 1)[0]


def category_options(current: str, counts: Mapping[str, int]) -> list[OptionGroup]:
    """The category filter: the groups and codes present in the area, each with its count
    ('Structure fire (3)'); the current filter stays listed even when the area has none."""
    present: dict[str, dict[str, int]] = {}
    for code, n in counts.items():
        present.setdefault(group_of(code), {})[code] = n
    found: list[OptionGroup] = []
    for group in sorted(present, key=lambda g: (-sum(present[g].values()), group_label(g))):
        codes = present[group]
        label = _("All %(group)s (%(count)s)") % {
            "group": group_label(group).lower(),
            "count": sum(codes.values()),
        }
        options = [Option(group, label)]
        options += [
            Option(code, f"{label_of(code)} ({n})")
            for code, n in sorted(codes.items(), key=lambda item: (-item[1], item[0]))
        ]
        if len(codes) == 1 and current != group:
            options = options[1:]  # a group of one code: its 'All …' line would say the same
        found.append(OptionGroup(group_label(group), tuple(options)))
    known = {o.value for g in found for o in g.options}
    if current and current not in known:
        missing = Option(current, f"{filter_label(current)} (0)")
        found.insert(0, OptionGroup(_("Current filter"), (missing,)))
    return found


def label_of(code: str) -> str:
    """A category code's label, or the code itself when the taxonomy does not know it."""
    known = taxonomy.categories().get(code)
    return _(known.label) if known else code


def filter_label(category: str) -> str:
    """The category filter in words: 'all categories', a group, or a category's label."""
    if not category:
        return _("all categories")
    known = taxonomy.categories().get(category)
    return _(known.label) if known else group_label(category)


def group_label(group: str) -> str:
    """A person's name for a category group, in the reader's language."""
    return _(taxonomy.group_label(group))


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
    shown = distance_text(round(metres, -2) if metres >= 100 else 100)
    return _("%(distance)s away") % {"distance": shown}


def relative_age(moment: datetime, now: datetime | None = None) -> str:
    """How long ago, as a person says it: 'just now', '12 min ago', '3 h ago', '4 days ago'."""
    age = (now or utcnow()) - moment
    if age < timedelta(minutes=1):
        return _("just now")
    minutes = int(age.total_seconds() // 60)
    if minutes < 60:
        return _("%(num)d min ago") % {"num": minutes}
    if minutes < 48 * 60:
        return _("%(num)d h ago") % {"num": minutes // 60}
    return _("%(num)d days ago") % {"num": minutes // (24 * 60)}


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
    "photo processing": ("photo being blurred", "photos being blurred"),
    "photo failed": ("photo that could not be processed", "photos that could not be processed"),
}


def media_summary(ids: Sequence[int], kinds: Mapping[int, str] | None) -> str:
    """What a post carries, by kind and state: '1 photo, 2 clips being blurred'."""
    counts = Counter((kinds or {}).get(m, "photo") for m in ids)
    return ", ".join(f"{n} {MEDIA_LABELS[kind][n > 1]}" for kind, n in counts.items())


def share_text(incident: IncidentPublic) -> str:
    """What a shared incident link says: category, hundred block, rounded point, time; only
    fields of the public incident (no exact address, no name)."""
    where = incident.address_block or coordinates_text(incident.lat, incident.lon)
    return _("%(category)s near %(where)s (%(point)s, to about 100 m).") % {
        "category": label_of(incident.category),
        "where": where,
        "point": coordinates_text(incident.lat, incident.lon),
    }


def feed_share_text(area: Circle | None) -> str:
    """What a shared feed link says: the place and radius of the list."""
    if area is None:
        return _("Public safety calls near a place, newest first.")
    return _("Public safety calls within %(radius)s of %(point)s, newest first.") % {
        "radius": distance_text(area.radius_m),
        "point": coordinates_text(area.center.lat, area.center.lon),
    }


STATE_LABELS = {"active": N_("Active"), "closed": N_("Closed")}
PROVENANCE_LABELS = {
    "dispatch-confirmed": N_("dispatch-confirmed"),
    "agency": N_("agency"),
    "resident, unverified": N_("resident, unverified"),
    "resident, corroborated by dispatch": N_("resident, corroborated by dispatch"),
}


def state_label(status: str) -> str:
    """An incident's status in words of the reader's language: 'Active', 'Closed'."""
    label = STATE_LABELS.get(status)
    return _(label) if label else status.capitalize()


def provenance_label(provenance: str) -> str:
    """Where an incident comes from, in the reader's language."""
    label = PROVENANCE_LABELS.get(provenance)
    return _(label) if label else provenance


SCRIPT_TEXT = (
    N_("just now"),
    N_("{n} min ago"),
    N_("{n} h ago"),
    N_("{n} days ago"),
    N_("The map shows the newest {n} incidents: zoom or filter to see the rest."),
    N_("The server could not be reached. Check your connection and try again."),
    N_("Something went wrong on our side. Please try again in a moment."),
    N_("New incidents above: search again to see them."),
    N_("{n} incidents here: zoom in"),
    N_("{n} incidents here"),
    N_("{n} place found; use up and down to choose."),
    N_("{n} places found; use up and down to choose."),
    N_("No place found."),
    N_("Place search is not available right now."),
    N_("Finding where you are…"),
    N_("Showing where you are."),
    N_("Your browser did not give a position."),
)
"""The sentences the pages' scripts write, given to them in the page's language."""


def script_text() -> dict[str, str]:
    """The scripts' sentences in the reader's language, by their English (for base.html)."""
    return {text: _(text) for text in SCRIPT_TEXT}


CODE_TEXT = (
    N_("this browser (push)"),
    N_("e-mail"),
    N_("a webhook URL"),
    N_("more than usual"),
    N_("about usual"),
    N_("fewer than usual"),
    N_("no history yet"),
    N_("All categories"),
    N_(
        "Only public incidents are counted: withheld and removed calls never are, "
        "and agency footage requests are not incidents."
    ),
)
"""Words other modules write in English (channel names, the weekly comparison, which the API
also answers with): shown through `text_of` in the reader's language."""


def text_of(english: str) -> str:
    """A sentence another module wrote in English, in the reader's language when known."""
    return _(english)
