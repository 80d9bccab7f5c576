"""Values the public may see, which only the privacy package can make.

Public schemas take these types instead of `str` and `float`, so an exact address, an exact
point or unscrubbed text cannot be put in one: a plain value fails validation. Each type is
minted with `MINT`, which only `townsquare.privacy.public` passes (tests/privacy/
test_structure.py fails if any other module uses it). Each constructor also re-checks the
invariant it stands for, as a second line of defence against a bug in the privacy code.
"""

from __future__ import annotations

import re
from typing import Any

import h3
from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from townsquare.geo import PUBLIC_RESOLUTION

MINT = object()
"""The key public values are made with; held by `townsquare.privacy.public` alone."""

_BLOCK_NUMBER = re.compile(r"(\d+)\s+block\b", re.IGNORECASE)


def _minted(key: object, kind: str) -> None:
    if key is not MINT:
        raise TypeError(f"a {kind} is made by townsquare.privacy.public only")


def _instance_schema(cls: type[Any], json_type: str) -> CoreSchema:
    """Accept instances of `cls` only; serialize them as plain JSON values."""
    to_plain = str if json_type == "string" else _point_dict
    return core_schema.is_instance_schema(
        cls, serialization=core_schema.plain_serializer_function_ser_schema(to_plain)
    )


def _point_dict(point: CoarsePoint) -> dict[str, float]:
    return {"lat": point.lat, "lon": point.lon}


class ScrubbedText(str):
    """Free text with phone numbers, e-mails, names, plates, birth dates and case codes removed."""

    __slots__ = ()

    def __new__(cls, value: str, key: object) -> ScrubbedText:
        _minted(key, "ScrubbedText")
        return super().__new__(cls, value)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        """Validation accepts only minted values."""
        return _instance_schema(cls, "string")

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """Documented as a string in OpenAPI."""
        return {"type": "string", "description": "redacted free text"}


class BlockAddress(str):
    """A hundred block ("1200 block of Pine St") or an intersection; never a house number."""

    __slots__ = ()

    def __new__(cls, value: str, key: object) -> BlockAddress:
        _minted(key, "BlockAddress")
        for number in _BLOCK_NUMBER.findall(value):
            if int(number) % 100:
                raise ValueError(f"{value!r} is not generalized to a hundred block")
        return super().__new__(cls, value)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        """Validation accepts only minted values."""
        return _instance_schema(cls, "string")

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """Documented as a string in OpenAPI."""
        return {"type": "string", "description": "hundred block or intersection"}


class CoarsePoint:
    """The centre of an H3 cell of resolution PUBLIC_RESOLUTION or coarser."""

    __slots__ = ("lat", "lon", "resolution")

    lat: float
    lon: float
    resolution: int

    def __init__(self, lat: float, lon: float, resolution: int, key: object) -> None:
        _minted(key, "CoarsePoint")
        if not 0 <= resolution <= PUBLIC_RESOLUTION:
            raise ValueError(f"resolution {resolution} is finer than the public limit")
        centre = h3.cell_to_latlng(h3.latlng_to_cell(lat, lon, resolution))
        if (round(centre[0], 6), round(centre[1], 6)) != (lat, lon):
            raise ValueError(f"({lat}, {lon}) is not a cell centre at resolution {resolution}")
        object.__setattr__(self, "lat", lat)
        object.__setattr__(self, "lon", lon)
        object.__setattr__(self, "resolution", resolution)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a CoarsePoint cannot be changed")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CoarsePoint):
            return NotImplemented
        return (self.lat, self.lon) == (other.lat, other.lon)

    def __hash__(self) -> int:
        return hash((self.lat, self.lon))

    def __repr__(self) -> str:
        return f"CoarsePoint({self.lat}, {self.lon}, res {self.resolution})"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        """Validation accepts only minted values."""
        return _instance_schema(cls, "object")

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """Documented as a lat/lon object in OpenAPI."""
        number = {"type": "number"}
        return {"type": "object", "properties": {"lat": number, "lon": number}}
