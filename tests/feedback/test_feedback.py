"""Readers mark alerts "not useful" or "inaccurate"; the desk shows the share per source and
category and the median time from ingestion to a curator's decision."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.support.alerts import HOME, subscribe
from tests.support.desk import DESK, add
from tests.support.residents import Mailbox, Person, resident
from tests.support.waiting import wait_for
from tests.support.webhooks import Receiver
from townsquare import audit
from townsquare.db import transaction, utcnow
from townsquare.feedback.models import Feedback
from townsquare.incidents.models import Incident
from townsquare.ingest import service as ingest
from townsquare.ingest.cli import compress_to_now
from townsquare.ingest.config import MAPPINGS_DIR, load_source_config
from townsquare.platform import Platform

SF = MAPPINGS_DIR / "sf_fire_calls.toml"


def alert(factory: sessionmaker[Session], **kwargs: object) -> int:
    """A public incident the gate sent as an alert."""
    incident_id = add(factory, **kwargs)  # type: ignore[arg-type]
    with transaction(factory) as session:
        session.execute(update(Incident).where(Incident.id == incident_id).values(alertable=True))
    return incident_id


def mark(client: TestClient, incident_id: int, verdict: str, agent: str = "reader-1") -> object:
    return client.post(
        f"/api/v1/incidents/{incident_id}/feedback",
        json={"verdict": verdict},
        headers={"user-agent": agent},
    )


def votes(factory: sessionmaker[Session]) -> list[Feedback]:
    with factory() as session:
        return list(session.scalars(select(Feedback).order_by(Feedback.id)))


def test_one_vote_per_reader_which_the_reader_can_change(
    desk_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    incident_id = alert(factory)
    first = mark(desk_client, incident_id, "not_useful")
    assert first.status_code == 200, first.text
    assert first.json() == {"incident_id": incident_id, "verdict": "not_useful", "changed": True}
    assert mark(desk_client, incident_id, "not_useful").json()["changed"] is False
    assert mark(desk_client, incident_id, "inaccurate").json()["changed"] is True
    assert [v.verdict for v in votes(factory)] == ["inaccurate"]
    # Another browser on the same address is another reader; so is a signed-in resident,
    # whose second vote from any browser is still the one vote.
    assert mark(desk_client, incident_id, "not_useful", agent="reader-2").status_code == 200
    ada = resident(desk_client, mailbox[0], "ada@example.org")
    signed = ada.client.post(
        f"/api/v1/incidents/{incident_id}/feedback",
        json={"verdict": "inaccurate"},
        headers={**ada.headers, "user-agent": "reader-3"},
    )
    assert signed.status_code == 200, signed.text
    again = ada.client.post(
        f"/api/v1/incidents/{incident_id}/feedback",
        json={"verdict": "inaccurate"},
        headers={**ada.headers, "user-agent": "reader-4"},
    )
    assert again.json()["changed"] is False
    rows = votes(factory)
    assert [(v.verdict, v.signed_in) for v in rows] == [
        ("inaccurate", False),
        ("not_useful", False),
        ("inaccurate", True),
    ]
    # Nothing that names the reader is stored: no address, no agent, no account id.
    for row in rows:
        stored = f"{row.voter} {row.rate_key}"
        assert "testclient" not in stored
        assert "reader" not in stored
        assert len(row.voter) == 64
    assert rows[2].rate_key is None


def test_a_signed_in_vote_needs_the_csrf_token(
    desk_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    incident_id = alert(factory)
    ada = resident(desk_client, mailbox[0], "ada@example.org")
    forged = ada.client.post(
        f"/api/v1/incidents/{incident_id}/feedback", json={"verdict": "inaccurate"}
    )
    assert forged.status_code == 403
    assert votes(factory) == []


def test_only_alerts_can_be_marked(desk_client: TestClient, factory: sessionmaker[Session]) -> None:
    quiet = add(factory)
    refused = mark(desk_client, quiet, "not_useful")
    assert refused.status_code == 409
    assert "only alerts can be marked" in refused.text
    withheld = add(factory, visibility="withheld")
    assert mark(desk_client, withheld, "inaccurate").status_code == 404
    assert mark(desk_client, 987654, "inaccurate").status_code == 404
    assert mark(desk_client, alert(factory), "scary").status_code == 422
    assert votes(factory) == []


def test_anonymous_readers_are_rate_limited_per_address(
    desk_client: TestClient,
    desk_platform: Platform,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
) -> None:
    limit = desk_platform.settings.feedback_anonymous_per_hour
    alerts = [alert(factory) for _ in range(limit + 1)]
    # A new user agent per mark: changing browsers does not get around the limit.
    for n, incident_id in enumerate(alerts[:limit]):
        assert mark(desk_client, incident_id, "not_useful", agent=f"ua-{n}").status_code == 200
    refused = mark(desk_client, alerts[-1], "not_useful", agent="ua-new")
    assert refused.status_code == 429
    assert "sign in" in refused.text
    ada = resident(desk_client, mailbox[0], "ada@example.org")
    signed = ada.post(f"/api/v1/incidents/{alerts[-1]}/feedback", json={"verdict": "inaccurate"})
    assert signed.status_code == 200
    assert len(votes(factory)) == limit + 1


def test_a_retracted_alert_can_still_be_marked_inaccurate(
    desk_client: TestClient,
    curator: Person,
    desk_platform: Platform,
    receiver: Receiver,
    factory: sessionmaker[Session],
) -> None:
    subscribe(factory, [{"kind": "webhook", "url": receiver.url}], urgent_severity=1)
    wait_for(lambda: desk_platform.alerts.index.match(*HOME), what="the watch area in the index")
    incident_id = add(factory)
    assert curator.post(
        f"{DESK}/incidents/{incident_id}/alert", json={"reason": "smoke"}
    ).is_success
    wait_for(lambda: len(receiver.received) == 1, what="the alert webhook")
    assert curator.post(f"{DESK}/incidents/{incident_id}/retract", json={"reason": "false alarm"})
    wait_for(lambda: len(receiver.received) == 2, what="the cancel webhook")
    assert mark(desk_client, incident_id, "inaccurate").status_code == 200
    item = curator.client.get(f"{DESK}/incidents/{incident_id}").json()
    assert item["marks"] == {"not_useful": 0, "inaccurate": 1}


def test_quality_per_source_and_category_on_the_sf_sample(
    desk_client: TestClient, curator: Person, factory: sessionmaker[Session]
) -> None:
    now = utcnow()
    config = load_source_config(SF)
    # The sample's calls replayed into the last minutes, so the gate alerts the timely ones.
    first = ingest.ingest(factory, config, now=now)
    with factory() as session:
        last = session.scalar(select(func.max(Incident.occurred_at)))
    assert last is not None
    assert first.created > 0
    ingest.ingest(factory, config, now=now, retime=compress_to_now(last, now, speed=2000))
    with factory() as session:
        alerted = list(
            session.scalars(
                select(Incident.id).where(Incident.alertable.is_(True)).order_by(Incident.id)
            )
        )
        entered = session.scalar(select(func.count()).select_from(Incident))
        by_category = dict(
            session.execute(
                select(Incident.category, func.count())
                .where(Incident.alertable.is_(True))
                .group_by(Incident.category)
            ).all()
        )
    assert len(alerted) >= 4
    for n, incident_id in enumerate(alerted[:3]):
        assert mark(desk_client, incident_id, "inaccurate", agent=f"ua-{n}").status_code == 200
    assert mark(desk_client, alerted[0], "not_useful", agent="another").status_code == 200
    # A resident post enters too, and is decided by a curator: its own source row.
    post = alert(factory, minutes_ago=3)
    with transaction(factory) as session:
        session.execute(update(Incident).where(Incident.id == post).values(origin="resident"))
    assert curator.post(f"{DESK}/incidents/{post}/withhold", json={"reason": "a name"}).is_success

    quality = curator.client.get(f"{DESK}/quality", params={"days": 7})
    assert quality.status_code == 200, quality.text
    figures = quality.json()
    sf = next(r for r in figures["by_source"] if r["key"] == "sf-fire-calls")
    assert (sf["entered"], sf["alerts"]) == (entered, len(alerted))
    assert (sf["marked_inaccurate"], sf["marked_not_useful"]) == (3, 1)
    assert sf["share_inaccurate"] == pytest.approx(3 / len(alerted), abs=1e-4)
    assert (sf["decided"], sf["median_decision_s"]) == (0, None)
    residents = next(r for r in figures["by_source"] if r["key"] == "residents")
    assert (residents["entered"], residents["decided"]) == (1, 1)
    # Entered 3 minutes ago, decided now.
    assert residents["median_decision_s"] == pytest.approx(180, abs=60)
    categories = {r["key"]: r["alerts"] for r in figures["by_category"]}
    assert {k: v for k, v in categories.items() if v} == by_category
    assert figures["totals"]["alerts"] == len(alerted)


def test_quality_is_for_curators_only(
    desk_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    assert desk_client.get(f"{DESK}/quality").status_code == 401
    ada = resident(desk_client, mailbox[0], "ada@example.org")
    assert ada.client.get(f"{DESK}/quality").status_code == 403


def test_the_decision_time_is_a_median_of_first_decisions(
    curator: Person, factory: sessionmaker[Session]
) -> None:
    waits = (10, 20, 40)
    for minutes in waits:
        incident_id = add(factory, minutes_ago=minutes)
        for action in ("withhold", "publish"):  # only the first decision counts
            body = {"reason": "checking"}
            assert curator.post(f"{DESK}/incidents/{incident_id}/{action}", json=body).is_success
    add(factory, minutes_ago=5)  # waiting: entered, not decided
    figures = curator.client.get(f"{DESK}/quality").json()
    assert figures["totals"]["entered"] == 4
    assert figures["totals"]["decided"] == 3
    assert figures["totals"]["median_decision_s"] == pytest.approx(20 * 60, abs=60)
    with factory() as session:
        assert audit.verify(session).ok


def test_the_incident_page_takes_a_mark_without_javascript(
    desk_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    incident_id = alert(factory)
    page = desk_client.get(f"/incidents/{incident_id}")
    assert f'action="/incidents/{incident_id}/feedback"' in page.text
    assert 'name="csrf_token"' not in page.text  # anonymous: nothing to forge
    sent = desk_client.post(
        f"/incidents/{incident_id}/feedback", data={"verdict": "inaccurate"}, follow_redirects=False
    )
    assert sent.status_code == 303
    thanked = desk_client.get(sent.headers["location"])
    assert "you marked this alert inaccurate" in thanked.text
    assert [v.verdict for v in votes(factory)] == ["inaccurate"]
    # A page without an alert offers no form, and a forged post is refused on the page.
    quiet = add(factory)
    assert "/feedback" not in desk_client.get(f"/incidents/{quiet}").text
    refused = desk_client.post(f"/incidents/{quiet}/feedback", data={"verdict": "inaccurate"})
    assert refused.status_code == 409
    assert "Only alerts can be marked" in refused.text
    # A signed-in reader's form carries the session's token; without it the post is refused.
    ada = resident(desk_client, mailbox[0], "ada@example.org")
    assert f'value="{ada.csrf}"' in ada.client.get(f"/incidents/{incident_id}").text
    forged = ada.client.post(f"/incidents/{incident_id}/feedback", data={"verdict": "inaccurate"})
    assert forged.status_code == 403
    mine = ada.client.post(
        f"/incidents/{incident_id}/feedback",
        data={"verdict": "not_useful", "csrf_token": ada.csrf},
        follow_redirects=False,
    )
    assert mine.status_code == 303
    assert sorted(v.verdict for v in votes(factory)) == ["inaccurate", "not_useful"]
