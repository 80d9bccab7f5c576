"""Who may call what: every route of the app, every role, one table.

`MATRIX` names, for each route of `create_app()` (method and path), the expected outcome for
each role: "allow" (2xx/3xx), "deny" (401, 403, 404, or a page redirecting to the sign-in
form), "refused" (409 or 422: the caller passed the permission check, then the object's state
or the input said no, e.g. two-factor already on, a wrong code) or "skip: why". A route
of the app missing from the table fails `test_every_route_is_in_the_table`, naming it: a
new route is a new row, decided on purpose.

The objects are real and belong to "owner": a published post with a photo, a pending post,
a watch area (its manage token), a personal API token. Accounts are made by sign-up with the
mailed link (a local SMTP server), privileged roles granted as `townsquare users grant` does
and used in sessions signed in with two-factor codes; agencies are registered and verified
by the operator over the API. One app and one store serve the whole module.
"""

from __future__ import annotations

import io
import re
import shutil
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from httpx import Response
from PIL import Image
from pydantic import SecretStr

from tests.support.clips import finish_clips
from tests.support.feeds import config
from tests.support.people import SEATTLE, TACOMA, register
from tests.support.residents import PASSWORD, Mailbox, Person, resident, sign_in, sign_up
from townsquare.accounts import grants
from townsquare.app import create_app
from townsquare.db import make_engine, make_sessionmaker, transaction, utcnow
from townsquare.incidents.models import Incident
from townsquare.ingest import service as ingest
from townsquare.platform import Platform
from townsquare.settings import Settings

SIGN_IN, RESET, CANDIDATE = "signin@example.org", "reset@example.org", "candidate@example.org"
ROLES = ("anonymous", "owner", "other", "moderator", "officer_a", "officer_b", "operator")
ALLOW, DENY, REFUSED = "allow", "deny", "refused"
Row = dict[str, str]


def only(*allowed: str) -> Row:
    """Allowed for these roles, denied to the others."""
    return {role: ALLOW if role in allowed else DENY for role in ROLES}


def skip(reason: str) -> Row:
    """Not called here, for the reason given (kept few)."""
    return dict.fromkeys(ROLES, f"skip: {reason}")


PUBLIC = only(*ROLES)
SIGNED_IN = only(*ROLES[1:])
OWNER = only("owner")
MODERATOR = only("moderator")
OPERATOR = only("operator")
OFFICER_A = only("officer_a")
OFFICERS = only("officer_a", "officer_b")
NOBODY = only()
TOTP_OFF = only("owner", "other") | dict.fromkeys(("moderator", "officer_a", "officer_b"), REFUSED)
TOTP_OFF["operator"] = REFUSED  # two-factor already on: setting it up again is a conflict
TOTP_ON_REFUSED = only() | dict.fromkeys(ROLES[1:], REFUSED)
# Residents have no two-factor to turn off (409); privileged roles may not turn it off (403).
TOTP_DISABLE = only() | {"owner": REFUSED, "other": REFUSED}
CLIPS = "needs a processed video clip (ffmpeg per call); tests/footage covers who may"

