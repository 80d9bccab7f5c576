"""Feeds with addresses and no coordinates: the shipped samples with their points removed,
placed by the geocoder from the bundled OpenStreetMap extracts."""

from __future__ import annotations

import csv
import shutil
import statistics
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.support.places import metres
from townsquare.cli import app
from townsquare.formats.geojson import feature
from townsquare.geo import Point
from townsquare.incidents.models import Incident
from townsquare.incidents.service import publish_all
from townsquare.ingest import check, reprocess, service
from townsquare.ingest.config import MAPPINGS_DIR, SourceConfig, load_source_config
from townsquare.ingest.models import GeocodeCache, RawRecord, SourceRecord
from townsquare.ingest.normalize import NormalizeError, normalize
from townsquare.ingest.sources.registry import adapter_for
from townsquare.places import index
from townsquare.places.local import LocalGeocoder
from townsquare.places.service import Place

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
COORDINATES = {"Latitude", "Longitude", "Report Location", "Location"}


class Counting:
    """The local geocoder, counting the addresses it is asked (to see the cache work)."""

    def __init__(self, index: Path) -> None:
        self.inner = LocalGeocoder(index)
        self.asked = 0

    def search(
        self, query: str, near: tuple[float, float] | None = None, limit: int = 8
    ) -> list[Place]:
        """As the local geocoder."""
        return self.inner.search(query, near, limit)

    def locate_address(self, text: str, city_hint: str | None = None) -> Place | None:
        """As the local geocoder, counted."""
        self.asked += 1
        return self.inner.locate_address(text, city_hint)


def stripped(shipped: SourceConfig, tmp_path: Path, city: str, **geocode: object) -> SourceConfig:
    """The shipped mapping over a copy of its sample without any coordinate column."""
    with open(shipped.location, newline="", encoding="utf-8-sig") as src:
        rows = list(csv.DictReader(src))
    kept = [name for name in rows[0] if name not in COORDINATES]
    path = tmp_path / "no-coordinates.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, kept, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    fields = shipped.fields.model_copy(
        update={"latitude": None, "longitude": None, "location": None}
    )
    content = [c for c in shipped.fields.id_from_content if c not in COORDINATES]
    fields = fields.model_copy(update={"id_from_content": content})
    rules = shipped.geocode.model_copy(update={"city": city, **geocode})
    return shipped.model_copy(update={"location": str(path), "fields": fields, "geocode": rules})


def true_points(shipped: SourceConfig) -> dict[str, Point]:
    """Each record key's point as the feed gives it."""
    found = {}
    for item in adapter_for(shipped.kind).fetch(shipped):
        try:
            record = normalize(item, shipped)
        except NormalizeError:
            continue
        assert record.point is not None
        found[record.key] = record.point
    return found


def test_sf_blocks_are_placed_cached_and_never_asked_twice(
    factory: sessionmaker[Session], place_index: Path, tmp_path: Path
) -> None:
    shipped = load_source_config(MAPPINGS_DIR / "sf_fire_calls.toml")
    source = stripped(shipped, tmp_path, "San Francisco")
    geocoder = Counting(place_index)
    report = service.ingest(factory, source, now=NOW, geocoder=geocoder)
    assert report.received == 1000
    placed = report.received - report.quarantined
    assert placed / report.received > 0.45  # bench/geocoded_ingest.py prints the figures
    truth = true_points(shipped)
    with factory() as session:
        links = list(session.scalars(select(SourceRecord)))
        assert {link.precision for link in links} == {"block", "intersection"}
        distances = [
            metres((link.lat, link.lon), (truth[link.record_key].lat, truth[link.record_key].lon))
            for link in links
        ]
        # Public points are H3 cell centres (~200 m), so this includes the coarsening.
        assert statistics.median(distances) < 250
        precisions = set(session.scalars(select(Incident.location_precision)))
        assert precisions == {"block", "intersection"}
        reasons = list(
            session.scalars(select(RawRecord.error).where(RawRecord.outcome == "quarantined"))
        )
        assert reasons
        assert all(r and r.startswith("Address: no point: ") for r in reasons)
        assert any("only the street was found" in (r or "") for r in reasons)
        cached = session.scalar(select(func.count()).select_from(GeocodeCache))
    asked = geocoder.asked
    assert cached == asked
    assert asked < report.received  # one question per distinct address
    again = service.ingest(factory, source, now=NOW, geocoder=geocoder)
    assert again.unchanged == 1000
    assert geocoder.asked == asked
    # A reprocess re-normalizes every record, and the cache answers every address.
    done = reprocess.reprocess(factory, source, geocoder=geocoder)
    assert geocoder.asked == asked
    assert (done.placed, done.updated, done.newly_quarantined) == (0, 0, 0)


