"""Address generalization over every address style found in the shared real data.

Real addresses: Seattle (intersections, freeway descriptions, hundred blocks), San
Francisco (blocks already), Houston (house numbers, freeway frontage "IH45IB-... 5409 N IH 45
FWY", "BLK" cross streets), Open311 (ranges "1701-1799 E Durham Ln", intersections with
"and"), Chicago ("1540 W 17TH ST, CHICAGO, IL, 60608"). Properties, per address: the result
is stable under re-generalization, every block is a whole hundred, and no number that can
be a house number survives. Generated addresses in each style plant a house number and
check it is cut to its hundred.
"""

from __future__ import annotations

import csv
import json
import re
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from townsquare.ingest.sources.eido import eido_columns
from townsquare.privacy.address import address_block

ADDRESSES = Path(__file__).parents[1] / "data" / "addresses" / "real_addresses.txt"
_KEPT_BEFORE = {
    *("i", "ih", "us", "fm", "sh", "sr", "exit", "mm", "at", "fr", "to", "bw", "hwy"),
    *("rr", "hc", "route", "road", "county", "marker", "box", "highway", "loop", "spur"),
}
_KEPT_AFTER = {"block", "nb", "sb", "eb", "wb", "ib", "ob"}


@cache
def real_addresses() -> tuple[str, ...]:
    """Every distinct address string of the real data sets (extracted into tests/data)."""
    return tuple(line for line in ADDRESSES.read_text("utf-8").splitlines() if line.strip())


def test_the_shared_data_has_every_style() -> None:
    addresses = real_addresses()
    assert len(addresses) > 5000
    for sample in ("Nb I5 At Spring", "2000 Block of CALIFORNIA ST", "1701-1799 E Durham Ln"):
        assert sample in addresses


def _unexplained_numbers(result: str) -> list[str]:
    """Numbers in the output that are neither a block, a road, an exit, nor a street name."""
    found = []
    for part in result.split(" / "):
        words = part.replace(",", " ").split()
        for index, word in enumerate(words):
            number = re.fullmatch(r"(\d+)[A-Za-z]?", word)
            if number is None:
                continue
            before = words[index - 1].lower() if index else ""
            after = words[index + 1].lower() if index + 1 < len(words) else ""
            if after == "block" and int(number[1]) % 100 == 0:
                continue
            if before in _KEPT_BEFORE or after in _KEPT_AFTER or not after:
                continue
            if after.upper() in {"N", "S", "E", "W"} and index + 2 == len(words):
                continue  # grid street name "S 500 E"
            if len(number[1]) == 5 and index + 1 == len(words):
                continue  # ZIP code ending "..., IL, 60608"
            found.append(word)
    return found


def test_every_real_address_loses_its_house_number() -> None:
    failures = []
    for address in real_addresses():
        result = address_block(address)
        if result is None:
            continue
        if address_block(result) != result:
            failures.append((address, result, "not stable"))
        for number in re.findall(r"(\d+)\s+block\b", result, re.IGNORECASE):
            if int(number) % 100:
                failures.append((address, result, "block not a hundred"))
        leading = re.match(r"^(?:[^\W\d_][\w ]*:\s*)?(\d+)[A-Za-z]?\s+(\w+)", address)
        house = leading and int(leading[1]) % 100 and not re.match(r"(?i)[NSEW]B$|I\d", leading[2])
        if house and leading and re.search(rf"\b{leading[1]}\b", result):
            failures.append((address, result, "house number survived"))
        if _unexplained_numbers(result):
            failures.append((address, result, f"numbers {_unexplained_numbers(result)}"))
    assert failures == []


