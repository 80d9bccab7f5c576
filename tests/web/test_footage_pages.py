"""Footage pages over the whole app: who may open them, the forms' CSRF, the request cycle.

Real services throughout: accounts made by sign-up with the mailed link, officers with
two-factor, a verified agency, a camera and a real clip pushed with its token (ffmpeg).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.clips import Clips, finish_clips
from tests.support.footage import CENTER, INSIDE, camera_owner, make_agency, officer
from tests.support.pages import labelled, page, texts
from tests.support.residents import Mailbox, Person, resident
from townsquare.db import utcnow
from townsquare.footage.models import Camera, Clip, FootageRequest
from townsquare.media.models import Media
from townsquare.templating import local_text

LOCAL = "%Y-%m-%dT%H:%M"


def portal_form(person: Person, **changes: str) -> dict[str, str]:
    """The portal's request form as a browser sends it (times in UTC)."""
    now = utcnow()
    form = {
        "csrf_token": person.csrf,
        "case_number": "2026-777",
        "reason": "Bicycle theft from a rack; looking for anyone leaving with a red bike.",
        "lat": str(CENTER[0]),
        "lon": str(CENTER[1]),
        "radius_m": "300",
        "polygon": "",
        "window_start": (now - timedelta(hours=2)).strftime(LOCAL),
        "window_end": (now - timedelta(hours=1)).strftime(LOCAL),
        "expires_at": (now + timedelta(days=3)).strftime(LOCAL),
    }
    return form | changes


def push(client: TestClient, camera: dict[str, Any], path: Path) -> int:
    """A clip pushed with the camera's token, captured 90 minutes ago (inside the window)."""
    start = utcnow() - timedelta(minutes=90)
    made = client.post(
        f"/api/v1/cameras/{camera['id']}/clips",
        params={"start": start.isoformat(), "end": (start + timedelta(seconds=60)).isoformat()},
        content=path.read_bytes(),
        headers={"Authorization": f"Bearer {camera['token']}", "Content-Type": "video/mp4"},
    )
    assert made.status_code == 201, made.text
    finish_clips(client)
    return int(made.json()["id"])


def test_anonymous_visitors_are_sent_to_sign_in_and_see_the_transparency_report(
    app_client: TestClient,
) -> None:
    for path in ("/agency", "/footage", "/cameras", "/account/access-log"):
        answer = app_client.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/sign-in?next=")
    for path in ("/agency/requests", "/cameras", "/footage/shares/1/revoke"):
        answer = app_client.post(path, data={}, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/sign-in")
    report = app_client.get("/transparency")
    assert report.status_code == 200
    assert page(report.text).xpath("//a[@data-format='json']/@href") == ["/api/v1/transparency"]
    assert page(report.text).xpath("//a[@data-format='csv']/@href") == ["/api/v1/transparency.csv"]
    assert app_client.get("/transparency?agency=nowhere").status_code == 404


def test_a_resident_registers_a_camera_its_token_shown_once(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    ada = resident(app_client, mailbox[0], "ada@example.org")
    shown = ada.client.get("/cameras")
    assert shown.status_code == 200
    assert shown.headers["cache-control"] == "no-store"
    labelled(shown.text)
    body = {"name": "Porch", "lat": str(INSIDE[0]), "lon": str(INSIDE[1])}
    # Without the session's CSRF token (or with another one): refused, nothing registered.
    assert ada.client.post("/cameras", data=body).status_code == 403
    assert ada.client.post("/cameras", data=body | {"csrf_token": "x" * 20}).status_code == 403
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Camera)) == 0
    bad = ada.client.post("/cameras", data=body | {"csrf_token": ada.csrf, "lat": "123"})
    assert bad.status_code == 422
    assert "lat" in texts(bad.text, "//*[@id='form-error']")[0]
    made = ada.client.post("/cameras", data=body | {"csrf_token": ada.csrf})
    assert made.status_code == 201
    token = texts(made.text, "//*[@data-push-token]")[0]
    assert token.startswith("tsc_")
    again = ada.client.get("/cameras")
    assert token not in again.text
    assert texts(again.text, "//*[@data-camera]//strong") == ["Porch"]
    # The token pushes to that camera.
    camera_id = int(page(made.text).xpath("//*[@data-camera-made]/@data-camera-made")[0])
    with factory() as session:
        assert session.get_one(Camera, camera_id).owner_id == ada.account_id