def test_seattle_intersections_are_placed_within_metres(
    factory: sessionmaker[Session], place_index: Path, tmp_path: Path
) -> None:
    shipped = load_source_config(MAPPINGS_DIR / "seattle_fire_911.toml")
    source = stripped(shipped, tmp_path, "Seattle")
    report = service.ingest(factory, source, now=NOW, geocoder=LocalGeocoder(place_index))
    with factory() as session:
        links = list(session.scalars(select(SourceRecord)))
        corners = [link for link in links if link.precision == "intersection"]
        assert len(corners) > 0.5 * len(links)
        assert {link.precision for link in links} <= {"intersection", "address", "block"}
        incidents = session.scalar(select(func.count()).select_from(Incident))
        # the public form says how each point was known (never the exact point itself)
        shown = publish_all(session, list(session.scalars(select(Incident))))
    assert report.created == incidents
    assert report.quarantined_by_field["Address"] == report.quarantined
    assert {i.location_precision for i in shown} <= {"intersection", "address", "block"}
    assert "location_precision" in feature(shown[0])["properties"]


STREET_ONLY = "700 Block of CAPP ST"  # the SF sample extract has the street, no numbers on it


def _one_row(tmp_path: Path, address: str) -> Path:
    path = tmp_path / "one.csv"
    path.write_text(
        "IncidentNumber,UnitID,CallNumber,CallType,CallDate,AvailableDtTm,Address\n"
        f"9000001,E01,9000001,Structure Fire,2002-01-11,01/11/2002 01:51:44 AM,{address}\n"
    )
    return path


@pytest.mark.parametrize(
    ("geocode", "outcome", "precision"),
    [
        ({}, "quarantined", None),
        ({"accept": ["address", "block", "intersection", "street"]}, "normalized", "street"),
        ({"fallback": (37.7749, -122.4194)}, "normalized", "area"),
    ],
)
def test_a_street_is_not_a_point_unless_the_mapping_accepts_it(
    factory: sessionmaker[Session],
    place_index: Path,
    tmp_path: Path,
    geocode: dict[str, object],
    outcome: str,
    precision: str | None,
) -> None:
    shipped = load_source_config(MAPPINGS_DIR / "sf_fire_calls.toml")
    source = stripped(shipped, tmp_path, "San Francisco", **geocode)
    source = source.model_copy(update={"location": str(_one_row(tmp_path, STREET_ONLY))})
    service.ingest(factory, source, now=NOW, geocoder=LocalGeocoder(place_index))
    with factory() as session:
        raw = session.scalars(select(RawRecord)).one()
        assert raw.outcome == outcome
        if outcome == "quarantined":
            assert raw.error == (
                f"Address: no point: {STREET_ONLY} "
                "(only the street was found: not in geocode.accept)"
            )
            return
        incident = session.scalars(select(Incident)).one()
        assert incident.location_precision == precision
        if precision == "area":
            assert metres((incident.lat, incident.lon), (37.7749, -122.4194)) < 300