MATRIX: dict[str, Row] = {
    # the feed and its formats: anyone
    "GET /api/v1/openapi.json": PUBLIC,
    "GET /api/v1/docs": PUBLIC,
    "GET /healthz": PUBLIC,
    "GET /readyz": PUBLIC,
    "GET /metrics": PUBLIC,  # counts and timings of no one (docs/operations.md)
    "GET /api/v1/problems/{slug}": PUBLIC,
    "GET /api/v1/incidents": PUBLIC,
    "GET /api/v1/incidents/{incident_id}": PUBLIC,
    "GET /feeds/atom": PUBLIC,
    "GET /feeds/cap": PUBLIC,
    "GET /feeds/cap/{incident_id}.xml": PUBLIC,
    "GET /api/v1/sources": PUBLIC,
    "GET /api/v1/sources/{source_id}/policy": PUBLIC,
    "GET /api/v1/push/key": PUBLIC,
    "GET /api/v1/stream": skip("an event stream never ends; tests/live reads it with a bound"),
    "GET /": PUBLIC,
    "GET /fragments/incidents": PUBLIC,
    "GET /fragments/map-points": PUBLIC,
    "GET /incidents/{incident_id}": PUBLIC,
    "GET /alerts": PUBLIC,
    # the links of alert mail: the token in the link is the key (tests/alerts/test_optin.py)
    "GET /alerts/confirm/{token}": PUBLIC,  # a page with a button; a GET confirms nothing
    "POST /alerts/confirm/{token}": only(),  # a token nobody was mailed confirms nothing: 404
    "GET /alerts/unsubscribe/{token}": PUBLIC,
    "POST /alerts/unsubscribe/{token}": PUBLIC,  # a forged token names nothing: "already gone"
    "GET /api/v1/weekly": PUBLIC,
    "GET /weekly": PUBLIC,
    # the street basemap: anyone, as every map draws it
    "GET /tiles/index.json": PUBLIC,
    "GET /tiles/{name}.pmtiles": PUBLIC,
    # place search: anyone, as every map offers it
    "GET /api/v1/places": PUBLIC,
    "GET /places": PUBLIC,
    # readers' marks on an alert: anyone, one vote each
    "POST /api/v1/incidents/{incident_id}/feedback": PUBLIC,
    "POST /incidents/{incident_id}/feedback": PUBLIC,
    # a push is authenticated by the source's key and signature, never by a session
    "POST /api/v1/sources/{slug}/records": NOBODY,
    # watch areas: anyone subscribes; the manage token is the owner
    "POST /api/v1/subscriptions": PUBLIC,
    "GET /api/v1/subscriptions/{subscription_id}": OWNER,
    "DELETE /api/v1/subscriptions/{subscription_id}": OWNER,
    "GET /api/v1/subscriptions/{subscription_id}/deliveries": OWNER,
    "POST /api/v1/subscriptions/{subscription_id}/deliveries/retry": OWNER,
    # accounts: before a session, anyone; after, oneself
    "POST /api/v1/account/sign-up": PUBLIC,
    "POST /api/v1/account/verify": PUBLIC,
    "POST /api/v1/account/sign-in": PUBLIC,
    "POST /api/v1/account/password-reset": PUBLIC,
    "POST /api/v1/account/password": PUBLIC,
    "POST /api/v1/account/sign-out": SIGNED_IN,
    "GET /api/v1/account": SIGNED_IN,
    "POST /api/v1/account/tokens": SIGNED_IN,
    "POST /api/v1/account/totp": TOTP_OFF,
    "POST /api/v1/account/totp/confirm": TOTP_ON_REFUSED,
    "POST /api/v1/account/totp/disable": TOTP_DISABLE,
    "GET /api/v1/me/export": SIGNED_IN,
    "DELETE /api/v1/me": SIGNED_IN,
    # posts: the author; moderators read and decide
    "POST /api/v1/posts": SIGNED_IN,
    "GET /api/v1/posts/mine": SIGNED_IN,
    "GET /api/v1/posts/{post_id}": OWNER,  # moderators read the scrubbed queue instead
    "PATCH /api/v1/posts/{post_id}": OWNER,
    "DELETE /api/v1/posts/{post_id}": OWNER,
    "POST /api/v1/posts/{post_id}/close": OWNER,
    "POST /api/v1/posts/{post_id}/appeal": OWNER,
    "GET /api/v1/posts/{post_id}/public": PUBLIC,
    "GET /api/v1/moderation/queue": MODERATOR,
    "POST /api/v1/moderation/posts/{post_id}/{action}": MODERATOR,
    "POST /api/v1/moderation/posts/{post_id}/exact-point": MODERATOR,
    "GET /api/v1/desk/queue": MODERATOR,
    "GET /api/v1/desk/incidents/{incident_id}": MODERATOR,
    "GET /api/v1/desk/quality": MODERATOR,
    "POST /api/v1/desk/incidents/{incident_id}/{action}": MODERATOR,
    "POST /api/v1/media": SIGNED_IN,
    "GET /api/v1/media/{media_id}": OWNER,
    "GET /api/v1/media/{media_id}/original": OWNER,
    "GET /api/v1/media/{media_id}/info": OWNER,
    "GET /api/v1/media/{media_id}/review": MODERATOR,
    "GET /api/v1/media/public/{name}": PUBLIC,  # the blurred copy on the published post
    # agencies: the registry is public; operators write it; each agency its own
    "GET /api/v1/agencies": PUBLIC,
    "GET /api/v1/agencies/{slug}": PUBLIC,
    "POST /api/v1/agencies": OPERATOR,
    "POST /api/v1/agencies/{slug}/verify": OPERATOR,
    "POST /api/v1/agencies/{slug}/admins": OPERATOR,
    "GET /api/v1/agency/incidents": OFFICERS,
    "GET /api/v1/agency/members": NOBODY,  # admins only; no role here is one
    "POST /api/v1/agency/officers": NOBODY,
    "DELETE /api/v1/agency/officers/{account_id}": NOBODY,
    "GET /api/v1/agency/sources": NOBODY,
    "POST /api/v1/agency/sources/{slug}/key": NOBODY,
    "DELETE /api/v1/agency/sources/{slug}/key": NOBODY,
    "POST /api/v1/agency/updates": OFFICERS,
    "PATCH /api/v1/agency/updates/{incident_id}": OFFICER_A,
    "DELETE /api/v1/agency/updates/{incident_id}": OFFICER_A,
    # Open311: reads for anyone; a request is created with a personal API token
    "GET /open311/v2/discovery.{fmt}": PUBLIC,
    "GET /open311/v2/services.{fmt}": PUBLIC,
    "GET /open311/v2/services/{code}.{fmt}": PUBLIC,
    "GET /open311/v2/requests.{fmt}": PUBLIC,
    "GET /open311/v2/requests/{rid}.{fmt}": PUBLIC,
    "POST /open311/v2/requests.{fmt}": OWNER,
    # footage: cameras are their owner's; requests are public, their shares their agency's
    "POST /api/v1/cameras": SIGNED_IN,
    "GET /api/v1/cameras": SIGNED_IN,
    "DELETE /api/v1/cameras/{camera_id}": OWNER,
    "POST /api/v1/cameras/{camera_id}/token": OWNER,
    "GET /api/v1/cameras/{camera_id}/clips": OWNER,
    "POST /api/v1/cameras/{camera_id}/clips": skip(CLIPS),
    "POST /api/v1/footage/requests": OFFICERS,
    "GET /api/v1/footage/requests/{request_id}": PUBLIC,
    "GET /api/v1/footage/requests/{request_id}/shares": OFFICER_A,
    "POST /api/v1/footage/requests/{request_id}/shares": skip(CLIPS),
    "POST /api/v1/footage/requests/{request_id}/decline": OWNER,  # the notified camera owner
    "GET /api/v1/footage/inbox": SIGNED_IN,
    "POST /api/v1/footage/shares/{share_id}/revoke": skip(CLIPS),
    "POST /api/v1/footage/shares/{share_id}/extend": skip(CLIPS),
    "GET /api/v1/footage/shares/{share_id}/video": skip(CLIPS),
    "POST /api/v1/footage/break-glass": OPERATOR,
    "GET /api/v1/footage/break-glass/clips/{clip_id}/video": skip(CLIPS),
    "GET /api/v1/footage/break-glass/cameras/{camera_id}": OPERATOR,
    "GET /api/v1/me/access-log": SIGNED_IN,
    "GET /api/v1/agencies/{slug}/footage-requests": PUBLIC,
    "GET /api/v1/transparency": PUBLIC,
    "GET /api/v1/transparency.csv": PUBLIC,
    "GET /api/v1/agencies/{slug}/transparency": PUBLIC,
    "GET /api/v1/agencies/{slug}/transparency.csv": PUBLIC,
    # resident pages: forms before a session for anyone, the rest for the signed-in
    "GET /sign-up": PUBLIC,
    "POST /sign-up": PUBLIC,
    "GET /verify": PUBLIC,
    "POST /verify": PUBLIC,
    "GET /sign-in": PUBLIC,
    "POST /sign-in": PUBLIC,
    "POST /sign-in/code": skip("a fresh two-factor code per call (one per 30 s); tests/web"),
    "GET /forgot-password": PUBLIC,
    "POST /forgot-password": PUBLIC,
    "GET /reset": PUBLIC,
    "POST /reset": PUBLIC,
    "POST /sign-out": SIGNED_IN,
    "GET /account": SIGNED_IN,
    "POST /account/totp": TOTP_OFF,
    "POST /account/totp/confirm": TOTP_ON_REFUSED,
    "POST /account/totp/disable": TOTP_DISABLE,
    "POST /verify/resend": PUBLIC,  # the same answer for any address
    "GET /account/email/confirm": PUBLIC,
    "POST /account/email/confirm": skip("a link mailed per change; tests/web covers it"),
    "POST /account/verify/resend": SIGNED_IN,
    "POST /account/password": only() | dict.fromkeys(ROLES[1:], REFUSED),  # no password sent
    "POST /account/email": only() | dict.fromkeys(ROLES[1:], REFUSED),  # no address sent
    "POST /account/delete": only() | dict.fromkeys(ROLES[1:], REFUSED),  # box not ticked
    "POST /account/sign-out-everywhere": skip("ends the role's sessions; tests/web covers it"),
    "GET /dev/outbox": NOBODY,  # only a local demo with console mail has it
    "GET /posts/new": SIGNED_IN,
    "POST /posts/check": SIGNED_IN,
    "POST /posts/new": SIGNED_IN,
    "GET /posts/mine": SIGNED_IN,
    "POST /posts/{post_id}/appeal": OWNER,
    "POST /posts/{post_id}/edit": OWNER,
    "POST /posts/{post_id}/close": OWNER,
    "POST /posts/{post_id}/delete": OWNER,
    "GET /moderation": MODERATOR,
    "POST /moderation/posts/{post_id}/{action}": MODERATOR,
    "POST /moderation/posts/{post_id}/exact-point": MODERATOR,
    "GET /desk": MODERATOR,
    "GET /desk/fragments/queue": MODERATOR,
    "GET /desk/fragments/quality": MODERATOR,
    "POST /desk/incidents/{incident_id}/{action}": MODERATOR,
    "GET /desk/fragments/changes": MODERATOR,
    # the operator's pages
    "GET /operator": OPERATOR,
    "GET /operator/agencies": OPERATOR,
    "GET /operator/agencies/{slug}": OPERATOR,
    "POST /operator/agencies/{slug}/verify": OPERATOR,
    "GET /operator/roles": OPERATOR,
    "POST /operator/roles/{change}": {**only(), "operator": REFUSED},  # a role not held: 409
    "GET /operator/sources": OPERATOR,
    "GET /operator/sources/{slug}/quarantine": OPERATOR,
    "GET /operator/audit": OPERATOR,
    # footage pages: the portal is the officers'; inbox, cameras and access log one's own
    "GET /agency": OFFICERS,
    "POST /agency/requests": OFFICERS,
    "GET /footage": SIGNED_IN,
    "POST /footage/requests/{request_id}/share": skip(CLIPS),
    "POST /footage/requests/{request_id}/decline": OWNER,
    "POST /footage/shares/{share_id}/revoke": skip(CLIPS),
    "POST /footage/shares/{share_id}/extend": skip(CLIPS),
    "GET /cameras": SIGNED_IN,
    "POST /cameras": SIGNED_IN,
    "POST /cameras/{camera_id}/token": OWNER,
    "POST /cameras/{camera_id}/delete": OWNER,
    "GET /account/access-log": SIGNED_IN,
    "GET /transparency": PUBLIC,
    "GET /language": PUBLIC,
    "GET /manifest.webmanifest": PUBLIC,
}


