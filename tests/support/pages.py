"""Helpers of the page tests: reading pages, signing in through them, a post's form."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pyotp
from fastapi.testclient import TestClient
from lxml import html
from PIL import Image
from skimage import data as sample_images
from sqlalchemy.orm import Session, sessionmaker

from tests.support.residents import PASSWORD, Mailbox, resident
from townsquare.accounts import grants
from townsquare.db import utcnow

HOME = (47.6205, -122.3493)


def page(body: str) -> html.HtmlElement:
    """A page as an element tree."""
    root = html.fromstring(body)
    assert isinstance(root, html.HtmlElement)
    return root


def value(body: str, name: str) -> str:
    """The value of the first input called `name`."""
    found = page(body).xpath(f"//input[@name='{name}']/@value")
    assert isinstance(found, list)
    assert found, name
    return str(found[0])


def texts(body: str, path: str) -> list[str]:
    """The whitespace-normalised texts of the elements an XPath finds."""
    found = page(body).xpath(path)
    assert isinstance(found, list)
    return [" ".join(n.text_content().split()) for n in found if isinstance(n, html.HtmlElement)]


def labelled(body: str) -> None:
    """Every visible input, select and textarea has a <label for=...>."""
    root = page(body)
    fields = root.xpath("//input[not(@type='hidden')][not(@type='radio')] | //select | //textarea")
    assert isinstance(fields, list)
    labels = set(root.xpath("//label/@for"))  # type: ignore[arg-type]
    for node in fields:
        assert isinstance(node, html.HtmlElement)
        assert node.get("id") in labels, html.tostring(node)


def browser_sign_in(client: TestClient, email: str, totp: str | None = None) -> TestClient:
    """Sign in through the pages on a fresh cookie jar; returns the signed-in client.

    With `totp`, the password step must answer with the code step, which carries a pending
    sign-in token and never the password.
    """
    fresh = TestClient(client.app)
    form = fresh.get("/sign-in?next=/account")
    assert form.status_code == 200
    fields = {"form_token": value(form.text, "form_token"), "next": "/account"}
    done = fresh.post(
        "/sign-in", data={**fields, "email": email, "password": PASSWORD}, follow_redirects=False
    )
    if totp is not None:
        assert done.status_code == 200, done.text
        assert page(done.text).xpath("//input[@name='password']") == []
        assert PASSWORD not in done.text
        code = {**fields, "pending": value(done.text, "pending"), "totp": totp}
        done = fresh.post("/sign-in/code", data=code, follow_redirects=False)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/account"
    return fresh


def csrf_of(client: TestClient) -> str:
    """The session's CSRF token, as the account page's forms carry it."""
    return value(client.get("/account").text, "csrf_token")


def moderator(client: TestClient, box: Mailbox, factory: sessionmaker[Session]) -> TestClient:
    """A moderator signed in through the pages with a two-factor code."""
    email = "mod@example.org"
    person = resident(client, box, email)
    with factory() as session:
        grants.grant_role(session, email, "moderator", actor_id=None)
    secret = person.post("/api/v1/account/totp").json()["secret"]
    now = utcnow()
    totp = pyotp.TOTP(secret)
    assert person.post("/api/v1/account/totp/confirm", json={"code": totp.at(now)}).status_code
    return browser_sign_in(client, email, totp.at(now, counter_offset=1))


def draft(csrf: str, **changes: Any) -> dict[str, Any]:
    """The new-post form as a browser sends it (local time given with its UTC offset)."""
    when = utcnow() - timedelta(minutes=10)
    body: dict[str, Any] = {
        "csrf_token": csrf,
        "category": "crime.vandalism",
        "title": "Car window smashed",
        "description": "Someone broke the window of a parked car and ran north.",
        "occurred_at": when.strftime("%Y-%m-%dT%H:%M"),
        "tz_offset": "0",
        "lat": str(HOME[0]),
        "lon": str(HOME[1]),
    }
    body.update(changes)
    return body


def jpeg() -> bytes:
    """A real photo (the astronaut sample) as JPEG."""
    out = io.BytesIO()
    Image.fromarray(sample_images.astronaut()).save(out, format="JPEG", quality=85)
    return out.getvalue()
