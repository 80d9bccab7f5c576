"""Two nodes as docs/deploy.md sets them up: deploy/townsquare.env on PostgreSQL and NATS,
media in the shared database, the secret from `townsquare keys secret`, behind Debian's
nginx with deploy/nginx/townsquare.conf. A resident enrols two-factor on one node and
confirms on the other, signs in with the password on one and the code on the other; a clip
uploaded to the node without a media job is blurred by the other; every feed's links use
the public URL."""

from __future__ import annotations

import re
import uuid
from contextlib import ExitStack
from pathlib import Path

import httpx
import pyotp
import pytest
from sqlalchemy import Engine, text

from tests.support.alerts import HOME, add_incident
from tests.support.broker import delete_stream
from tests.support.clips import astronaut_clip
from tests.support.nodes import cli, documented_env, nginx, nodes
from tests.support.server import free_port
from tests.support.waiting import wait_for
from townsquare.accounts.models import Account
from townsquare.accounts.security import hash_password
from townsquare.db import make_sessionmaker, utcnow
from townsquare.http.deps import SESSION_COOKIE

pytestmark = [pytest.mark.postgres, pytest.mark.deploy]
EMAIL, PASSWORD = "resident@example.org", "correct horse battery"
AREA = f"lat={HOME[0]}&lon={HOME[1]}&radius_m=2000"


def _account(engine: Engine) -> None:
    with make_sessionmaker(engine)() as session:
        now = utcnow()
        session.add(
            Account(
                email=EMAIL,
                password_hash=hash_password(PASSWORD),
                roles=["resident"],
                email_verified_at=now,
                created_at=now,
            )
        )
        session.commit()


def _api_session(base: str) -> tuple[dict[str, str], str]:
    signed = httpx.post(
        f"{base}/api/v1/account/sign-in", json={"email": EMAIL, "password": PASSWORD}
    )
    assert signed.status_code == 200, signed.text
    cookie = signed.cookies[SESSION_COOKIE]
    return {"Cookie": f"{SESSION_COOKIE}={cookie}"}, signed.json()["csrf_token"]


def _web_sign_in(password_node: str, code_node: str, code: str) -> str:
    """The sign-in form: password on one node, two-factor code on the other; the session."""
    page = httpx.get(f"{password_node}/sign-in")
    token = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert token, page.text
    form_cookie = {"Cookie": f"ts_form={page.cookies['ts_form']}"}
    fields = {"form_token": token.group(1), "next": "/account"}
    step = httpx.post(
        f"{password_node}/sign-in",
        data=fields | {"email": EMAIL, "password": PASSWORD},
        headers=form_cookie,
    )
    pending = re.search(r'name="pending" value="([^"]+)"', step.text)
    assert step.status_code == 200, step.text
    assert pending, step.text
    done = httpx.post(
        f"{code_node}/sign-in/code",
        data=fields | {"pending": pending.group(1), "totp": code},
        headers=form_cookie,
    )
    assert done.status_code == 303, done.text
    return done.cookies[SESSION_COOKIE]


