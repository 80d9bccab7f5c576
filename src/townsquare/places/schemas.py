"""The public shape of a found place: a label, its kind, a point and what a map should show."""

from __future__ import annotations

from pydantic import BaseModel, Field

from townsquare.places.service import Kind, Place, Precision


class PlacePublic(BaseModel):
    """One suggestion of the place search."""

    name: str = Field(description="Label, as the map data spells it")
    kind: Kind = Field(description="street, intersection, place or address")
    precision: Precision = Field(
        description="How exact the point is: address, block (interpolated), intersection, "
        "street, place"
    )
    city: str = Field(description="City of the extract it came from; may be empty")
    lat: float
    lon: float
    bbox: tuple[float, float, float, float] | None = Field(
        description="west, south, east, north: the extent to fit a map to, when known"
    )
    zoom: int = Field(description="Zoom level to show the point at when there is no bbox")

    @classmethod
    def of(cls, place: Place) -> PlacePublic:
        """The public shape of a place."""
        return cls(
            name=place.name,
            kind=place.kind,
            precision=place.precision,
            city=place.city,
            lat=round(place.lat, 6),
            lon=round(place.lon, 6),
            bbox=place.bbox,
            zoom=place.zoom,
        )
