"""Footage pages: the agency portal, the resident's footage inbox and cameras, "who saw my
data", and the public transparency report.

Every page calls the footage and agencies services directly (never the HTTP API); every form
carries the session's CSRF token, checked by `accounts.views.current_actor` as on the other
resident pages. Refusals of the services are shown in the page with the rule that was broken.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.datastructures import FormData
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from townsquare.accounts.schemas import Actor
from townsquare.agencies import service as agencies
from townsquare.agencies.schemas import AgencyOut
from townsquare.db import utcnow
from townsquare.errors import InvalidParameter, TownsquareError
from townsquare.footage import access, area, cameras, service, shares, transparency
from townsquare.footage.schemas import (
    CameraCreated,
    CameraIn,
    ExtendIn,
    FileRequest,
    SharedClip,
    ShareIn,
)
from townsquare.http.deps import DB, Config
from townsquare.settings import Settings
from townsquare.web.accounts import (
    PageDeps,
    form_actor,
    page,
    page_actor,
    see_other,
    text,
    to_sign_in,
)
from townsquare.web.kit import render

router = APIRouter(
    include_in_schema=False, default_response_class=HTMLResponse, dependencies=PageDeps
)
LOCAL = "%Y-%m-%dT%H:%M"  # the value of an <input type="datetime-local">


def sentence(exc: TownsquareError | ValidationError) -> str:
    """A service refusal (or a malformed field) as a sentence naming the rule."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"{where}: {first['msg']}." if where else f"{first['msg']}."
    detail = exc.detail
    return f"{detail[:1].upper()}{detail[1:]}".rstrip(".") + "."


def utc_field(value: str) -> datetime | None:
    """A datetime-local value read as UTC (the forms say so), or None."""
    try:
        return datetime.strptime(value.strip()[:16], LOCAL).replace(tzinfo=UTC)
    except ValueError:
        return None


def local_value(moment: datetime) -> str:
    """A time as a datetime-local value in UTC."""
    return moment.astimezone(UTC).strftime(LOCAL)


# ---- the agency portal ----------------------------------------------------------------------


@dataclass
class RequestForm:
    """The portal's request form as sent (kept on a refusal)."""

    case_number: str = ""
    reason: str = ""
    lat: str = ""
    lon: str = ""
    radius_m: str = "300"
    polygon: str = ""
    window_start: str = ""
    window_end: str = ""
    expires_at: str = ""

    @classmethod
    def blank(cls, now: datetime) -> RequestForm:
        """A new form: an hour ending an hour ago, a week to run."""
        return cls(
            window_start=local_value(now - timedelta(hours=2)),
            window_end=local_value(now - timedelta(hours=1)),
            expires_at=local_value(now + timedelta(days=7)),
        )

    @classmethod
    def of(cls, form: FormData) -> RequestForm:
        """The fields of a sent form."""
        names = cls.__dataclass_fields__
        return cls(**{name: text(form, name).strip()[:20000] for name in names})

    def body(self) -> FileRequest:
        """The service's request; ValidationError names the field a value does not fit."""
        data: dict[str, Any] = {"case_number": self.case_number, "reason": self.reason}
        if self.polygon:
            try:
                data["polygon"] = json.loads(self.polygon)
            except ValueError:
                data["polygon"] = "not JSON"
        else:
            data["circle"] = {"lat": self.lat, "lon": self.lon, "radius_m": self.radius_m}
        for name in ("window_start", "window_end", "expires_at"):
            moment = utc_field(getattr(self, name))
            data[name] = moment.isoformat() if moment else getattr(self, name)
        return FileRequest.model_validate(data)


@dataclass
class PortalRequest:
    """One of the agency's requests, with the clips it may view now."""

    request: Any
    clips: list[SharedClip] = field(default_factory=list)


def _agency_center(agency: AgencyOut, settings: Settings) -> tuple[float, float]:
    polygons = area.polygons_of(agency.jurisdiction) if agency.jurisdiction else []
    if polygons and polygons[0] and polygons[0][0]:
        return area.centroid(polygons[0][0])
    return settings.map_center


def _portal(
    request: Request,
    session: Session,
    settings: Settings,
    actor: Actor,
    status: int = 200,
    form: RequestForm | None = None,
    error: str | None = None,
    filed: int = 0,
) -> Response:
    try:
        agency = agencies.out(
            agencies.verified_agency_of(session, actor, "agency_officer", "agency_admin")
        )
    except TownsquareError as exc:
        return page(request, "footage/agency_only.html", 403, actor=actor, why=sentence(exc))
    now = utcnow()
    listed = service.agency_page(session, agency.slug, now=now).requests
    found = [
        PortalRequest(r, shares.agency_shares(session, r.id, actor=actor, now=now)) for r in listed
    ]
    return page(
        request,
        "footage/agency.html",
        status,
        actor=actor,
        agency=agency,
        requests=found,
        form=form or RequestForm.blank(now),
        error=error,
        filed=filed,
        center=_agency_center(agency, settings),
        jurisdiction=json.dumps(agency.jurisdiction) if agency.jurisdiction else "",
        areas=json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "geometry": r.area.geojson, "properties": {"id": r.id}}
                    for r in listed
                    if r.open
                ],
            }
        ),
    )