def app_routes(app: FastAPI) -> list[str]:
    """Every "METHOD path" the app answers (HEAD left out; the static mount is files)."""
    found = []
    for context in iter_route_contexts(app.routes):
        for method in sorted((context.methods or set()) - {"HEAD"}):
            found.append(f"{method} {context.path}")
    return found


# ---- the world: one app, one store, one SMTP server for the module --------------------------


@dataclass
class World:
    """The app, a client per role, and the owner's objects."""

    app: FastAPI
    box: Mailbox
    people: dict[str, Person]
    spare: dict[str, list[Person]]
    objects: dict[str, Any] = field(default_factory=dict)
    counter: int = 0

    def client(self, role: str) -> TestClient:
        """The role's client (the anonymous one has no cookie)."""
        return TestClient(self.app) if role == "anonymous" else self.people[role].client

    def headers(self, role: str) -> dict[str, str]:
        """The CSRF header of the role's session."""
        return {} if role == "anonymous" else self.people[role].headers

    def fresh(self, stem: str) -> str:
        """A new e-mail address."""
        self.counter += 1
        return f"{stem}{self.counter}@example.org"


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on loopback for the module."""
    box = Mailbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture(scope="module")
def world(
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    smtp: tuple[Mailbox, int],
    place_index: Path,
) -> Iterator[World]:
    """Everything the table's calls need, made once."""
    folder = tmp_path_factory.mktemp("authz")
    shutil.copy(sqlite_template, folder / "townsquare.db")
    engine = make_engine(f"sqlite:///{folder / 'townsquare.db'}")
    factory = make_sessionmaker(engine)
    settings = Settings(
        database_url=SecretStr(engine.url.render_as_string(hide_password=False)),
        data_dir=folder,
        account_mail="smtp",
        smtp_host="127.0.0.1",
        smtp_port=smtp[1],
        secret_key=SecretStr("authz secret"),
        posts_per_hour=1000,  # the table makes many posts of one owner
        footage_requests_per_day=1000,  # and many footage requests of one agency
        vapid_public_key="BPublicKeyOfTheAuthorizationTest",
        places_index=place_index,
    )
    app = create_app(platform=Platform(settings, engine, factory))
    with pytest.MonkeyPatch.context() as env, TestClient(app) as client:
        env.setenv("AUTHZ_KEY", "the agency's key")  # a push source with credentials
        env.setenv("AUTHZ_SECRET", "the agency's secret")
        box = smtp[0]
        people: dict[str, Person] = {}
        spare: dict[str, list[Person]] = {}
        for role in ("owner", "other"):
            people[role] = resident(client, box, f"{role}@example.org")
            spare[role] = [sign_in(client, f"{role}@example.org") for _ in range(2)]
        grants = {"moderator": None, "operator": None, "officer_a": "agency-a"}
        grants |= {"officer_b": "agency-b"}
        for role in ("operator", "moderator"):
            people[role], spare[role] = _two_factor(client, box, f"{role}@example.org")
            accounts_grant(factory, f"{role}@example.org", role, None)
        register(people["operator"], "agency-a", SEATTLE)
        register(people["operator"], "agency-b", TACOMA)
        for role in ("officer_a", "officer_b"):
            people[role], spare[role] = _two_factor(client, box, f"{role}@example.org")
            accounts_grant(factory, f"{role}@example.org", "agency_officer", grants[role])
        for email in (SIGN_IN, RESET, CANDIDATE):  # accounts the public forms act on
            sign_up(client, box, email)
        found = World(app, box, people, spare)
        _owner_objects(found, factory)
        yield found
    engine.dispose()


def accounts_grant(factory: Any, email: str, role: str, agency: str | None) -> None:
    """Grant a role as `townsquare users grant` does."""
    with factory() as session:
        grants.grant_role(session, email, role, actor_id=None, agency=agency)


def _two_factor(client: TestClient, box: Mailbox, email: str) -> tuple[Person, list[Person]]:
    """A person with two-factor on and three sessions that passed it (one to end per test)."""
    first = resident(client, box, email)
    totp, now = pyotp.TOTP(first.post("/api/v1/account/totp").json()["secret"]), utcnow()
    # Three distinct time steps, all valid now: enrolment, then two sign-ins.
    code = totp.at(now, counter_offset=-1)
    assert first.post("/api/v1/account/totp/confirm", json={"code": code}).status_code == 204
    return first, [sign_in(client, email, totp.at(now, counter_offset=k)) for k in (0, 1)]


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (160, 120), (90, 140, 200)).save(out, "JPEG")
    return out.getvalue()


def _draft(**changes: Any) -> dict[str, Any]:
    body = {
        "category": "safety.hazard",
        "title": "Downed power line",
        "description": "A power line is down across the sidewalk near the park entrance.",
        "occurred_at": (utcnow() - timedelta(minutes=10)).isoformat(),
        "lat": 47.6101,
        "lon": -122.3421,
    }
    return body | changes