def test_the_portal_is_for_officers_of_a_verified_agency_and_shows_the_broken_bound(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    box = mailbox[0]
    make_agency(factory, "seattle-police")
    make_agency(factory, "unverified-pd", verified=False)
    ada = resident(app_client, box, "ada@example.org")
    refused = ada.client.get("/agency")
    assert refused.status_code == 403
    assert "Agency officers only" in refused.text
    assert ada.client.post("/agency/requests", data=portal_form(ada)).status_code == 403
    pending = officer(app_client, box, factory, "new@example.org", "unverified-pd")
    assert pending.client.get("/agency").status_code == 403
    cop = officer(app_client, box, factory, "cop@example.org", "seattle-police")
    portal = cop.client.get("/agency")
    assert portal.status_code == 200
    labelled(portal.text)
    assert page(portal.text).xpath("//*[@data-map='area']/@data-jurisdiction")[0]
    # The nav shows the portal to the officer only.
    assert page(portal.text).xpath("//nav[@class='topnav']/a[@href='/agency']")
    assert not page(ada.client.get("/footage").text).xpath("//nav/a[@href='/agency']")
    # CSRF: the form's token is required.
    no_token = portal_form(cop)
    del no_token["csrf_token"]
    assert cop.client.post("/agency/requests", data=no_token).status_code == 403
    # A bound broken: the rule is shown, the form kept, nothing filed.
    too_big = cop.client.post("/agency/requests", data=portal_form(cop, radius_m="900"))
    assert too_big.status_code == 422
    error = texts(too_big.text, "//*[@id='form-error']")[0]
    assert "area must be 0.025 to 0.5 square miles" in error
    assert page(too_big.text).xpath("//input[@name='radius_m']/@value") == ["900"]
    long_window = portal_form(cop, window_start=(utcnow() - timedelta(hours=20)).strftime(LOCAL))
    answer = cop.client.post("/agency/requests", data=long_window)
    assert answer.status_code == 422
    assert "at most 12 hours" in answer.text
    outside = cop.client.post("/agency/requests", data=portal_form(cop, lat="47.70"))
    assert outside.status_code == 422
    assert "inside the agency's jurisdiction" in texts(outside.text, "//*[@id='form-error']")[0]
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(FootageRequest)) == 0
    garbled = cop.client.post("/agency/requests", data=portal_form(cop, polygon="{not json"))
    assert garbled.status_code == 422
    assert texts(garbled.text, "//*[@id='form-error']")[0].startswith("polygon")
    filed = cop.client.post("/agency/requests", data=portal_form(cop), follow_redirects=False)
    assert filed.status_code == 303
    listed = cop.client.get(filed.headers["location"])
    assert texts(listed.text, "//*[@data-request]//strong") == ["Case 2026-777"]
    assert texts(listed.text, "//*[@data-count='notified']") == ["0"]
    # A polygon drawn on the map (the field the page's script fills) replaces the circle.
    lat, lon = CENTER
    ring = [[lon - 0.0027, lat - 0.0018], [lon + 0.0027, lat - 0.0018], [lon, lat + 0.0018]]
    polygon = json.dumps({"type": "Polygon", "coordinates": [[*ring, ring[0]]]})
    drawn = cop.client.post(
        "/agency/requests",
        data=portal_form(cop, case_number="2026-778", polygon=polygon, lat="", lon=""),
        follow_redirects=False,
    )
    assert drawn.status_code == 303, drawn.text
    with factory() as session:
        kinds = session.scalars(select(FootageRequest.area_kind).order_by(FootageRequest.id))
        assert list(kinds) == ["circle", "polygon"]
    shown = cop.client.get("/agency")
    areas = json.loads(page(shown.text).xpath("//*[@data-map='area']/@data-requests")[0])
    assert len(areas["features"]) == 2
    # The public report: overall, by agency, with the agency's own JSON and CSV.
    report = app_client.get("/transparency")
    assert texts(report.text, "//tr[@data-agency='seattle-police']/td[2]") == ["2"]
    assert texts(report.text, "//tr[@data-agency='unverified-pd']/td[2]") == []
    one = app_client.get("/transparency?agency=seattle-police")
    assert len(page(one.text).xpath("//tr[@data-transparency-row]")) == 2
    assert page(one.text).xpath("//table[@data-per-agency]") == []


