"""Planted personal data put in through the real write paths: feeds of every kind read once
or pushed signed to the app, resident posts and their approval, official updates and footage
requests over the API. The test of test_planted_pii.py then looks for it everywhere."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.support import sources
from tests.support.feeds import FeedServer
from tests.support.planted import Ledger
from tests.support.residents import Person
from townsquare.db import transaction, utcnow
from townsquare.ingest import service
from townsquare.ingest.pushed import sign

COUNTS = {"csv": 4000, "json": 2000, "atom": 1200, "cap": 1000, "eido": 1000, "push": 1000}
"""Planted calls of each source kind: 10,200 in all."""
POSTS, UPDATES, FOOTAGE = 30, 30, 15
KEY, SECRET = "planted-key", "planted-secret"


def poll_kinds(
    ledger: Ledger, factory: sessionmaker[Session], server: FeedServer, tmp_path: Path
) -> list[sources.PlantedFeed]:
    """The csv file and the json, atom, cap and eido feeds over HTTP, each read once."""
    now = utcnow()
    feeds = [
        sources.csv_feed(ledger, tmp_path, COUNTS["csv"], now),
        sources.json_feed(ledger, server, COUNTS["json"], now),
        sources.atom_feed(ledger, server, COUNTS["atom"], now),
        sources.cap_feed(ledger, server, COUNTS["cap"], now),
        sources.eido_feed(ledger, server, COUNTS["eido"], now),
    ]
    for feed in feeds:
        report = service.ingest(factory, feed.config, now=now)
        assert report.received == COUNTS[feed.kind], (feed.kind, report)
    return feeds


def push_kind(
    ledger: Ledger,
    factory: sessionmaker[Session],
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
) -> sources.PlantedFeed:
    """Records pushed to the app in signed batches."""
    pushed = sources.push_feed(ledger, COUNTS["push"], utcnow())
    monkeypatch.setenv("PLANTED_PUSH_KEY", KEY)
    monkeypatch.setenv("PLANTED_PUSH_SECRET", SECRET)
    with transaction(factory) as session:
        service.ensure_source(session, pushed.config)
    for body in sources.push_bodies(pushed, 250):
        stamp = int(time.time())
        headers = {
            "X-Townsquare-Key": KEY,
            "X-Townsquare-Timestamp": str(stamp),
            "X-Townsquare-Signature": sign(SECRET, stamp, body),
            "Content-Type": "application/json",
        }
        answer = client.post("/api/v1/sources/planted-push/records", content=body, headers=headers)
        assert answer.status_code == 202, answer.text
    return pushed


def rebind(person: Person, client: TestClient) -> Person:
    """The same signed-in session on the app `client` runs."""
    fresh = TestClient(client.app, cookies=dict(person.client.cookies))
    return Person(fresh, person.email, person.account_id, person.csrf)


def posts(ledger: Ledger, author: Person, moderator: Person) -> tuple[list[int], list[str]]:
    """Resident posts with planted titles and descriptions, approved by a moderator; and what
    the moderator read (the queue, its page, the answers): scrubbed too (issue 13 item 4)."""
    ids = []
    for i in range(POSTS):
        body = {
            "category": ("crime.vandalism", "safety.hazard", "traffic.hazard")[i % 3],
            "title": ledger.text("post", "title", i)[:200],
            "description": ledger.text("post", "description", i),
            "occurred_at": (utcnow() - timedelta(minutes=10)).isoformat(),
            "lat": sources.HOME[0] + 0.0003 * (i % 5),
            "lon": sources.HOME[1],
        }
        made = author.post("/api/v1/posts", json=body)
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])
    read = [moderator.client.get(url).text for url in ("/api/v1/moderation/queue", "/moderation")]
    for post_id in ids:
        approved = moderator.post(f"/api/v1/moderation/posts/{post_id}/approve", json={})
        assert approved.status_code == 200, approved.text
        read.append(approved.text)
    read.append(moderator.client.get("/moderation").text)
    return ids, read


def updates(ledger: Ledger, cop: Person) -> list[int]:
    """Official updates with planted title, summary and address."""
    ids = []
    for i in range(UPDATES):
        body = {
            "category": ("safety.hazard", "fire.structure", "traffic.closure")[i % 3],
            "title": ledger.text("update", "title", i)[:200],
            "summary": ledger.text("update", "summary", i),
            "occurred_at": (utcnow() - timedelta(minutes=5)).isoformat(),
            "lat": sources.HOME[0] - 0.0003 * (i % 5),
            "lon": sources.HOME[1],
            "address": ledger.text("update", "address", i)[:300],
        }
        made = cop.post("/api/v1/agency/updates", json=body)
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])
    return ids


def footage_requests(ledger: Ledger, cop: Person) -> list[int]:
    """Footage requests with planted reasons, around HOME."""
    ids = []
    now = utcnow()
    for i in range(FOOTAGE):
        body = {
            "case_number": f"2026-{900000 + i}",
            "reason": ledger.text("footage", "reason", i),
            "circle": {"lat": sources.HOME[0], "lon": sources.HOME[1], "radius_m": 300},
            "window_start": (now - timedelta(hours=2)).isoformat(),
            "window_end": (now - timedelta(hours=1)).isoformat(),
            "expires_at": (now + timedelta(days=7)).isoformat(),
        }
        made = cop.post("/api/v1/footage/requests", json=body)
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])
    return ids