@router.get("/agency")
async def agency_portal(
    request: Request, session: DB, settings: Config, filed: int = 0
) -> Response:
    """File a footage request (area on a map, case, reason, window, expiry); see the agency's
    requests with their counts and the clips shared with them."""
    actor = await page_actor(request, session, settings)
    if actor is None:
        return to_sign_in("/agency")
    return _portal(request, session, settings, actor, filed=filed)


@router.post("/agency/requests")
async def file_request(request: Request, session: DB, settings: Config) -> Response:
    """File the request; a bound it breaks is shown with its rule, the form kept."""
    actor = await form_actor(request, session, settings)
    if isinstance(actor, Response):
        return actor
    form = RequestForm.of(await request.form())
    try:
        made = service.file_request(session, settings, form.body(), actor=actor, now=utcnow())
    except ValidationError as exc:
        return _portal(request, session, settings, actor, 422, form, sentence(exc))
    except TownsquareError as exc:
        session.rollback()
        return _portal(request, session, settings, actor, exc.status, form, sentence(exc))
    return see_other(f"/agency?filed={made.id}#request-{made.id}")


# ---- the resident's footage inbox -----------------------------------------------------------


def _inbox(
    request: Request,
    session: Session,
    settings: Settings,
    actor: Actor,
    status: int = 200,
    error: str | None = None,
    done: str = "",
) -> Response:
    now = utcnow()
    items = shares.inbox(session, actor=actor, now=now)
    return page(
        request,
        "footage/footage_inbox.html",
        status,
        actor=actor,
        items=items,
        error=error,
        done=done,
        extend_days=settings.footage_share_extend_days,
        local_value=local_value,
        timedelta=timedelta,
    )


@router.get("/footage")
async def footage_inbox(
    request: Request, session: DB, settings: Config, done: str = ""
) -> Response:
    """Requests whose area holds one of the resident's cameras, with their clips in the window."""
    actor = await page_actor(request, session, settings)
    if actor is None:
        return to_sign_in("/footage")
    return _inbox(request, session, settings, actor, done=done[:20])


async def _inbox_action(
    request: Request, session: Session, settings: Settings, act: Any, done: str, anchor: str
) -> Response:
    actor = await form_actor(request, session, settings)
    if isinstance(actor, Response):
        return actor
    form = await request.form()
    try:
        act(actor, form)
    except ValidationError as exc:
        return _inbox(request, session, settings, actor, 422, sentence(exc))
    except TownsquareError as exc:
        session.rollback()
        return _inbox(request, session, settings, actor, exc.status, sentence(exc))
    return see_other(f"/footage?done={done}#{anchor}")


@router.post("/footage/requests/{request_id}/share")
async def share(request: Request, request_id: int, session: DB, settings: Config) -> Response:
    """Share the clips ticked, with an optional note to the agency."""

    def act(actor: Actor, form: FormData) -> None:
        chosen = [int(v) for v in form.getlist("clip_id") if isinstance(v, str) and v.isdigit()]
        if not chosen:
            raise InvalidParameter("clip_id", "tick at least one clip to share")
        body = ShareIn(clip_ids=chosen, note=text(form, "note").strip())
        shares.share_clips(session, request_id, body, actor=actor, now=utcnow())

    return await _inbox_action(request, session, settings, act, "shared", f"req-{request_id}")


@router.post("/footage/requests/{request_id}/decline")
async def decline(request: Request, request_id: int, session: DB, settings: Config) -> Response:
    """Say no (the agency never learns it)."""

    def act(actor: Actor, form: FormData) -> None:
        shares.decline(session, request_id, actor=actor, now=utcnow())

    return await _inbox_action(request, session, settings, act, "declined", f"req-{request_id}")


@router.post("/footage/shares/{share_id}/revoke")
async def revoke(request: Request, share_id: int, session: DB, settings: Config) -> Response:
    """Stop sharing a clip: the agency's next read is refused."""

    def act(actor: Actor, form: FormData) -> None:
        shares.revoke_share(session, share_id, actor=actor, now=utcnow())

    return await _inbox_action(request, session, settings, act, "revoked", f"share-{share_id}")


@router.post("/footage/shares/{share_id}/extend")
async def extend(request: Request, share_id: int, session: DB, settings: Config) -> Response:
    """Keep a share past its request's expiry (up to the setting's days)."""

    def act(actor: Actor, form: FormData) -> None:
        until = utc_field(text(form, "until"))
        body = ExtendIn.model_validate({"until": until.isoformat() if until else ""})
        shares.extend_share(session, settings, share_id, body, actor=actor, now=utcnow())

    return await _inbox_action(request, session, settings, act, "extended", f"share-{share_id}")


# ---- cameras --------------------------------------------------------------------------------

RECENT_CLIPS = 5  # per camera on its card: enough to see that pushes arrive and get blurred


