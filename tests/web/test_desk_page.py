"""The curation desk page: moderators only, CSRF-checked forms, actions shown, refusals inline."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.support.alerts import HOME
from tests.support.desk import add, desk_actions
from tests.support.residents import Mailbox, Person, resident
from townsquare.incidents.models import Incident


def item_html(page: str, incident_id: int) -> str:
    """The markup of one queue item."""
    found = re.search(
        rf'<li [^>]*id="item-{incident_id}".*?</li>\s*(?=<li class="card|</ol>)', page, re.S
    )
    assert found, f"item {incident_id} not on the page"
    return found.group(0)


def form(person: Person, **fields: str) -> dict[str, str]:
    """A desk form as the page sends it, with the session's CSRF token."""
    return {"csrf_token": person.csrf, **fields}


def test_moderators_only(
    desk_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    incident_id = add(factory)
    anonymous = desk_client.get("/desk", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/sign-in?next=/desk"
    fragment = desk_client.get("/desk/fragments/queue", follow_redirects=False)
    assert fragment.status_code == 303
    ada = resident(desk_client, mailbox[0], "ada@example.org")
    refused = ada.client.get("/desk")
    assert refused.status_code == 403
    assert "Moderators only" in refused.text
    assert 'href="/desk"' not in refused.text  # no nav link for a resident
    assert ada.client.get("/desk/fragments/queue").status_code == 403
    assert ada.client.get("/desk/fragments/quality").status_code == 403
    acted = ada.client.post(
        f"/desk/incidents/{incident_id}/withhold", data=form(ada, reason="not mine to do")
    )
    assert acted.status_code == 403
    assert desk_actions(factory) == []


def test_queue_shows_gate_provenance_nearby_and_waiting(
    curator: Person, factory: sessionmaker[Session]
) -> None:
    first = add(factory, minutes_ago=10)
    second = add(factory, minutes_ago=5, lat=HOME[0] - 0.001, category="crime.burglary")
    shown = curator.client.get("/desk")
    assert shown.status_code == 200
    assert shown.headers["cache-control"] == "no-store"
    assert 'href="/desk"' in shown.text  # the nav names the desk for moderators
    assert "/static/desk.js" in shown.text
    assert "<script>" not in shown.text  # no inline script under the CSP
    assert "Keyboard shortcuts" in shown.text
    item = item_html(shown.text, second)
    assert "dispatch-confirmed" in item
    assert "not alerted: test" in item
    assert "waiting " in item
    assert f'data-nearby="{first}"' in item
    assert f'data-merge-into="{first}"' in item
    assert "Merge into this" in item
    assert f'name="into" type="number" min="1" required value="{first}"' in item
    fragment = curator.client.get("/desk/fragments/queue")
    assert fragment.status_code == 200
    assert f'id="item-{second}"' in fragment.text
    assert "<html" not in fragment.text


def test_csrf_is_enforced_and_an_action_shows(
    curator: Person, factory: sessionmaker[Session]
) -> None:
    incident_id = add(factory)
    url = f"/desk/incidents/{incident_id}/rewrite"
    fields = {"reason": "plain language", "title": "Smoke from a garage"}
    forged = curator.client.post(url, data=fields | {"csrf_token": "forged"})
    assert forged.status_code == 403
    assert curator.client.post(url, data=fields).status_code == 403
    assert desk_actions(factory) == []
    done = curator.client.post(url, data=form(curator, **fields), follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"].endswith(f"#item-{incident_id}")
    page = curator.client.get(done.headers["location"])
    assert f"Rewritten: incident {incident_id}" in page.text
    item = item_html(page.text, incident_id)
    assert "Smoke from a garage" in item
    assert "rewrite: plain language" in item  # the decision, from the audit log
    assert "waited " in item
    assert desk_actions(factory) == ["desk.rewrite"]
    crafted = curator.client.get("/desk?done=Your+session+expired&item=1")
    assert "Your session expired" not in crafted.text  # the page composes its own notes
    assert 'id="desk-done"' not in crafted.text
    with factory() as session:
        assert session.get_one(Incident, incident_id).title == "Smoke from a garage"


def test_merge_form_takes_the_duplicate_out(
    curator: Person, factory: sessionmaker[Session]
) -> None:
    primary = add(factory)
    duplicate = add(factory, minutes_ago=4, lat=HOME[0] - 0.0005)
    done = curator.client.post(
        f"/desk/incidents/{duplicate}/merge",
        data=form(curator, reason="same call", into=str(primary)),
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"].endswith(f"#item-{primary}")
    page = curator.client.get(done.headers["location"]).text
    assert f'id="item-{duplicate}"' not in page
    assert f"Merged or linked here: #{duplicate}" in item_html(page, primary)


def test_alerting_a_stale_incident_shows_the_rule(
    curator: Person, factory: sessionmaker[Session]
) -> None:
    old = add(factory, minutes_ago=180)
    url = f"/desk/incidents/{old}/alert"
    refused = curator.client.post(url, data=form(curator, reason="big fire"))
    assert refused.status_code == 409
    item = item_html(refused.text, old)
    assert '<details class="desk-action" data-action="alert" open>' in item
    assert "only incidents of the last 60 minutes are alerted" in item
    assert "3 h old" in item
    assert 'value="big fire"' in item  # the reason typed is kept
    unexplained = curator.client.post(url, data=form(curator, reason=""))
    assert unexplained.status_code == 422
    assert "reason" in item_html(unexplained.text, old)
    assert "data-refusal" in item_html(unexplained.text, old)
    unknown = curator.client.post(f"/desk/incidents/{old}/shout", data=form(curator, reason="x"))
    assert unknown.status_code == 404
    assert desk_actions(factory) == []


def test_the_page_shows_quality_per_source_and_category_and_marks_per_item(
    curator: Person, desk_client: TestClient, factory: sessionmaker[Session]
) -> None:
    incident_id = add(factory)
    with factory() as session:
        row = session.get(Incident, incident_id)
        assert row is not None
        row.alertable = True
        session.commit()
    marked = desk_client.post(
        f"/api/v1/incidents/{incident_id}/feedback",
        json={"verdict": "inaccurate"},
        headers={"user-agent": "someone", "X-CSRF-Token": curator.csrf},
    )
    assert marked.status_code == 200, marked.text
    page = curator.client.get("/desk")
    assert page.status_code == 200
    assert 'data-quality="' not in page.text  # loaded when the panel opens, not every time
    assert "Readers marked this alert: 0 not useful, 1 inaccurate" in item_html(
        page.text, incident_id
    )
    fragment = curator.client.get("/desk/fragments/quality")
    assert fragment.status_code == 200
    words = re.sub(r"<[^>]+>", "", fragment.text)
    assert "1 alert; 0% (0) marked not useful, 100% (1) inaccurate" in words
    page = curator.client.get("/desk?quality=1")  # the same, in the page, without JavaScript
    row_html = re.search(r'<tr data-quality="fire.structure">.*?</tr>', page.text, re.S)
    assert row_html, "no row for the category"
    assert re.search(r"data-alerts>1<", row_html.group(0))
    assert re.search(r"data-inaccurate>100%", row_html.group(0))