def _post(world: World, *, decide: str | None, media: list[int] | None = None) -> int:
    """A post by the owner, decided by the moderator ("approve", "reject") or left pending."""
    made = world.people["owner"].post("/api/v1/posts", json=_draft(media_ids=media or []))
    assert made.status_code == 201, made.text
    post_id = int(made.json()["id"])
    if decide:
        url = f"/api/v1/moderation/posts/{post_id}/{decide}"
        answer = world.people["moderator"].post(url, json={"reason": "checked by the test"})
        assert answer.status_code == 200, answer.text
    return post_id


def _public_media(world: World) -> str:
    """The public URL of the published post's photo, as its public form gives it."""
    shown = TestClient(world.app).get(f"/api/v1/posts/{world.objects['post']}/public")
    return str(shown.json()["media"][0]["url"])


def _subscription(world: World) -> tuple[int, str]:
    body = {
        "area": {"type": "circle", "lat": 47.61, "lon": -122.34, "radius_m": 800},
        # a new address each time: the same address and area would be the same subscription
        "channels": [{"kind": "email", "address": world.fresh("owner")}],
    }
    made = TestClient(world.app).post("/api/v1/subscriptions", json=body)
    assert made.status_code == 201, made.text
    return int(made.json()["subscription"]["id"]), str(made.json()["manage_token"])


def _owner_objects(world: World, factory: Any) -> None:
    owner = world.people["owner"]
    media = owner.post("/api/v1/media", files={"file": ("p.jpg", _photo(), "image/jpeg")})
    assert media.status_code == 201, media.text
    finish_clips(owner.client)  # the photo is blurred by the media job
    world.objects["media"] = media.json()["id"]
    world.objects["post"] = _post(world, decide="approve", media=[world.objects["media"]])
    with factory() as session:
        from townsquare.posts.models import Post

        world.objects["incident"] = session.get_one(Post, world.objects["post"]).incident_id
    world.objects["subscription"] = _subscription(world)
    token = owner.post("/api/v1/account/tokens", json={"name": "open311"})
    world.objects["api_token"] = token.json()["token"]
    source = config(
        "push",
        "",
        slug="agency-a-cad",
        agency={"slug": "agency-a", "name": "Agency A", "time_zone": "UTC"},
        push={"format": "json", "key_env": "AUTHZ_KEY", "secret_env": "AUTHZ_SECRET"},
    )
    world.objects["camera"] = _camera(world)
    world.objects["request"] = _footage_request(world, "officer_a")
    with transaction(factory) as session:
        world.objects["source"] = ingest.ensure_source(session, source).id
    world.objects["alert"] = _update(world)  # sent as an alert, for readers to mark
    with transaction(factory) as session:
        session.get_one(Incident, world.objects["alert"]).alertable = True


def _camera(world: World) -> int:
    body = {"name": "Porch", "lat": 47.6101, "lon": -122.3421}
    made = world.people["owner"].post("/api/v1/cameras", json=body)
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _request_body(role: str) -> dict[str, Any]:
    now = utcnow()
    lat, lon = (47.25, -122.44) if role == "officer_b" else (47.6101, -122.3421)
    return {
        "case_number": "2026-001234",
        "reason": "A burglary on the block; looking for a person leaving by the alley.",
        "circle": {"lat": lat, "lon": lon, "radius_m": 300},
        "window_start": (now - timedelta(hours=3)).isoformat(),
        "window_end": (now - timedelta(hours=1)).isoformat(),
        "expires_at": (now + timedelta(days=3)).isoformat(),
    }


def _page_request(role: str) -> dict[str, str]:
    """The portal's form of `_request_body` (times in UTC, as the form says)."""
    body = _request_body(role)
    form = {k: str(body[k]) for k in ("case_number", "reason")}
    form |= {k: str(v) for k, v in body["circle"].items()}
    for name in ("window_start", "window_end", "expires_at"):
        form[name] = body[name][:16]
    return form


def _footage_request(world: World, role: str) -> int:
    made = world.people[role].post("/api/v1/footage/requests", json=_request_body(role))
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _break_glass_camera(world: World, role: str) -> Response:
    grant = {"target": "camera", "target_id": world.objects["camera"]}
    grant["reason"] = "A child is missing; this camera faces the last place seen."
    assert world.people["operator"].post("/api/v1/footage/break-glass", json=grant).is_success
    return _send(world, role, "GET", f"/api/v1/footage/break-glass/cameras/{grant['target_id']}")


# ---- how each route is called ---------------------------------------------------------------

Call = Callable[[World, str], Response]


def _send(world: World, role: str, method: str, url: str, **kwargs: Any) -> Response:
    headers = world.headers(role) | kwargs.pop("headers", {})
    client = world.client(role)
    return client.request(method, url, headers=headers, follow_redirects=False, **kwargs)


def _form_page(world: World, role: str, page: str, post: str, data: dict[str, str]) -> Response:
    """A pre-session form as a browser sends it: its page first, for the form token."""
    client = TestClient(world.app)  # a browser of its own: the form is about to sign someone in
    if role != "anonymous":
        client.cookies.update(world.client(role).cookies)
    shown = client.get(page)
    token = re.search(r'name="form_token" value="([^"]+)"', shown.text)
    fields = data | ({"form_token": token.group(1)} if token else {})
    return client.post(post, data=fields, headers=world.headers(role), follow_redirects=False)


def _update(world: World) -> int:
    body = {
        "category": "safety.hazard",
        "title": "Road closed for repairs",
        "occurred_at": utcnow().isoformat(),
        "lat": 47.61,
        "lon": -122.34,
    }
    made = world.people["officer_a"].post("/api/v1/agency/updates", json=body)
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _signed_up(world: World) -> str:
    """The verification token of a fresh sign-up."""
    email = world.fresh("verify")
    body = {"email": email, "password": PASSWORD}
    assert TestClient(world.app).post("/api/v1/account/sign-up", json=body).status_code == 201
    return world.box.link(email, "/verify")


def _reset_token(world: World) -> str:
    """A new reset link of the account kept for resets (its password stays PASSWORD)."""
    answer = TestClient(world.app).post("/api/v1/account/password-reset", json={"email": RESET})
    assert answer.status_code == 202
    return world.box.link(RESET, "/reset")


def _reset_page(world: World, role: str) -> Response:
    token = _reset_token(world)
    data = {"token": token, "password": PASSWORD}
    return _form_page(world, role, f"/reset?token={token}", "/reset", data)


def _spare(world: World, role: str) -> Person:
    return world.spare[role].pop()


def _sub(world: World, role: str, method: str, suffix: str = "") -> Response:
    sub_id, token = world.objects["subscription"]
    if method == "DELETE":
        sub_id, token = _subscription(world)
    auth = {"Authorization": f"Bearer {token}"} if role == "owner" else {}
    client = TestClient(world.app)  # the manage token, not a session, is the credential
    return client.request(method, f"/api/v1/subscriptions/{sub_id}{suffix}", headers=auth)