def _cameras(
    request: Request,
    session: Session,
    settings: Settings,
    actor: Actor,
    status: int = 200,
    error: str | None = None,
    made: CameraCreated | None = None,
    values: dict[str, str] | None = None,
    rotated: tuple[int, str] | None = None,
    done: str = "",
    refused: str | None = None,
) -> Response:
    mine = cameras.my_cameras(session, actor=actor)
    renewed = None
    if rotated:  # a new token is shown as a registration's is: with its camera, this once
        camera_id, token = rotated
        found = [c for c in mine if c.id == camera_id]
        renewed = CameraCreated(**found[0].model_dump(), token=token) if found else None
    recent = {c.id: cameras.my_clips(session, c.id, actor=actor, limit=RECENT_CLIPS) for c in mine}
    return page(
        request,
        "footage/cameras.html",
        status,
        actor=actor,
        cameras=mine,
        recent=recent,
        made=made,
        rotated=renewed,
        error=error,
        refused=refused,
        done=done,
        values=values or {"name": "", "lat": "", "lon": ""},
        center=settings.map_center,
    )


@router.get("/cameras")
async def cameras_page(request: Request, session: DB, settings: Config, done: str = "") -> Response:
    """The resident's cameras, and the form to register one at a place picked on a map."""
    actor = await page_actor(request, session, settings)
    if actor is None:
        return to_sign_in("/cameras")
    return _cameras(request, session, settings, actor, done=done[:20])


@router.post("/cameras")
async def register_camera(request: Request, session: DB, settings: Config) -> Response:
    """Register the camera; its push token is shown on this answer only."""
    actor = await form_actor(request, session, settings)
    if isinstance(actor, Response):
        return actor
    form = await request.form()
    values = {name: text(form, name).strip()[:200] for name in ("name", "lat", "lon")}
    try:
        body = CameraIn.model_validate(values)
        made = cameras.register_camera(session, body, actor=actor, now=utcnow())
    except ValidationError as exc:
        return _cameras(request, session, settings, actor, 422, sentence(exc), values=values)
    except TownsquareError as exc:
        session.rollback()
        return _cameras(request, session, settings, actor, exc.status, sentence(exc), values=values)
    return _cameras(request, session, settings, actor, 201, made=made)


@router.post("/cameras/{camera_id}/token")
async def rotate_token(request: Request, camera_id: int, session: DB, settings: Config) -> Response:
    """A new push token, shown on this answer only; the old one stops at once."""
    actor = await form_actor(request, session, settings)
    if isinstance(actor, Response):
        return actor
    try:
        token = cameras.rotate_token(session, camera_id, actor=actor)
    except TownsquareError as exc:
        session.rollback()
        return _cameras(request, session, settings, actor, exc.status, refused=sentence(exc))
    return _cameras(request, session, settings, actor, rotated=(camera_id, token))


@router.post("/cameras/{camera_id}/delete")
async def delete_camera(
    request: Request, camera_id: int, session: DB, settings: Config
) -> Response:
    """Delete the camera once the box saying what goes with it is ticked."""
    actor = await form_actor(request, session, settings)
    if isinstance(actor, Response):
        return actor
    if text(await request.form(), "confirm") != "yes":
        error = "Tick the box to confirm that the camera, its clips and their shares go."
        return _cameras(request, session, settings, actor, 422, refused=error)
    try:
        cameras.delete_camera(session, settings, camera_id, actor=actor)
    except TownsquareError as exc:
        session.rollback()
        return _cameras(request, session, settings, actor, exc.status, refused=sentence(exc))
    return see_other("/cameras?done=deleted")


# ---- who saw my data ------------------------------------------------------------------------


@router.get("/account/access-log")
async def access_log(request: Request, session: DB, settings: Config) -> Response:
    """Every read or grant of the resident's data by someone else, newest first."""
    actor = await page_actor(request, session, settings)
    if actor is None:
        return to_sign_in("/account/access-log")
    entries = access.access_log(session, actor=actor)
    return page(request, "footage/access_log.html", actor=actor, entries=entries)


# ---- the public transparency report ---------------------------------------------------------


@router.get("/transparency")
def transparency_page(request: Request, session: DB, agency: str = "") -> Response:
    """Footage requests overall or of one agency, with links to the JSON and CSV reports."""
    now = utcnow()
    slug = agency.strip()[:64] or None
    listed = agencies.list_agencies(session)
    try:
        report = transparency.report(session, slug, now=now)
    except TownsquareError:
        report = transparency.report(session, None, now=now)
        return render(
            request,
            "footage/transparency.html",
            404,
            report=report,
            agencies=listed,
            per_agency=[],
            error=f"There is no agency {slug}.",
        )
    filed = {row.agency for row in report.requests}
    per_agency = (
        []
        if slug
        else [
            (a, transparency.report(session, a.slug, now=now).totals)
            for a in listed
            if a.verified or a.slug in filed
        ]
    )
    return render(
        request,
        "footage/transparency.html",
        report=report,
        agencies=listed,
        per_agency=per_agency,
        error=None,
    )