def test_share_view_revoke_through_the_pages(
    app_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
    clips: Clips,
) -> None:
    box = mailbox[0]
    make_agency(factory, "seattle-police")
    owner, camera = camera_owner(app_client, box, "owner@example.org", INSIDE)
    clip_id = push(app_client, camera, clips.make())
    stranger = resident(app_client, box, "stranger@example.org")
    cop = officer(app_client, box, factory, "cop@example.org", "seattle-police")
    filed = cop.client.post("/agency/requests", data=portal_form(cop), follow_redirects=False)
    assert filed.status_code == 303
    with factory() as session:
        request_id = session.scalars(select(FootageRequest.id)).one()

    inbox = owner.client.get("/footage")
    assert inbox.status_code == 200
    labelled(inbox.text)
    assert page(inbox.text).xpath(
        f"//*[@id='req-{request_id}']//input[@name='clip_id']/@value"
    ) == [str(clip_id)]
    assert stranger.client.get("/footage").text.count("data-inbox-request") == 0
    share_url = f"/footage/requests/{request_id}/share"
    choice = {"clip_id": str(clip_id), "note": "the red bike at 10:42"}
    assert owner.client.post(share_url, data=choice).status_code == 403  # no CSRF token
    none = owner.client.post(share_url, data={"csrf_token": owner.csrf, "note": "x"})
    assert none.status_code == 422
    assert "tick at least one clip" in texts(none.text, "//*[@id='form-error']")[0]
    taken = stranger.client.post(share_url, data=choice | {"csrf_token": stranger.csrf})
    assert taken.status_code == 404  # not in the stranger's inbox
    shared = owner.client.post(
        share_url, data=choice | {"csrf_token": owner.csrf}, follow_redirects=False
    )
    assert shared.status_code == 303
    after = owner.client.get(shared.headers["location"])
    share_id = int(page(after.text).xpath("//*[@data-share]/@data-share")[0])
    assert page(after.text).xpath(f"//*[@data-share='{share_id}']/@data-active") == ["yes"]

    portal = cop.client.get("/agency")
    videos = page(portal.text).xpath("//video/@src")
    assert videos == [f"/api/v1/footage/shares/{share_id}/video"]
    assert "the red bike at 10:42" in portal.text
    assert texts(portal.text, "//*[@data-count='shared']") == ["1"]
    assert cop.client.get(videos[0]).status_code == 200
    log = owner.client.get("/account/access-log")
    assert log.status_code == 200
    assert "agency seattle-police" in texts(log.text, "//tr[@data-access='footage.read']")[0]
    assert stranger.client.get("/account/access-log").text.count("data-access=") == 0

    # Extend within the limit; a date past it is refused with the rule.
    extend_url = f"/footage/shares/{share_id}/extend"
    late = (utcnow() + timedelta(days=60)).strftime(LOCAL)
    refused = owner.client.post(extend_url, data={"csrf_token": owner.csrf, "until": late})
    assert refused.status_code == 422
    assert "days after its request expires" in refused.text
    until = (utcnow() + timedelta(days=5)).strftime(LOCAL)
    extended = owner.client.post(
        extend_url, data={"csrf_token": owner.csrf, "until": until}, follow_redirects=False
    )
    assert extended.status_code == 303
    # Only the owner revokes; then the agency's read is a 404 and the portal lists no clip.
    revoke_url = f"/footage/shares/{share_id}/revoke"
    assert stranger.client.post(revoke_url, data={"csrf_token": stranger.csrf}).status_code == 404
    assert owner.client.post(revoke_url, data={}).status_code == 403
    revoked = owner.client.post(revoke_url, data={"csrf_token": owner.csrf}, follow_redirects=False)
    assert revoked.status_code == 303
    assert cop.client.get(videos[0]).status_code == 404
    portal = cop.client.get("/agency")
    assert page(portal.text).xpath("//video") == []
    assert texts(portal.text, "//*[@data-count='revoked']") == ["1"]
    report = app_client.get("/transparency?agency=seattle-police")
    assert texts(report.text, "//*[@data-total='shared']") == ["1"]
    assert texts(report.text, "//*[@data-total='revoked']") == ["1"]
    assert page(report.text).xpath("//a[@data-format='csv']/@href") == [
        "/api/v1/agencies/seattle-police/transparency.csv"
    ]