def _sign_out(world: World, role: str, url: str) -> Response:
    if role == "anonymous":
        return TestClient(world.app).post(url, follow_redirects=False)
    person = _spare(world, role)
    return person.client.post(url, headers=person.headers, follow_redirects=False)


def _delete_me(world: World, role: str) -> Response:
    if role == "anonymous":
        return TestClient(world.app).delete("/api/v1/me")
    person = world.people[role]  # the very last call: the account goes with its sessions
    # Signed in minutes ago: no password needed (and no argon2 check per call).
    return person.client.request("DELETE", "/api/v1/me", headers=person.headers)


def _open311(world: World, role: str) -> Response:
    # The personal API token is the owner's: the caller passes the token they hold.
    key = world.objects["api_token"] if role == "owner" else ""
    data = {
        "service_code": "safety.hazard",
        "lat": "47.6101",
        "long": "-122.3421",
        "description": "A tree branch is hanging low over the bike lane on Pine.",
    }
    return TestClient(world.app).post(f"/open311/v2/requests.json?api_key={key}", data=data)


CALLS: dict[str, Call] = {
    "GET /api/v1/problems/{slug}": lambda w, r: _send(w, r, "GET", "/api/v1/problems/not-found"),
    "GET /api/v1/incidents": lambda w, r: _send(
        w, r, "GET", "/api/v1/incidents?lat=47.61&lon=-122.34&radius_m=2000"
    ),
    "GET /fragments/incidents": lambda w, r: _send(
        w, r, "GET", "/fragments/incidents?lat=47.61&lon=-122.34&radius_m=2000"
    ),
    "GET /fragments/map-points": lambda w, r: _send(
        w, r, "GET", "/fragments/map-points?lat=47.61&lon=-122.34&radius_m=2000"
    ),
    "GET /feeds/atom": lambda w, r: _send(w, r, "GET", "/feeds/atom?lat=47.61&lon=-122.34"),
    "GET /feeds/cap": lambda w, r: _send(w, r, "GET", "/feeds/cap?lat=47.61&lon=-122.34"),
    "POST /api/v1/sources/{slug}/records": lambda w, r: _send(
        w, r, "POST", "/api/v1/sources/agency-a-cad/records", content=b"[]"
    ),
    "POST /api/v1/subscriptions": lambda w, r: _send(
        w,
        r,
        "POST",
        "/api/v1/subscriptions",
        json={
            "area": {"type": "circle", "lat": 47.61, "lon": -122.34, "radius_m": 500},
            "channels": [{"kind": "email", "address": "someone@example.org"}],
        },
    ),
    "GET /api/v1/subscriptions/{subscription_id}": lambda w, r: _sub(w, r, "GET"),
    "DELETE /api/v1/subscriptions/{subscription_id}": lambda w, r: _sub(w, r, "DELETE"),
    "GET /api/v1/subscriptions/{subscription_id}/deliveries": lambda w, r: _sub(
        w, r, "GET", "/deliveries"
    ),
    "POST /api/v1/subscriptions/{subscription_id}/deliveries/retry": lambda w, r: _sub(
        w, r, "POST", "/deliveries/retry"
    ),
    "POST /api/v1/account/sign-up": lambda w, r: _send(
        w, r, "POST", "/api/v1/account/sign-up", json={"email": w.fresh("s"), "password": PASSWORD}
    ),
    "POST /api/v1/account/verify": lambda w, r: _send(
        w, r, "POST", "/api/v1/account/verify", json={"token": _signed_up(w)}
    ),
    "POST /api/v1/account/sign-in": lambda w, r: TestClient(w.app).post(
        "/api/v1/account/sign-in", json={"email": SIGN_IN, "password": PASSWORD}
    ),
    "POST /api/v1/account/password-reset": lambda w, r: _send(
        w, r, "POST", "/api/v1/account/password-reset", json={"email": "owner@example.org"}
    ),
    "POST /api/v1/account/password": lambda w, r: _send(
        w,
        r,
        "POST",
        "/api/v1/account/password",
        json={"token": _reset_token(w), "password": PASSWORD},
    ),
    "POST /api/v1/account/sign-out": lambda w, r: _sign_out(w, r, "/api/v1/account/sign-out"),
    "POST /api/v1/account/tokens": lambda w, r: _send(
        w, r, "POST", "/api/v1/account/tokens", json={"name": "script"}
    ),
    "POST /api/v1/account/totp/confirm": lambda w, r: _send(
        w, r, "POST", "/api/v1/account/totp/confirm", json={"code": "000000"}
    ),
    "POST /api/v1/account/totp/disable": lambda w, r: _send(
        w, r, "POST", "/api/v1/account/totp/disable", json={"code": "000000"}
    ),
    "DELETE /api/v1/me": _delete_me,
    "POST /api/v1/posts": lambda w, r: _send(w, r, "POST", "/api/v1/posts", json=_draft()),
    "GET /api/v1/posts/{post_id}": lambda w, r: _send(
        w, r, "GET", f"/api/v1/posts/{w.objects['post']}"
    ),
    "POST /api/v1/posts/{post_id}/appeal": lambda w, r: _send(
        w,
        r,
        "POST",
        f"/api/v1/posts/{_post(w, decide='reject')}/appeal",
        json={"reason": "This was a real hazard, please look again."},
    ),
    "GET /api/v1/posts/{post_id}/public": lambda w, r: _send(
        w, r, "GET", f"/api/v1/posts/{w.objects['post']}/public"
    ),
    "PATCH /api/v1/posts/{post_id}": lambda w, r: _send(
        w, r, "PATCH", f"/api/v1/posts/{_post(w, decide=None)}", json={"title": "Power line down"}
    ),
    "DELETE /api/v1/posts/{post_id}": lambda w, r: _send(
        w, r, "DELETE", f"/api/v1/posts/{_post(w, decide='approve')}"
    ),
    "POST /api/v1/posts/{post_id}/close": lambda w, r: _send(
        w, r, "POST", f"/api/v1/posts/{_post(w, decide='approve')}/close"
    ),
    "POST /api/v1/moderation/posts/{post_id}/exact-point": lambda w, r: _send(
        w,
        r,
        "POST",
        f"/api/v1/moderation/posts/{_post(w, decide=None)}/exact-point",
        json={"reason": "the text names a place I need to check"},
    ),
    "POST /api/v1/moderation/posts/{post_id}/{action}": lambda w, r: _send(
        w,
        r,
        "POST",
        f"/api/v1/moderation/posts/{_post(w, decide=None)}/approve",
        json={"reason": "fine"},
    ),
    "GET /api/v1/desk/incidents/{incident_id}": lambda w, r: _send(
        w, r, "GET", f"/api/v1/desk/incidents/{w.objects['incident']}"
    ),
    "POST /api/v1/desk/incidents/{incident_id}/{action}": lambda w, r: _send(
        w,
        r,
        "POST",
        f"/api/v1/desk/incidents/{_update(w)}/rewrite",
        json={"reason": "plain words", "title": "Road closed for repairs today"},
    ),
    "POST /api/v1/media": lambda w, r: _send(
        w, r, "POST", "/api/v1/media", files={"file": ("p.jpg", _photo(), "image/jpeg")}
    ),
    "GET /api/v1/media/{media_id}": lambda w, r: _send(
        w, r, "GET", f"/api/v1/media/{w.objects['media']}"
    ),
    "GET /api/v1/media/{media_id}/original": lambda w, r: _send(
        w, r, "GET", f"/api/v1/media/{w.objects['media']}/original"
    ),
    "GET /api/v1/media/{media_id}/info": lambda w, r: _send(
        w, r, "GET", f"/api/v1/media/{w.objects['media']}/info"
    ),
    "GET /api/v1/media/{media_id}/review": lambda w, r: _send(
        w, r, "GET", f"/api/v1/media/{w.objects['media']}/review"
    ),
    "GET /api/v1/media/public/{name}": lambda w, r: _send(w, r, "GET", _public_media(w)),
    "GET /api/v1/agencies/{slug}": lambda w, r: _send(w, r, "GET", "/api/v1/agencies/agency-a"),
    "POST /api/v1/agencies": lambda w, r: _send(
        w,
        r,
        "POST",
        "/api/v1/agencies",
        json={
            "slug": f"agency-{w.fresh('x').split('@')[0]}",
            "name": "New Agency",
            "time_zone": "UTC",
            "jurisdiction": SEATTLE,
        },
    ),
    "POST /api/v1/agencies/{slug}/verify": lambda w, r: _send(
        w, r, "POST", "/api/v1/agencies/agency-a/verify"
    ),
    "POST /api/v1/agencies/{slug}/admins": lambda w, r: _send(
        w,
        r,
        "POST",
        "/api/v1/agencies/agency-a/admins",
        json={"email": CANDIDATE},
    ),
    "POST /api/v1/agency/officers": lambda w, r: _send(
        w, r, "POST", "/api/v1/agency/officers", json={"email": "other@example.org"}
    ),
    "DELETE /api/v1/agency/officers/{account_id}": lambda w, r: _send(
        w, r, "DELETE", f"/api/v1/agency/officers/{w.people['officer_a'].account_id}"
    ),
    "POST /api/v1/agency/sources/{slug}/key": lambda w, r: _send(
        w, r, "POST", "/api/v1/agency/sources/agency-a-cad/key"
    ),
    "DELETE /api/v1/agency/sources/{slug}/key": lambda w, r: _send(
        w, r, "DELETE", "/api/v1/agency/sources/agency-a-cad/key"
    ),
    "POST /api/v1/agency/updates": lambda w, r: _send(
        w,
        r,
        "POST",
        "/api/v1/agency/updates",
        json={
            "category": "traffic.collision",
            "title": "Two cars collided; expect delays",
            "occurred_at": utcnow().isoformat(),
            # inside the caller's own jurisdiction: agency B's is Tacoma
            "lat": 47.25 if r == "officer_b" else 47.61,
            "lon": -122.44 if r == "officer_b" else -122.34,
        },
    ),
    "PATCH /api/v1/agency/updates/{incident_id}": lambda w, r: _send(
        w, r, "PATCH", f"/api/v1/agency/updates/{_update(w)}", json={"title": "Road reopened"}
    ),
    "DELETE /api/v1/agency/updates/{incident_id}": lambda w, r: _send(
        w, r, "DELETE", f"/api/v1/agency/updates/{_update(w)}"
    ),
    "GET /api/v1/incidents/{incident_id}": lambda w, r: _send(
        w, r, "GET", f"/api/v1/incidents/{w.objects['incident']}"
    ),
    "GET /incidents/{incident_id}": lambda w, r: _send(
        w, r, "GET", f"/incidents/{w.objects['incident']}"
    ),
    "GET /api/v1/weekly": lambda w, r: _send(
        w, r, "GET", "/api/v1/weekly?lat=47.61&lon=-122.34&radius_m=1000"
    ),
    "GET /tiles/{name}.pmtiles": lambda w, r: _send(
        w, r, "GET", "/tiles/sf.pmtiles", headers={"Range": "bytes=0-126"}
    ),
    "GET /api/v1/places": lambda w, r: _send(w, r, "GET", "/api/v1/places?q=pike"),
    "GET /places": lambda w, r: _send(w, r, "GET", "/places?q=pike"),
    "POST /api/v1/incidents/{incident_id}/feedback": lambda w, r: _send(
        w,
        r,
        "POST",
        f"/api/v1/incidents/{w.objects['alert']}/feedback",
        json={"verdict": "inaccurate"},
    ),
    "POST /incidents/{incident_id}/feedback": lambda w, r: _send(
        w, r, "POST", f"/incidents/{w.objects['alert']}/feedback", data={"verdict": "not_useful"}
    ),
    "GET /feeds/cap/{incident_id}.xml": lambda w, r: _send(
        w, r, "GET", f"/feeds/cap/{w.objects['incident']}.xml"
    ),
    "GET /api/v1/sources/{source_id}/policy": lambda w, r: _send(
        w, r, "GET", f"/api/v1/sources/{w.objects['source']}/policy"
    ),
    "GET /open311/v2/discovery.{fmt}": lambda w, r: _send(
        w, r, "GET", "/open311/v2/discovery.json"
    ),
    "GET /open311/v2/services.{fmt}": lambda w, r: _send(w, r, "GET", "/open311/v2/services.json"),
    "GET /open311/v2/services/{code}.{fmt}": lambda w, r: _send(
        w, r, "GET", "/open311/v2/services/safety.hazard.json"
    ),
    "GET /open311/v2/requests.{fmt}": lambda w, r: _send(w, r, "GET", "/open311/v2/requests.json"),
    "GET /open311/v2/requests/{rid}.{fmt}": lambda w, r: _send(
        w, r, "GET", f"/open311/v2/requests/{w.objects['incident']}.json"
    ),
    "POST /open311/v2/requests.{fmt}": _open311,
    "POST /api/v1/cameras": lambda w, r: _send(
        w, r, "POST", "/api/v1/cameras", json={"name": "Door", "lat": 47.61, "lon": -122.34}
    ),
    "DELETE /api/v1/cameras/{camera_id}": lambda w, r: _send(
        w, r, "DELETE", f"/api/v1/cameras/{_camera(w)}"
    ),
    "POST /api/v1/cameras/{camera_id}/token": lambda w, r: _send(
        w, r, "POST", f"/api/v1/cameras/{w.objects['camera']}/token"
    ),
    "GET /api/v1/cameras/{camera_id}/clips": lambda w, r: _send(
        w, r, "GET", f"/api/v1/cameras/{w.objects['camera']}/clips"
    ),
    "POST /api/v1/footage/requests": lambda w, r: _send(
        w, r, "POST", "/api/v1/footage/requests", json=_request_body(r)
    ),
    "GET /api/v1/footage/requests/{request_id}": lambda w, r: _send(
        w, r, "GET", f"/api/v1/footage/requests/{w.objects['request']}"
    ),
    "GET /api/v1/footage/requests/{request_id}/shares": lambda w, r: _send(
        w, r, "GET", f"/api/v1/footage/requests/{w.objects['request']}/shares"
    ),
    "POST /api/v1/footage/requests/{request_id}/decline": lambda w, r: _send(
        w, r, "POST", f"/api/v1/footage/requests/{w.objects['request']}/decline"
    ),
    "POST /api/v1/footage/break-glass": lambda w, r: _send(
        w,
        r,
        "POST",
        "/api/v1/footage/break-glass",
        json={
            "target": "camera",
            "target_id": w.objects["camera"],
            "reason": "A child is missing; this camera faces the last place seen.",
        },
    ),
    "GET /api/v1/footage/break-glass/cameras/{camera_id}": _break_glass_camera,
    "GET /api/v1/agencies/{slug}/footage-requests": lambda w, r: _send(
        w, r, "GET", "/api/v1/agencies/agency-a/footage-requests"
    ),
    "GET /api/v1/agencies/{slug}/transparency": lambda w, r: _send(
        w, r, "GET", "/api/v1/agencies/agency-a/transparency"
    ),
    "GET /api/v1/agencies/{slug}/transparency.csv": lambda w, r: _send(
        w, r, "GET", "/api/v1/agencies/agency-a/transparency.csv"
    ),
    "POST /sign-up": lambda w, r: _form_page(
        w, r, "/sign-up", "/sign-up", {"email": w.fresh("page"), "password": PASSWORD}
    ),
    "GET /verify": lambda w, r: _send(w, r, "GET", "/verify?token=abc"),
    "POST /verify": lambda w, r: _form_page(w, r, "/verify", "/verify", {"token": _signed_up(w)}),
    "POST /sign-in": lambda w, r: _form_page(
        w,
        r,
        "/sign-in",
        "/sign-in",
        {"email": SIGN_IN, "password": PASSWORD},
    ),
    "POST /sign-in/code": lambda w, r: _form_page(
        w, r, "/sign-in", "/sign-in/code", {"pending": "x", "code": "000000"}
    ),
    "POST /forgot-password": lambda w, r: _form_page(
        w, r, "/forgot-password", "/forgot-password", {"email": "owner@example.org"}
    ),
    "GET /reset": lambda w, r: _send(w, r, "GET", "/reset?token=abc"),
    "POST /reset": lambda w, r: _reset_page(w, r),
    "POST /sign-out": lambda w, r: _sign_out(w, r, "/sign-out"),
    "POST /account/totp/confirm": lambda w, r: _send(
        w, r, "POST", "/account/totp/confirm", data={"code": "000000"}
    ),
    "POST /verify/resend": lambda w, r: _form_page(
        w, r, "/sign-in", "/verify/resend", {"email": w.fresh("resend")}
    ),
    "GET /account/email/confirm": lambda w, r: _send(
        w, r, "GET", "/account/email/confirm?token=abc"
    ),
    "POST /account/totp/disable": lambda w, r: _send(
        w, r, "POST", "/account/totp/disable", data={"code": "000000"}
    ),
    "POST /posts/check": lambda w, r: _send(
        w, r, "POST", "/posts/check", data={k: str(v) for k, v in _draft().items()}
    ),
    "POST /posts/new": lambda w, r: _send(
        w, r, "POST", "/posts/new", data={k: str(v) for k, v in _draft().items()}
    ),
    "POST /posts/{post_id}/appeal": lambda w, r: _send(
        w,
        r,
        "POST",
        f"/posts/{_post(w, decide='reject')}/appeal",
        data={"reason": "This was a real hazard, please look again."},
    ),
    "POST /moderation/posts/{post_id}/{action}": lambda w, r: _send(
        w,
        r,
        "POST",
        f"/moderation/posts/{_post(w, decide=None)}/approve",
        data={"reason": "fine"},
    ),
    "POST /moderation/posts/{post_id}/exact-point": lambda w, r: _send(
        w,
        r,
        "POST",
        f"/moderation/posts/{_post(w, decide=None)}/exact-point",
        data={"reason": "the text names a place I need to check"},
    ),
    "POST /posts/{post_id}/edit": lambda w, r: _send(
        w, r, "POST", f"/posts/{_post(w, decide=None)}/edit", data={"title": "Power line down"}
    ),
    "POST /posts/{post_id}/close": lambda w, r: _send(
        w, r, "POST", f"/posts/{_post(w, decide='approve')}/close"
    ),
    "POST /posts/{post_id}/delete": lambda w, r: _send(
        w, r, "POST", f"/posts/{_post(w, decide='approve')}/delete", data={"confirm": "yes"}
    ),
    "POST /desk/incidents/{incident_id}/{action}": lambda w, r: _send(
        w,
        r,
        "POST",
        f"/desk/incidents/{_update(w)}/rewrite",
        data={"reason": "plain words", "title": "Road closed for repairs today"},
    ),
    "POST /agency/requests": lambda w, r: _send(
        w, r, "POST", "/agency/requests", data=_page_request(r)
    ),
    "GET /operator/agencies/{slug}": lambda w, r: _send(w, r, "GET", "/operator/agencies/agency-a"),
    "POST /operator/agencies/{slug}/verify": lambda w, r: _send(
        w, r, "POST", "/operator/agencies/agency-a/verify", data={}
    ),
    "POST /operator/roles/{change}": lambda w, r: _send(
        w,
        r,
        "POST",
        "/operator/roles/revoke",
        data={"email": "owner@example.org", "role": "operator"},
    ),
    "GET /operator/sources/{slug}/quarantine": lambda w, r: _send(
        w, r, "GET", "/operator/sources/agency-a-cad/quarantine"
    ),
    "POST /footage/requests/{request_id}/decline": lambda w, r: _send(
        w, r, "POST", f"/footage/requests/{w.objects['request']}/decline"
    ),
    "POST /cameras": lambda w, r: _send(
        w, r, "POST", "/cameras", data={"name": "Door", "lat": "47.61", "lon": "-122.34"}
    ),
    "POST /cameras/{camera_id}/token": lambda w, r: _send(
        w, r, "POST", f"/cameras/{w.objects['camera']}/token"
    ),
    "POST /cameras/{camera_id}/delete": lambda w, r: _send(
        w, r, "POST", f"/cameras/{_camera(w)}/delete", data={"confirm": "yes"}
    ),
}
# Routes that end a session or an account run last, each role on a session of its own.
LAST = ("POST /api/v1/account/sign-out", "POST /sign-out", "DELETE /api/v1/me")


