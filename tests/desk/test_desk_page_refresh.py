"""The desk page's filters (source, a circle around a place, a drawn box), its refresh that
sends only what changed (304 when nothing did), and the gate's reasons said once."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session, sessionmaker

from tests.support import factories
from tests.support.alerts import HOME
from tests.support.desk import DESK, add
from tests.support.residents import Person
from townsquare.incidents.models import Incident
from townsquare.ingest.models import Source

CHANGES = "/desk/fragments/changes"


def shown(html: str) -> list[int]:
    """The ids of the desk items in a page or fragment, in order."""
    return [
        int(i) for i in re.findall(r'<li class="card post desk-item[^"]*" id="item-(\d+)"', html)
    ]


def held(html: str) -> str:
    """What a page holds, as desk.js sends it: id.fingerprint,…"""
    pairs = re.findall(
        r'id="item-(\d+)" data-item="\1" data-visibility="\w+" data-fp="(\w+)"', html
    )
    return ",".join(f"{i}.{fp}" for i, fp in pairs)


def from_source(factory: sessionmaker[Session], incident_id: int, slug: str) -> None:
    """Make the incident one of the source `slug` (made on first use)."""
    with factory() as session:
        source = session.query(Source).filter_by(slug=slug).one_or_none()
        if source is None:
            agency = factories.agency(session, f"{slug}-agency")
            source = Source(
                slug=slug, name=slug.title(), kind="csv", agency_id=agency.id, config={}
            )
            session.add(source)
            session.flush()
        session.get_one(Incident, incident_id).source_id = source.id
        session.commit()


def test_filters_by_source_and_area_narrow_the_rows(
    curator: Person, factory: sessionmaker[Session]
) -> None:
    here = add(factory, minutes_ago=3)
    near = add(factory, minutes_ago=2, lat=HOME[0] + 0.004)  # about 450 m north
    far = add(factory, minutes_ago=1, lat=HOME[0] + 0.05)  # about 5.5 km north
    from_source(factory, here, "north-cad")
    from_source(factory, far, "north-cad")
    from_source(factory, near, "south-cad")
    everything = curator.client.get("/desk")
    assert shown(everything.text) == [far, near, here]
    assert 'value="north-cad"' in everything.text  # the source filter offers each source
    by_source = curator.client.get("/desk?source=north-cad")
    assert shown(by_source.text) == [far, here]
    assert "showing source north-cad" in by_source.text
    lat, lon = HOME
    circle = curator.client.get(f"/desk?lat={lat}&lon={lon}&radius_m=1000")
    assert shown(circle.text) == [near, here]
    small = curator.client.get(f"/desk?lat={lat}&lon={lon}&radius_m=200")
    assert shown(small.text) == [here]
    box = f"south={lat + 0.002}&west={lon - 0.01}&north={lat + 0.1}&east={lon + 0.01}"
    drawn = curator.client.get(f"/desk?{box}")
    assert shown(drawn.text) == [far, near]
    assert "inside a box" in drawn.text
    both = curator.client.get(f"/desk?{box}&source=north-cad")
    assert shown(both.text) == [far]
    # The page's refresh keeps its filters.
    assert 'data-poll="/desk/fragments/changes?source=north-cad&amp;south=' in both.text
    nothing = curator.client.get(f"/desk?lat={lat}&lon={lon + 1}&radius_m=500")
    assert shown(nothing.text) == []
    assert "Nothing entering the feed here." in nothing.text
    garbage = curator.client.get("/desk?lat=north&radius_m=-3&south=x")
    assert shown(garbage.text) == [far, near, here]  # a field that does not parse filters nothing


def test_refresh_sends_only_changed_rows_and_304_when_unchanged(
    curator: Person, factory: sessionmaker[Session]
) -> None:
    ids = [add(factory, minutes_ago=30 - n, lat=HOME[0] + n * 0.01) for n in range(12)]
    page = curator.client.get("/desk")
    assert sorted(shown(page.text)) == sorted(ids)
    full = curator.client.get("/desk/fragments/queue")
    have = held(page.text)
    assert len(have.split(",")) == 12

    first = curator.client.get(CHANGES, params={"have": have})
    assert first.status_code == 200
    assert shown(first.text) == []  # the page holds every item as it is
    assert re.search(r'data-order="([\d,]+)"', first.text).group(1) == ",".join(  # type: ignore[union-attr]
        str(i) for i in shown(page.text)
    )
    assert len(first.content) * 20 < len(full.content)
    etag = first.headers["etag"]
    unchanged = curator.client.get(CHANGES, params={"have": have}, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.content == b""

    rewritten = curator.post(
        f"{DESK}/incidents/{ids[3]}/rewrite", json={"reason": "plain words", "title": "Garage fire"}
    )
    assert rewritten.status_code == 200, rewritten.text
    newcomer = add(factory, minutes_ago=0.5, lat=HOME[0] - 0.03)
    changed = curator.client.get(CHANGES, params={"have": have}, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert sorted(shown(changed.text)) == sorted([ids[3], newcomer])  # only what changed
    assert "Garage fire" in changed.text
    order = re.search(r'data-order="([\d,]+)"', changed.text)
    assert order
    assert order.group(1).split(",")[0] == str(newcomer)  # waiting items, newest first
    assert str(ids[3]) not in order.group(1).split(",")[:11]  # decided: behind the waiting
    assert changed.headers["etag"] != etag
    again = curator.client.get(
        CHANGES, params={"have": have}, headers={"If-None-Match": changed.headers["etag"]}
    )
    assert again.status_code == 304


def test_gate_reasons_are_said_once(curator: Person, factory: sessionmaker[Session]) -> None:
    quiet = add(factory)
    withheld = add(factory, visibility="withheld")
    with factory() as session:
        row = session.get_one(Incident, withheld)
        row.visibility_reasons = ["withheld: domestic violence is a sensitive call type"]
        row.alertable_reasons = ["not alerted: withheld from the public", "not alerted: 3 h old"]
        session.commit()
    page = curator.client.get("/desk").text
    assert "not alerted: not alerted" not in page
    assert "withheld: withheld" not in page
    assert '<li data-gate-alert="no">not alerted: test</li>' in page
    assert "not alerted: withheld from the public; 3 h old" in page
    assert "withheld: domestic violence is a sensitive call type" in page
    alerted = curator.post(
        f"{DESK}/incidents/{quiet}/alert", json={"reason": "smoke over a school"}
    )
    assert alerted.status_code == 200, alerted.text
    item = curator.client.get("/desk").text
    assert '<li data-gate-alert="yes">alerted by curation: smoke over a school</li>' in item


def test_a_place_search_link_filters_around_the_place(
    curator: Person, factory: sessionmaker[Session]
) -> None:
    here = add(factory)
    add(factory, lat=HOME[0] + 0.05)  # about 5.5 km away
    page = curator.client.get("/desk").text
    assert 'name="to" form="place-form" value="/desk"' in page  # without JavaScript: /places
    lat, lon = HOME
    linked = curator.client.get(f"/desk?lat={lat:.5f}&lon={lon:.5f}")  # no radius: 2 km
    assert shown(linked.text) == [here]
    assert "within 2000 m of" in linked.text


def test_an_action_keeps_the_filters(curator: Person, factory: sessionmaker[Session]) -> None:
    here = add(factory)
    add(factory, lat=HOME[0] + 0.05)
    from_source(factory, here, "north-cad")
    page = curator.client.get("/desk?source=north-cad").text
    url = f"/desk/incidents/{here}/rewrite?source=north-cad"
    assert f'action="{url}"' in page
    done = curator.client.post(
        url,
        data={"csrf_token": curator.csrf, "reason": "plain words", "title": "Garage fire"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    back = f"/desk?done=rewrite&item={here}&source=north-cad#item-{here}"
    assert done.headers["location"] == back
    assert shown(curator.client.get(done.headers["location"]).text) == [here]


def test_the_api_queue_takes_the_same_filters(
    curator: Person, factory: sessionmaker[Session]
) -> None:
    here = add(factory)
    far = add(factory, lat=HOME[0] + 0.05)
    from_source(factory, far, "north-cad")
    lat, lon = HOME

    def ids(**params: object) -> list[int]:
        answer = curator.client.get(f"{DESK}/queue", params=params)
        assert answer.status_code == 200, answer.text
        return [i["id"] for i in answer.json()]

    assert ids() == [far, here]
    assert ids(source="north-cad") == [far]
    assert ids(lat=lat, lon=lon, radius_m=1000) == [here]
    assert ids(south=lat + 0.01, west=lon - 0.01, north=lat + 0.1, east=lon + 0.01) == [far]
    assert curator.client.get(f"{DESK}/queue", params={"radius_m": -1}).status_code == 422