def test_a_resident_declines_a_request(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    box = mailbox[0]
    make_agency(factory, "seattle-police")
    owner, _ = camera_owner(app_client, box, "owner@example.org", INSIDE)
    cop = officer(app_client, box, factory, "cop@example.org", "seattle-police")
    assert cop.client.post("/agency/requests", data=portal_form(cop)).status_code == 200
    with factory() as session:
        request_id = session.scalars(select(FootageRequest.id)).one()
    url = f"/footage/requests/{request_id}/decline"
    assert owner.client.post(url, data={}).status_code == 403
    done = owner.client.post(url, data={"csrf_token": owner.csrf})
    assert done.status_code == 200
    assert texts(done.text, f"//*[@id='req-{request_id}']//*[@class='state state--removed']") == [
        "declined"
    ]
    # The agency's count does not move: it never learns of the refusal.
    portal = cop.client.get("/agency")
    assert texts(portal.text, "//*[@data-count='notified']") == ["1"]


def test_the_owner_rotates_a_push_token_and_the_old_one_stops(
    app_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
    clips: Clips,
) -> None:
    """A leaked token is dead once the owner asks for a new one on the page."""
    box = mailbox[0]
    owner, camera = camera_owner(app_client, box, "owner@example.org", INSIDE)
    stranger = resident(app_client, box, "stranger@example.org")
    url = f"/cameras/{camera['id']}/token"
    listed = owner.client.get("/cameras")
    assert page(listed.text).xpath("//form[@data-rotate-form]/@action") == [url]
    with factory() as session:
        before = session.get_one(Camera, camera["id"]).token_hash
    assert owner.client.post(url, data={}).status_code == 403  # no CSRF token
    taken = stranger.client.post(url, data={"csrf_token": stranger.csrf})
    assert taken.status_code == 404  # not the stranger's camera
    assert "not found" in texts(taken.text, "//*[@id='camera-error']")[0]
    with factory() as session:
        assert session.get_one(Camera, camera["id"]).token_hash == before
    rotated = owner.client.post(url, data={"csrf_token": owner.csrf})
    assert rotated.status_code == 200
    assert page(rotated.text).xpath("//*[@data-camera-rotated]/@data-camera-rotated") == [
        str(camera["id"])
    ]
    token = texts(rotated.text, "//*[@data-push-token]")[0]
    assert token.startswith("tsc_")
    assert token != camera["token"]
    assert token not in owner.client.get("/cameras").text  # shown once
    # The old token is refused before the body is read; the new one pushes a clip.
    old = app_client.post(
        f"/api/v1/cameras/{camera['id']}/clips",
        headers={"Authorization": f"Bearer {camera['token']}", "Content-Type": "video/mp4"},
    )
    assert old.status_code == 401
    assert push(app_client, camera | {"token": token}, clips.make())


def test_the_owner_deletes_a_camera_and_its_shares_end(
    app_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
    clips: Clips,
) -> None:
    """Deleting asks for a ticked box, and the agency loses the clips it was shown."""
    box = mailbox[0]
    make_agency(factory, "seattle-police")
    owner, camera = camera_owner(app_client, box, "owner@example.org", INSIDE)
    clip_id = push(app_client, camera, clips.make())
    stranger = resident(app_client, box, "stranger@example.org")
    cop = officer(app_client, box, factory, "cop@example.org", "seattle-police")
    assert cop.client.post("/agency/requests", data=portal_form(cop)).status_code == 200
    with factory() as session:
        request_id = session.scalars(select(FootageRequest.id)).one()
    share = {"clip_id": str(clip_id), "csrf_token": owner.csrf}
    assert owner.client.post(f"/footage/requests/{request_id}/share", data=share).is_success
    assert len(cop.client.get(f"/api/v1/footage/requests/{request_id}/shares").json()) == 1

    url = f"/cameras/{camera['id']}/delete"
    listed = owner.client.get("/cameras")
    labelled(listed.text)
    warning = texts(listed.text, "//form[@data-delete-form]/p")[0]
    assert "stops being shared" in warning
    assert "video files are deleted too" in warning
    with factory() as session:
        media_id = session.get_one(Clip, clip_id).media_id
        video = session.get_one(Media, media_id)
        keys = [video.original_key, video.public_key]
    assert owner.client.get(f"/api/v1/media/{media_id}/original").status_code == 200
    assert owner.client.post(url, data={"confirm": "yes"}).status_code == 403  # no CSRF token
    unticked = owner.client.post(url, data={"csrf_token": owner.csrf})
    assert unticked.status_code == 422
    assert "Tick the box" in texts(unticked.text, "//*[@id='camera-error']")[0]
    taken = stranger.client.post(url, data={"csrf_token": stranger.csrf, "confirm": "yes"})
    assert taken.status_code == 404
    with factory() as session:
        assert session.get(Camera, camera["id"]) is not None
    deleted = owner.client.post(
        url, data={"csrf_token": owner.csrf, "confirm": "yes"}, follow_redirects=False
    )
    assert deleted.status_code == 303
    after = owner.client.get(deleted.headers["location"])
    assert page(after.text).xpath("//*[@data-camera-deleted]")
    assert page(after.text).xpath("//*[@data-camera]") == []
    # The agency can no longer see the clip; the public count of clips shared stays.
    assert cop.client.get(f"/api/v1/footage/requests/{request_id}/shares").json() == []
    public = app_client.get(f"/api/v1/footage/requests/{request_id}").json()
    assert (public["clips_shared"], public["clips_revoked"]) == (1, 0)
    # The clip's video went with it, original and blurred copy, files included.
    assert owner.client.get(f"/api/v1/media/{media_id}/original").status_code == 404
    store = Path(owner.client.app.state.platform.settings.data_dir) / "media"  # type: ignore[attr-defined]
    assert [k for k in keys if k and (store / k[:2] / k).exists()] == []


def test_the_cameras_page_lists_the_newest_clips_and_whether_they_are_ready(
    app_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
    clips: Clips,
) -> None:
    owner, camera = camera_owner(app_client, mailbox[0], "owner@example.org", INSIDE)
    first = push(app_client, camera, clips.make("first.mp4"))
    second = push(app_client, camera, clips.make("second.mp4"))
    with factory() as session:  # the second one's frames could not be decoded, say
        media_id = session.get_one(Clip, second).media_id
        row = session.get_one(Media, media_id)
        row.state, row.error = "failed", "the clip cannot be decoded (no frame)"
        session.commit()
    shown = owner.client.get("/cameras").text
    card = f"//*[@data-camera='{camera['id']}']"
    states = page(shown).xpath(f"{card}//*[@data-clip]/@data-clip-state")
    assert sorted(states) == ["failed", "ready"]
    lines = {t.split(":")[0]: t for t in texts(shown, f"{card}//*[@data-clip]")}
    assert lines[f"Clip {first}"].endswith("ready to share")
    assert lines[f"Clip {second}"].endswith(
        "could not be processed: the clip cannot be decoded (no frame)"
    )
    other = resident(app_client, mailbox[0], "other@example.org")
    assert page(other.client.get("/cameras").text).xpath("//*[@data-clip]") == []


def test_the_portal_reads_its_times_in_the_zone_the_form_was_sent_with(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    make_agency(factory, "seattle-police")
    cop = officer(app_client, mailbox[0], factory, "cop@example.org", "seattle-police")
    blank = cop.client.get("/agency")
    zone = page(blank.text).xpath("//input[@name='time_zone']/@value")
    assert zone == ["America/Los_Angeles"]  # the site's zone, until the browser says its own
    tokyo = ZoneInfo("Asia/Tokyo")
    start = (utcnow() - timedelta(hours=2)).replace(second=0, microsecond=0)
    form = portal_form(
        cop,
        window_start=start.astimezone(tokyo).strftime(LOCAL),
        window_end=(start + timedelta(hours=1)).astimezone(tokyo).strftime(LOCAL),
        expires_at=(start + timedelta(days=3)).astimezone(tokyo).strftime(LOCAL),
        time_zone="Asia/Tokyo",
    )
    filed = cop.client.post("/agency/requests", data=form, follow_redirects=False)
    assert filed.status_code == 303
    with factory() as session:
        assert session.scalars(select(FootageRequest.window_start)).one() == start
    listed = cop.client.get(filed.headers["location"])
    shown = texts(listed.text, "//*[@data-request]//time[@data-local]")[0]
    assert shown == local_text(start, "America/Los_Angeles")
    assert shown.endswith(("PST", "PDT"))