def outcome(response: Response) -> str:
    """The class of an answer: allow, deny or refused (anything else is itself)."""
    status = response.status_code
    location = response.headers.get("location", "")
    if 300 <= status < 400 and location.startswith("/sign-in"):
        return DENY  # a page sends the anonymous visitor to the sign-in form
    if 200 <= status < 400:
        return ALLOW
    if status in (401, 403, 404):
        return DENY
    if status in (409, 422):
        return REFUSED
    return f"status {status}: {response.text[:200]}"


def test_every_route_is_in_the_table(world: World) -> None:
    routes = app_routes(world.app)
    missing = [r for r in routes if r not in MATRIX]
    assert not missing, f"routes with no row in MATRIX (decide who may call them): {missing}"
    stale = [r for r in MATRIX if r not in routes]
    assert not stale, f"rows of MATRIX naming no route of the app: {stale}"
    for route, row in MATRIX.items():
        assert set(row) == set(ROLES), f"{route}: the row must name every role"


# Exact points of the planted posts: away from every other point in this module.
PLANTED_POINTS = ((47.631717, -122.307481), (47.628263, -122.315719), (47.633937, -122.301052))


def _exact_forms(lat: float, lon: float) -> list[tuple[str, str]]:
    """The ways a response could spell an exact point: as stored, and to 4, 5 or 6 decimals."""
    return [(repr(lat), repr(lon))] + [(f"{lat:.{d}f}", f"{lon:.{d}f}") for d in (4, 5, 6)]


