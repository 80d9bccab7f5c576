"""The new-post form as plain data: its fields as typed, the draft they make, the prompts shown.

The page posts the form as it is being written; `evaluate` runs the community guidelines
(`posts.guidelines`) over it and returns each finding as a prompt the resident reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from townsquare import taxonomy
from townsquare.posts import guidelines
from townsquare.posts.schemas import PersonIn, PostIn
from townsquare.web.display import Option, OptionGroup, group_label

DESCRIPTOR_FIELDS = 4
MAX_TZ_OFFSET_MIN = 14 * 60
COULD_BE_LABELS = (
    ("delivery", "A delivery"),
    ("solicitor", "A solicitor"),
    ("utility", "A utility worker"),
    ("neighbour", "A neighbour"),
    ("none", "None of these"),
)


@dataclass(frozen=True, slots=True)
class Prompt:
    """One thing the page tells the writer: `kind` is refusal, flag or note."""

    kind: str
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class PostForm:
    """The fields of the new-post form, as text, to parse and to echo back."""

    category: str = ""
    title: str = ""
    description: str = ""
    occurred_at: str = ""
    tz_offset: str = "0"
    lat: str = ""
    lon: str = ""
    about_person: bool = False
    action: str = ""
    descriptors: tuple[str, ...] = ("",) * DESCRIPTOR_FIELDS
    suspicious: bool = False
    could_be: str = ""

    @classmethod
    def from_form(cls, values: Mapping[str, str], descriptors: list[str]) -> PostForm:
        """The form from posted values (`descriptors` are the repeated descriptor fields)."""
        padded = [d.strip() for d in descriptors][:DESCRIPTOR_FIELDS]
        padded += [""] * (DESCRIPTOR_FIELDS - len(padded))
        return cls(
            category=values.get("category", "").strip(),
            title=values.get("title", ""),
            description=values.get("description", ""),
            occurred_at=values.get("occurred_at", "").strip(),
            tz_offset=values.get("tz_offset", "0").strip() or "0",
            lat=values.get("lat", "").strip(),
            lon=values.get("lon", "").strip(),
            about_person=bool(values.get("about_person")),
            action=values.get("action", ""),
            descriptors=tuple(padded),
            suspicious=bool(values.get("suspicious")),
            could_be=values.get("could_be", "").strip(),
        )


@dataclass(slots=True)
class Evaluation:
    """What the form makes: the draft (when it parses) and the prompts to show."""

    draft: PostIn | None = None
    prompts: list[Prompt] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        """True when something must change before the post can be sent."""
        return self.draft is None or any(p.kind == "refusal" for p in self.prompts)


def occurred_utc(form: PostForm) -> datetime | None:
    """The time it happened in UTC: a datetime-local value plus the browser's offset."""
    try:
        local = datetime.fromisoformat(form.occurred_at)
        offset = int(form.tz_offset)
    except ValueError:
        return None
    if abs(offset) > MAX_TZ_OFFSET_MIN:
        return None
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    # getTimezoneOffset() is UTC minus local time, in minutes.
    return local.replace(tzinfo=UTC) + timedelta(minutes=offset)


def person_of(form: PostForm) -> PersonIn | None:
    """The described person, when the writer says the post is about one."""
    if not form.about_person:
        return None
    return PersonIn(
        action=form.action.strip()[:300],
        descriptors=[d for d in form.descriptors if d],
        suspicious=form.suspicious,
        could_be=form.could_be or None,
    )


def _shape(form: PostForm, occurred_at: datetime | None) -> tuple[PostIn | None, list[Prompt]]:
    missing: list[Prompt] = []
    if occurred_at is None:
        missing.append(Prompt("refusal", "time", "Say when it happened (date and time)."))
    if not form.lat or not form.lon:
        missing.append(Prompt("refusal", "place", "Pick the place on the map."))
    if missing or occurred_at is None:
        return None, missing
    try:
        draft = PostIn(
            category=form.category,
            title=form.title,
            description=form.description,
            occurred_at=occurred_at,
            lat=form.lat,  # pydantic parses the text
            lon=form.lon,
            person=person_of(form),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "form"
        label = {"lat": "place", "lon": "place"}.get(name, name)
        return None, [Prompt("refusal", label, f"Check the {label}: {first['msg']}.")]
    return draft, []


def evaluate(form: PostForm, *, now: datetime) -> Evaluation:
    """Parse the form and run every guideline over it; each finding becomes a prompt."""
    occurred_at = occurred_utc(form)
    draft, prompts = _shape(form, occurred_at)
    person = person_of(form)
    outcome = guidelines.check(
        form.category,
        form.title,
        form.description,
        occurred_at or now,
        guidelines.Person(
            person.action, tuple(person.descriptors), person.suspicious, person.could_be
        )
        if person
        else None,
        now=now,
    )
    prompts += [Prompt("refusal", c.code, c.reason) for c in outcome.refusals]
    prompts += [Prompt("flag", c.code, c.reason) for c in outcome.flags if c.code != "old"]
    if outcome.fyi:
        prompts.append(
            Prompt("note", "fyi", "It will be published as an FYI for neighbours, never alerted.")
        )
    if occurred_at is not None and now - occurred_at > guidelines.OLD_AFTER:
        prompts.append(
            Prompt("note", "old", "Over an hour ago: it will be published without an alert.")
        )
    return Evaluation(draft, prompts)


def category_options() -> list[OptionGroup]:
    """The categories a resident may post under, by group."""
    groups: dict[str, list[Option]] = {}
    for code, category in taxonomy.categories().items():
        if category.sensitive or not code.startswith(guidelines.POSTABLE_GROUPS):
            continue
        group = code.split(".", 1)[0]
        groups.setdefault(group, []).append(Option(code, category.label))
    return [OptionGroup(group_label(g), tuple(opts)) for g, opts in groups.items()]
