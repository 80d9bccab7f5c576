"""POST requests: a GeoReport form becomes a resident's post, under every guideline.

The api_key is one of the resident's personal API tokens (accounts), so the post is theirs
as if made in the app: verified e-mail, rate limit, guidelines, moderation, privacy. The
contact fields of the spec (email, first_name, last_name, phone, device_id, account_id) and
media_url are ignored and never stored: the account already says who posted, and photos
are uploaded to /api/v1/media, not fetched from a URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy.orm import Session

from townsquare import taxonomy
from townsquare.accounts import signin
from townsquare.accounts.schemas import Actor
from townsquare.accounts.security import server_secret
from townsquare.errors import InvalidParameter, NotFound, Unauthorized
from townsquare.incidents.schemas import parse_time
from townsquare.open311.catalog import NOTICE, postable
from townsquare.open311.schemas import RequestCreated
from townsquare.posts import service as posts
from townsquare.posts.schemas import PersonIn, PostIn
from townsquare.settings import Settings

_ATTRIBUTE = re.compile(r"^attribute\[([A-Za-z0-9_]+)\](\[\])?$")


def form_fields(items: Iterable[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Plain fields (last value wins) and attributes (`attribute[code]`, `attribute[code][]`)."""
    fields: dict[str, str] = {}
    attributes: dict[str, list[str]] = {}
    for key, value in items:
        match = _ATTRIBUTE.match(key)
        if match:
            attributes.setdefault(match.group(1), []).append(value)
        else:
            fields[key] = value
    return fields, attributes


def _number(name: str, value: str | None) -> float:
    try:
        return float(value or "")
    except ValueError:
        raise InvalidParameter(
            name, "lat and long are required (this server does not geocode)"
        ) from None


def _person(attributes: dict[str, list[str]]) -> PersonIn | None:
    action = " ".join(attributes.get("person_action", [])).strip()
    lines = [line for v in attributes.get("person_descriptors", []) for line in v.splitlines()]
    descriptors = [d.strip() for d in lines if d.strip()]
    suspicious = "yes" in attributes.get("suspicious", [])
    could_be = next(iter(attributes.get("could_be", [])), "") or None
    if not (action or descriptors or suspicious or could_be):
        return None
    return PersonIn(
        action=action, descriptors=descriptors, suspicious=suspicious, could_be=could_be
    )


def draft_of(fields: dict[str, str], attributes: dict[str, list[str]], *, now: datetime) -> PostIn:
    """The post a GeoReport form describes; InvalidParameter or NotFound if it cannot be one."""
    code = fields.get("service_code", "").strip()
    if not code:
        raise InvalidParameter("service_code", "service_code is required")
    if code not in {c.code for c in postable()}:
        raise NotFound(f"service_code {code!r} not found")
    occurred = parse_time("occurred_at", (attributes.get("occurred_at") or [""])[0]) or now
    title = (attributes.get("title") or [""])[0].strip() or taxonomy.get(code).label
    try:
        return PostIn(
            category=code,
            title=title,
            description=fields.get("description", ""),
            occurred_at=occurred,
            lat=_number("lat", fields.get("lat")),
            lon=_number("long", fields.get("long")),
            person=_person(attributes),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        name = {"lon": "long"}.get(str(first["loc"][0]), str(first["loc"][0]))
        raise InvalidParameter(name, str(first["msg"])) from None


def authorised(session: Session, settings: Settings, api_key: str, *, now: datetime) -> Actor:
    """The resident whose personal API token `api_key` is; Unauthorized otherwise."""
    key = api_key.strip()
    if not key:
        raise Unauthorized("api_key is required: use one of your personal API tokens")
    return signin.authenticate(session, settings, cookie=None, bearer=key, now=now)


def create_request(
    session: Session,
    settings: Settings,
    items: Iterable[tuple[str, str]],
    *,
    api_key: str | None,
    now: datetime,
) -> RequestCreated:
    """Check the api_key, then submit the post; it waits for moderation like any other."""
    fields, attributes = form_fields(items)
    actor = authorised(session, settings, api_key or fields.get("api_key") or "", now=now)
    draft = draft_of(fields, attributes, now=now)
    own = posts.submit_post(session, settings, server_secret(settings), draft, actor=actor, now=now)
    return RequestCreated(service_request_id=f"post-{own.id}", service_notice=NOTICE)