def _staff_reads(world: World, posts: list[int]) -> list[tuple[str, str]]:
    """Every GET a moderator or operator makes that could show a resident's post."""
    owner = world.people["owner"].client
    incidents = [owner.get(f"/api/v1/posts/{p}").json()["incident_id"] for p in posts]
    incidents = [world.objects["incident"], *(i for i in incidents if i)]
    reads = [
        "/api/v1/moderation/queue",
        "/moderation",
        "/desk",
        "/desk/fragments/queue",
        "/desk/fragments/quality",
        "/desk/fragments/changes",
        "/api/v1/desk/queue",
        "/api/v1/desk/quality",
        "/api/v1/incidents?lat=47.61&lon=-122.34&radius_m=5000",
        "/?lat=47.61&lon=-122.34&radius_m=5000",
        "/feeds/atom?lat=47.61&lon=-122.34",
        "/feeds/cap?lat=47.61&lon=-122.34",
        "/open311/v2/requests.json",
        "/api/v1/weekly?lat=47.61&lon=-122.34&radius_m=5000",
        "/api/v1/me/export",
        "/api/v1/me/access-log",
        "/account/access-log",
        "/api/v1/transparency.csv",
        "/transparency",
        f"/api/v1/media/{world.objects['media']}/review",
    ]
    for post_id in posts:
        reads += [f"/api/v1/posts/{post_id}", f"/api/v1/posts/{post_id}/public"]
    for incident_id in incidents:
        reads += [f"/api/v1/desk/incidents/{incident_id}", f"/incidents/{incident_id}"]
        reads += [f"/api/v1/incidents/{incident_id}", f"/feeds/cap/{incident_id}.xml"]
    return [("GET", url) for url in reads]