def test_without_a_place_index_records_wait_in_quarantine_for_a_reprocess(
    factory: sessionmaker[Session], place_index: Path, tmp_path: Path
) -> None:
    shipped = load_source_config(MAPPINGS_DIR / "sf_fire_calls.toml")
    source = stripped(shipped, tmp_path, "San Francisco")
    source = source.model_copy(
        update={"location": str(_one_row(tmp_path, "2000 Block of CALIFORNIA ST"))}
    )
    missing = LocalGeocoder(tmp_path / "no-index.sqlite")
    service.ingest(factory, source, now=NOW, geocoder=missing)
    with factory() as session:
        raw = session.scalars(select(RawRecord)).one()
        assert raw.outcome == "quarantined"
        assert raw.error is not None
        assert "the geocoder is unavailable" in raw.error
        assert session.scalar(select(func.count()).select_from(GeocodeCache)) == 0
    report = reprocess.reprocess(factory, source, geocoder=LocalGeocoder(place_index))
    assert (report.placed, report.still_quarantined) == (1, 0)
    with factory() as session:
        incident = session.scalars(select(Incident)).one()
        assert incident.location_precision == "block"
        assert incident.published_at == NOW  # as of when the record arrived


def test_check_geocodes_as_ingest_would_and_stores_nothing(
    place_index: Path, tmp_path: Path
) -> None:
    shipped = load_source_config(MAPPINGS_DIR / "sf_fire_calls.toml")
    source = stripped(shipped, tmp_path, "San Francisco")
    items = adapter_for(source.kind).fetch(source)
    report = check.check_items(
        source, items, now=NOW, limit=50, geocoder=LocalGeocoder(place_index)
    )
    placed = [r for r in report.records if r.record is not None]
    assert placed
    assert {r.record.precision for r in placed if r.record} <= {"block", "intersection"}
    assert all(r.point is not None for r in placed)
    assert report.quarantined_by_field() == {"Address": report.count("quarantined")}


PORTLAND_FEED = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Dispatched calls</title>
  <entry>
    <id>urn:call:PP26000101</id>
    <title>ANIMAL PROBLEM - PRIORITY at 1800 block of NE 2nd Ave, Portland, Or</title>
    <published>2026-11-28T09:58:00Z</published>
    <updated>2026-11-28T10:00:00Z</updated>
  </entry>
  <entry>
    <id>urn:call:PP26000102</id>
    <title>HAZARD at NE 2nd Ave / NE Broadway, Portland, Or</title>
    <published>2026-11-28T10:03:00Z</published>
    <updated>2026-11-28T10:05:00Z</updated>
  </entry>
</feed>
"""

PORTLAND_MAPPING = """slug = "portland-calls"
name = "Portland dispatched calls"
kind = "atom"
location = "calls.atom"
bbox = [-122.9, 45.4, -122.4, 45.7]

[agency]
slug = "boec"
name = "Portland Emergency Communications"
time_zone = "America/Los_Angeles"

[fields]
external_id = "id"
call_type = { column = "title", pattern = "^(?P<type>.+?)(?: - [A-Z]+)? at " }
address = { column = "title", pattern = " at (?P<address>.+?)(?:, Portland.*)?$" }
occurred_at = { column = "published", formats = ["iso8601"] }

[geocode]
city = "Portland"
{accept}

