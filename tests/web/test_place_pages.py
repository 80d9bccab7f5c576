"""The place search on the pages: on every page with a map, without JavaScript as a results
page, and the place of a page carried by the nav's links and where the maps start."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine

from tests.support.pages import browser_sign_in, labelled, page
from tests.support.residents import Mailbox, app_with, sign_up
from townsquare.db import make_engine, make_sessionmaker
from townsquare.settings import Settings

SEATTLE = "lat=47.60977&lon=-122.33782&radius_m=500"


@pytest.fixture
def sqlite_engine(sqlite_template: Path, tmp_path: Path) -> Iterator[Engine]:
    """A store of the test on SQLite alone: the place search does not touch the store."""
    shutil.copy(sqlite_template, tmp_path / "townsquare.db")
    engine = make_engine(f"sqlite:///{tmp_path / 'townsquare.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def settings(sqlite_engine: Engine, tmp_path: Path, mailbox: tuple[Mailbox, int]) -> Settings:
    """Settings over the SQLite store, mailing sign-up links through the local SMTP server."""
    return Settings(
        database_url=SecretStr(sqlite_engine.url.render_as_string(hide_password=False)),
        data_dir=tmp_path,
        account_mail="smtp",
        smtp_host="127.0.0.1",
        smtp_port=mailbox[1],
        secret_key=SecretStr("test secret"),
    )


@pytest.fixture
def client(settings: Settings, sqlite_engine: Engine, place_index: Path) -> Iterator[TestClient]:
    factory = make_sessionmaker(sqlite_engine)
    with app_with(settings, sqlite_engine, factory, places_index=place_index) as client:
        yield client


def _box(html: str) -> list[object]:
    return page(html).xpath("//input[@role='combobox' and @aria-controls='place-list']")


def test_every_page_with_a_map_has_the_search_box(
    client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    for path in ("/", "/alerts", "/weekly"):
        answer = client.get(path)
        assert _box(answer.text), path
        labelled(answer.text)
    sign_up(client, mailbox[0], "ada@example.org")
    ada = browser_sign_in(client, "ada@example.org")
    for path in ("/posts/new", "/cameras"):
        answer = ada.get(path)
        assert _box(answer.text), path
        # the box sits inside the page's form, so its fields belong to a form of their own
        assert page(answer.text).xpath("//form[@id='place-form']/@action") == ["/places"]


def test_without_javascript_the_matches_are_links_to_the_page_searched_from(
    client: TestClient,
) -> None:
    answer = client.get("/places", params={"q": "3rd Ave & Pike St", "to": "/weekly"})
    assert answer.status_code == 200
    links = page(answer.text).xpath("//ol[@class='place-results']//a")
    assert links[0].text == "3rd Avenue & Pike Street"
    assert links[0].get("href") == "/weekly?lat=47.60977&lon=-122.33782"
    elsewhere = client.get("/places", params={"q": "pike", "to": "https://evil.example/"})
    assert all(href.startswith("/?") for href in page(elsewhere.text).xpath("//ol//a/@href"))
    nothing = client.get("/places", params={"q": "zzzqqq"})
    assert "No street, corner or place matches" in nothing.text


def test_without_an_index_the_page_says_so(settings: Settings, sqlite_engine: Engine) -> None:
    with app_with(settings, sqlite_engine, make_sessionmaker(sqlite_engine)) as client:
        answer = client.get("/places", params={"q": "pike"})
    assert answer.status_code == 503
    assert "townsquare places build" in answer.text


def test_the_place_travels_in_the_nav_and_the_maps_start_there(
    client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    plain = page(client.get("/").text).xpath("//a[@data-place-link]/@href")
    assert plain == ["/alerts", "/weekly", "/posts/new"]
    there = page(client.get(f"/?{SEATTLE}").text).xpath("//a[@data-place-link]/@href")
    assert there == [f"/alerts?{SEATTLE}", f"/weekly?{SEATTLE}", f"/posts/new?{SEATTLE}"]
    weekly = page(client.get(f"/weekly?{SEATTLE}").text)
    assert weekly.xpath("//input[@id='wk-lat']/@value") == ["47.60977"]
    sign_up(client, mailbox[0], "ada@example.org")
    ada = browser_sign_in(client, "ada@example.org")
    report = page(ada.get(f"/posts/new?{SEATTLE}").text)
    assert report.xpath("//div[@id='post-map']/@data-default-lat") == ["47.60977"]
    assert report.xpath("//div[@id='post-map']/@data-default-lon") == ["-122.33782"]
    nowhere = page(ada.get("/posts/new?lat=north&lon=1").text)
    assert nowhere.xpath("//div[@id='post-map']/@data-default-lat") != ["north"]