def test_no_staff_response_carries_an_exact_point_unless_the_author_sees_the_read(
    world: World,
) -> None:
    owner, mod = world.people["owner"], world.people["moderator"]
    posts = []
    for (lat, lon), decide in zip(PLANTED_POINTS, ("approve", "reject", None), strict=True):
        made = owner.post("/api/v1/posts", json=_draft(lat=lat, lon=lon))
        assert made.status_code == 201, made.text
        posts.append(int(made.json()["id"]))
        if decide:
            url = f"/api/v1/moderation/posts/{posts[-1]}/{decide}"
            assert mod.post(url, json={"reason": "checked by the test"}).status_code == 200
    forms = [pair for lat, lon in PLANTED_POINTS for pair in _exact_forms(lat, lon)]
    seen: list[str] = []
    for role in ("moderator", "operator"):
        answers = [
            (url, _send(world, role, method, url)) for method, url in _staff_reads(world, posts)
        ]
        # Every moderation action answers with the post too.
        api, page = "/api/v1/moderation/posts", "/moderation/posts"
        actions = [
            ("POST", f"{api}/{posts[0]}/remove", {"json": {"reason": "testing the answer"}}),
            ("POST", f"{api}/{posts[0]}/restore", {"json": {}}),
            ("POST", f"{page}/{posts[1]}/restore", {"data": {}}),
            ("POST", f"{page}/{posts[1]}/remove", {"data": {"reason": "testing the page"}}),
            ("POST", f"{api}/{posts[2]}/exact-point", {"json": {"reason": "short"}}),
            ("POST", f"{page}/{posts[2]}/exact-point", {"data": {"reason": "short"}}),
        ]
        for method, url, body in actions:
            answers.append((url, _send(world, role, method, url, **body)))
        seen += [
            f"{role} {url}: {lat}, {lon}"
            for url, a in answers
            for lat, lon in forms
            if lat in a.text and lon in a.text
        ]
    assert not seen, "exact points of residents' posts in staff responses:\n" + "\n".join(seen)

    # The one way to it: a stated reason, which the author reads in their access log.
    reason = "the description names a corner; checking it is the right one"
    shown = mod.post(f"/api/v1/moderation/posts/{posts[2]}/exact-point", json={"reason": reason})
    assert shown.status_code == 200, shown.text
    assert (shown.json()["lat"], shown.json()["lon"]) == PLANTED_POINTS[2]
    page_shown = _send(
        world,
        "moderator",
        "POST",
        f"/moderation/posts/{posts[1]}/exact-point",
        data={"reason": reason},
    )
    assert f"{PLANTED_POINTS[1][0]}" in page_shown.text
    log = owner.client.get("/api/v1/me/access-log").json()
    reveals = [
        (e["object_id"], e["by"], e["detail"]["reason"])
        for e in log
        if e["action"] == "post.reveal"
    ]
    assert sorted(reveals) == sorted(
        [(str(posts[2]), "moderator", reason), (str(posts[1]), "moderator", reason)]
    )
    decisions = {
        e["by"] for e in log if e["action"] in ("post.approve", "post.reject", "post.remove")
    }
    assert decisions == {"moderator"}  # the reader's real role, not "operator"


def test_every_role_gets_what_the_table_says(world: World) -> None:
    routes = [r for r in app_routes(world.app) if r in MATRIX]
    ordered = [r for r in routes if r not in LAST] + [r for r in LAST if r in routes]
    wrong: list[str] = []
    for route in ordered:
        method, path = route.split(" ", 1)
        call = CALLS.get(route, lambda w, r, m=method, p=path: _send(w, r, m, p))
        for role in ROLES:
            expected = MATRIX[route][role]
            if expected.startswith("skip:"):
                continue
            got = outcome(call(world, role))
            if got != expected:
                wrong.append(f"{route} as {role}: expected {expected}, got {got}")
    assert not wrong, "\n".join(wrong)