@pytest.mark.parametrize(
    ("address", "public"),
    [
        # Houston: house numbers, freeway frontage roads, exits, inbound/outbound
        ("1712 AHRENS ST", "1700 block of Ahrens St"),
        ("21742 KATY FWY OB", "21700 block of Katy Fwy OB"),
        ("IH45IB-TIDWELL RD E 5409 N IH 45 FWY", "IH45IB-Tidwell Rd E 5400 block of N IH 45 Fwy"),
        ("EXIT 127A 803 S US 59 FWY", "Exit 127A 800 block of S US 59 Fwy"),
        ("7988 W FM 1960 RD", "7900 block of W FM 1960 Rd"),
        ("SH 288 HWY OB", "SH 288 Hwy OB"),
        ("BLK BELLNOLE DR", "Blk Bellnole Dr"),
        # Open311 and Chicago
        ("1701-1799 E Durham Ln", "1700 block of E Durham Ln"),
        ("8TH AVE and JUDAH ST", "8th Ave / Judah St"),
        ("1540 W 17TH ST, CHICAGO, IL, 60608", "1500 block of W 17th St, Chicago, IL, 60608"),
        ("1158  NOE ST SAN FRANCISCO , CA ", "1100 block of Noe St, San Francisco, CA"),
        ("Warden Ave / Freeman St, Scarborough", "Warden Ave / Freeman St"),  # no state: dropped
        # rural routes, boxes, mile markers, grid addresses
        ("RR 2 Box 45", "RR 2"),
        ("HC 1 Box 12", "HC 1"),
        ("PO Box 123", None),
        ("I-90 MM 34", "I-90 MM 34"),
        ("Mile Marker 34 I5", "Mile Marker 34 I5"),
        ("N1234 County Rd K", "N1200 block of County Rd K"),
        ("1234 County Road 12", "1200 block of County Road 12"),
        ("1234 S 500 E", "1200 block of S 500 E"),
        ("1234 Pine St Lot 5", "1200 block of Pine St"),
    ],
)
def test_address_styles(address: str, public: str | None) -> None:
    assert address_block(address) == public


def test_a_coarser_block_size() -> None:
    assert address_block("1234 Pine St", 1000) == "1000 block of Pine St"
    assert address_block("SB I5 At 50", 1000) == "SB I5 At 50"


_STREET = st.sampled_from(["PINE ST", "Phinney Av N", "KATY FWY", "W 17TH ST", "E Durham Ln"])
_STYLES = st.sampled_from(
    [
        "{n} {street}",  # Seattle, Houston, Chicago
        "{n} {street} Apt 4B",
        "{n}-{m} {street}",  # Open311 ranges
        "{n} {street}, CHICAGO, IL, 60608",
        "IH45IB-TIDWELL RD E {n} N IH 45 FWY",  # Houston frontage roads
        "EXIT 127A {n} S US 59 FWY",
        "{n} {street} / 5TH AVE",
        "CALL BOX: {n} {street}",
        "N{n} County Rd K",
        "RR 2 Box {n}",
    ]
)


@settings(max_examples=500, database=None, derandomize=True)
@given(
    style=_STYLES,
    street=_STREET,
    house=st.integers(min_value=101, max_value=99_999).filter(lambda n: n % 100 != 0),
    extra=st.integers(min_value=0, max_value=99),
)
def test_a_planted_house_number_never_survives(
    style: str, street: str, house: int, extra: int
) -> None:
    address = style.format(n=house, m=house + extra, street=street)
    result = address_block(address) or ""
    assert not re.search(rf"(?<![\d]){house}(?!\d)", result), (address, result)
    if "Box" not in style:
        assert f"{house // 100 * 100} block of" in result, (address, result)


SAMPLES = Path(__file__).parents[2] / "src" / "townsquare" / "samples"


@cache
def sample_addresses() -> tuple[str, ...]:
    """Every address of the shipped samples, read from the files the adapters ingest."""
    found: set[str] = set()
    for name, column in (
        ("seattle_fire_911/seattle_fire_911_calls_extract.csv", "Address"),
        ("sf_fire_calls/sf-fire-calls.csv", "Address"),
    ):
        with (SAMPLES / name).open(encoding="utf-8", newline="") as handle:
            found |= {row[column] for row in csv.DictReader(handle)}
    for snapshot in sorted((SAMPLES / "houston_active_incidents").glob("*.json")):
        for feature in json.loads(snapshot.read_text("utf-8"))["features"]:
            attributes = feature["attributes"]
            found |= {attributes["Address"] or "", attributes["CrossStreet"] or ""}
    for eido in (SAMPLES / "nena_eido").glob("*.json"):
        found.add(eido_columns(json.loads(eido.read_text("utf-8"))).get("location.address", ""))
    return tuple(sorted(a for a in found if a.strip()))


def corpus() -> tuple[str, ...]:
    return tuple(sorted(set(real_addresses()) | set(sample_addresses())))


def test_the_samples_are_in_the_corpus() -> None:
    assert len(sample_addresses()) > 3000
    assert "42 W Cellular Street" in sample_addresses()  # the EIDO sample's civic address