[categories]
"ANIMAL PROBLEM" = "animal"
"HAZARD" = "traffic.hazard"
"""


def test_an_atom_feed_without_points_is_onboarded_by_its_file_alone(
    place_index: Path, tmp_path: Path
) -> None:
    (tmp_path / "calls.atom").write_text(PORTLAND_FEED)
    mapping = tmp_path / "portland.toml"
    mapping.write_text(PORTLAND_MAPPING.replace("{accept}", ""))
    env = {
        "TOWNSQUARE_DATA_DIR": str(tmp_path / "data"),
        "TOWNSQUARE_PLACES_INDEX": str(place_index),
    }
    runner = CliRunner()
    first = runner.invoke(app, ["ingest", str(mapping)], env=env)
    assert first.exit_code == 0, first.output
    assert "2 received" in first.stdout
    assert "1 new incidents" in first.stdout
    assert "1 quarantined (title~address 1)" in first.stdout
    # The operator accepts street precision for this feed, and reprocesses what is stored.
    mapping.write_text(
        PORTLAND_MAPPING.replace(
            "{accept}", 'accept = ["address", "block", "intersection", "street"]'
        )
    )
    fixed = runner.invoke(
        app, ["sources", "reprocess", "portland-calls", "--config", str(mapping)], env=env
    )
    assert fixed.exit_code == 0, fixed.output
    assert "1 newly placed, 0 still quarantined" in fixed.stdout
    again = runner.invoke(
        app, ["sources", "reprocess", "portland-calls", "--config", str(mapping)], env=env
    )
    assert "0 updated, 0 newly placed, 0 still quarantined" in again.stdout
    assert "2 unchanged" in again.stdout


def test_after_loading_address_points_regeocode_asks_again(
    factory: sessionmaker[Session], place_index: Path, tmp_path: Path
) -> None:
    own_index = tmp_path / "places.sqlite"
    shutil.copyfile(place_index, own_index)
    shipped = load_source_config(MAPPINGS_DIR / "sf_fire_calls.toml")
    source = stripped(shipped, tmp_path, "San Francisco")
    source = source.model_copy(update={"location": str(_one_row(tmp_path, STREET_ONLY))})
    service.ingest(factory, source, now=NOW, geocoder=LocalGeocoder(own_index))
    points = [
        {"LON": "-122.41602", "LAT": "37.75961", "NUMBER": "710", "STREET": "Capp Street"},
        {"LON": "-122.41588", "LAT": "37.75780", "NUMBER": "798", "STREET": "Capp Street"},
    ]
    index.load_addresses(own_index, points, "San Francisco")
    cached = reprocess.reprocess(factory, source, geocoder=LocalGeocoder(own_index))
    assert cached.still_quarantined == 1  # the cached answer stands
    fresh = reprocess.reprocess(factory, source, geocoder=LocalGeocoder(own_index), regeocode=True)
    assert (fresh.placed, fresh.still_quarantined) == (1, 0)
    with factory() as session:
        incident = session.scalars(select(Incident)).one()
        assert incident.location_precision == "block"


def test_rows_without_coordinates_in_a_feed_with_them_are_placed_when_geocode_is_given(
    factory: sessionmaker[Session], place_index: Path, tmp_path: Path
) -> None:
    shipped = load_source_config(MAPPINGS_DIR / "seattle_fire_911.toml")
    with open(shipped.location, newline="", encoding="utf-8-sig") as src:
        rows = list(csv.DictReader(src))[:60]
    blanked = {row["Incident Number"] for row in rows[::3] if "/" in row["Address"]}
    for row in rows:
        if row["Incident Number"] in blanked:
            row["Latitude"] = row["Longitude"] = ""  # the feed's own gaps
    path = tmp_path / "gaps.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    gaps = shipped.model_copy(update={"location": str(path)})
    # without a [geocode] table such rows are quarantined for their missing latitude
    plain = service.ingest(factory, gaps, now=NOW, geocoder=LocalGeocoder(place_index))
    assert plain.quarantined_by_field["Latitude"] >= len(blanked) > 3
    rules = shipped.geocode.model_copy(update={"city": "Seattle"})
    given = shipped.model_validate(
        shipped.model_dump() | {"location": str(path), "geocode": rules.model_dump()}
    )
    assert "geocode" in given.model_fields_set
    report = reprocess.reprocess(factory, given, geocoder=LocalGeocoder(place_index))
    with factory() as session:
        precisions = {link.precision for link in session.scalars(select(SourceRecord))}
    assert {"intersection", "coordinates"} <= precisions
    assert report.placed >= len(blanked) // 2