def test_two_nodes_behind_nginx_share_sign_in_clips_and_links(
    pg_engine: Engine, postgres_url: str, nats_url: str, tmp_path: Path
) -> None:
    made = cli("keys", "secret")
    assert made.returncode == 0
    assert made.stdout.startswith("TOWNSQUARE_SECRET_KEY=")
    secret = made.stdout.strip().partition("=")[2]
    stream = f"TEST_{uuid.uuid4().hex[:12].upper()}"
    proxy = tmp_path / "nginx"
    _account(pg_engine)
    https_port = free_port()  # the public URL names nginx's port: chosen first
    with ExitStack() as stack:

        def env(name: str, jobs: int) -> dict[str, str]:
            return documented_env(
                public_url=f"https://localhost:{https_port}",
                database_url=postgres_url,
                bus_url=nats_url,
                bus_stream=stream,
                secret_key=secret,
                host="127.0.0.1",
                trusted_proxies="127.0.0.1",  # nginx runs on this machine
                data_dir=str(tmp_path / name),
                account_mail="console",
                media_jobs=str(jobs),
                media_job_interval_s="0.2",
                relay_interval_s="0.05",
                log_level="WARNING",
            )

        one, two = stack.enter_context(
            nodes([env("one", 0), env("two", 1)], [tmp_path / "one.log", tmp_path / "two.log"])
        )
        site, ca = stack.enter_context(nginx([one, two], proxy, https_port=https_port))
        stack.callback(delete_stream, nats_url, stream)

        # Two-factor: set up on node one, confirmed on node two.
        headers, csrf = _api_session(one)
        secret_b32 = httpx.post(
            f"{one}/api/v1/account/totp", headers=headers | {"X-CSRF-Token": csrf}
        ).json()["secret"]
        totp, now = pyotp.TOTP(secret_b32), utcnow()
        confirmed = httpx.post(
            f"{two}/api/v1/account/totp/confirm",
            json={"code": totp.at(now)},
            headers=headers | {"X-CSRF-Token": csrf},
        )
        assert confirmed.status_code == 204, confirmed.text
        with pg_engine.connect() as connection:
            stored = connection.scalar(text("SELECT totp_secret FROM account"))
        assert secret_b32 not in stored
        assert stored.startswith("sealed1:")

        # Password on node one, code on node two; the session works on node one.
        session = _web_sign_in(one, two, totp.at(now, counter_offset=1))
        mine = httpx.get(f"{one}/api/v1/account", headers={"Cookie": f"{SESSION_COOKIE}={session}"})
        assert mine.status_code == 200
        assert mine.json()["email"] == EMAIL

        # A clip uploaded to node one (no media job) is blurred by node two, read through nginx.
        headers = {"Cookie": f"{SESSION_COOKIE}={session}"}
        page = httpx.get(f"{two}/account", headers=headers)
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found, page.text
        csrf = found.group(1)
        clip = astronaut_clip(tmp_path, seconds=1.0)
        with clip.open("rb") as handle:
            uploaded = httpx.post(
                f"{one}/api/v1/media",
                files={"file": ("clip.mp4", handle, "video/mp4")},
                headers=headers | {"X-CSRF-Token": csrf},
                timeout=60,
            )
        assert uploaded.status_code == 201, uploaded.text
        media_id = uploaded.json()["id"]
        with httpx.Client(base_url=site, verify=ca, headers=headers, timeout=30) as web:
            wait_for(
                lambda: web.get(f"/api/v1/media/{media_id}/info").json()["state"] != "processing",
                timeout=60,
                what="node two to blur the clip",
            )
            assert web.get(f"/api/v1/media/{media_id}/info").json()["state"] == "ready"
            video = web.get(f"/api/v1/media/{media_id}")
            assert video.status_code == 200
            assert video.headers["content-type"] == "video/mp4"
            assert video.content[4:8] == b"ftyp"
        blobs = [p for p in tmp_path.glob("*/media/??/*") if p.is_file()]
        assert blobs == []  # kept in the shared database, in no node's folder

        # Every feed, read through nginx, links to the public URL only.
        factory = make_sessionmaker(pg_engine)
        ids = [add_incident(factory) for _ in range(2)]
        with httpx.Client(base_url=site, verify=ca, timeout=30) as web:
            wait_for(
                lambda: len(web.get(f"/api/v1/incidents?{AREA}").json()["features"]) == 2,
                what="both incidents in the feed behind nginx",
            )
            for path in (
                f"/api/v1/incidents?{AREA}&limit=1",
                f"/feeds/atom?{AREA}",
                f"/feeds/cap?{AREA}",
                f"/feeds/cap/{ids[0]}.xml",
            ):
                body = web.get(path)
                assert body.status_code == 200, path
                links = re.findall(r"(?:https?|wss?)://[^\s\"'<>]+", body.text)
                links += re.findall(r"<(https?://[^>]+)>", body.headers.get("link", ""))
                ours = [u for u in links if "localhost" in u or "127.0.0.1" in u]
                assert ours, path
                assert all(u.startswith(site + "/") or u == site for u in ours), (path, ours)