# What dispatch exports write after the street: callbacks in every phone shape, labels,
# callers' names in any case (multi-part, hyphenated), units, e-mails and notes.
_PHONES = ["206-555-9780", "(206) 555 9780", "2065559780", "206 555 9780 x12", "555-9780"]
_PHONES += ["206.555.9780", "+1 206 555 9780", "(206)555-9780 ext 4"]
_LABELS = ["CALLBACK", "CB", "C/B", "PH", "TEL", "RP", "CALLER", "CB:", "callback", "Ph:"]
_NAMES = ["JOHN SMITH", "john smith", "Mary-Jane O'Neil", "Juan Carlos Perez-Garcia"]
_NAMES += ["tom baker", "MARY ANN LEE", "Jo Ellen McKay", "DE LA CRUZ MARIA"]
_UNITS = ["APT 4B", "#12", "UNIT 7", "Apt. 3", "# 5", "STE 210", "Bldg C Rm 14", "Lot 9"]
_EMAILS = ["jdoe@example.com", "Mary.Lou+cad@mail.example.org"]
_NOTES = ["REAR DOOR", "PER RP", "NOTE: dog in yard", "rp: jane roe", "BEHIND GARAGE"]
_JUNK = st.one_of(
    st.sampled_from(_PHONES),
    st.sampled_from(_NAMES),
    st.sampled_from(_UNITS),
    st.sampled_from(_EMAILS),
    st.sampled_from(_NOTES),
    st.sampled_from(_LABELS),
    st.tuples(st.sampled_from(_LABELS), st.sampled_from(_PHONES + _NAMES)).map(" ".join),
    st.tuples(st.sampled_from(_UNITS), st.sampled_from(_LABELS), st.sampled_from(_PHONES)).map(
        " ".join
    ),
    st.tuples(st.sampled_from(_LABELS), st.sampled_from(_PHONES), st.sampled_from(_NAMES)).map(
        " ".join
    ),
)
_TYPES = {"st", "av", "ave", "way", "wy", "rd", "dr", "blvd", "bl", "pl", "ln", "ct", "ter", "pkwy"}
_FREEWAY_WORDS = {"nb", "sb", "eb", "wb", "ib", "ob", "at", "to", "fr", "exp", "cd", "rp", "fwy"}
_FREEWAY_WORDS |= {"frwy", "hwy", "twy", "ramp", "entr", "exit", "ih", "us", "sh", "fm", "bw"}


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-z0-9]+", text)}


def _is_plain(public: str | None) -> bool:
    """A street with a type and no freeway words: the street must survive any junk after it."""
    if public is None:
        return False
    last = public.split(" / ")[-1].split()
    typed = len(last) > 1 and last[-1].lower() in _TYPES | {
        "n",
        "s",
        "e",
        "w",
        "ne",
        "nw",
        "se",
        "sw",
    }
    return (
        typed and any(w.lower() in _TYPES for w in last[1:]) and not _words(public) & _FREEWAY_WORDS
    )


def _check_junk(address: str, junk: str) -> None:
    public = address_block(address)
    result = address_block(f"{address} {junk}")
    if result is None:
        return
    planted = _words(junk) - _words(address)
    if public is None:
        # nothing public in the address: "5/130 JOHN SMITH" reads as "130 John Smith", the
        # shape of a street address, so only the non-name junk is checked there
        planted -= _words(" ".join(_NAMES + _NOTES))
    if address.split()[-1].lower() in {"entr", "exit", "on", "off"}:
        planted.discard("rp")  # "Shepherd Entr Rp": the ramp, not a reporting party
    assert not planted & _words(result), (address, junk, result)
    for number in re.findall(r"(\d+)\s+block\b", result, re.IGNORECASE):
        assert int(number) % 100 == 0, (address, junk, result)
    assert _unexplained_numbers(result) == [], (address, junk, result)
    if _is_plain(public):
        assert result == public, (address, junk, result)


def test_junk_after_every_real_address_is_dropped() -> None:
    """Every address of the corpus, each with one kind of junk after it, in turn."""
    junk = [*_PHONES, *_NAMES, *_UNITS, *_EMAILS, *_NOTES]
    junk += [f"{label} {value}" for label in _LABELS for value in (_PHONES[0], _NAMES[0])]
    for index, address in enumerate(corpus()):
        _check_junk(address, junk[index % len(junk)])


@settings(max_examples=1000, database=None, derandomize=True, deadline=None)
@given(data=st.data(), junk=_JUNK)
def test_junk_after_a_real_address_is_dropped(data: st.DataObject, junk: str) -> None:
    _check_junk(data.draw(st.sampled_from(corpus())), junk)
