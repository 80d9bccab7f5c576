"""RFC 7946 GeoJSON from public incidents only."""

from __future__ import annotations

from typing import Any

from townsquare.incidents.schemas import IncidentPublic


def feature(incident: IncidentPublic) -> dict[str, Any]:
    """One incident as a GeoJSON Feature (position order is longitude, latitude)."""
    properties = incident.model_dump(mode="json", exclude={"lat", "lon"})
    return {
        "type": "Feature",
        "id": incident.id,
        "geometry": {"type": "Point", "coordinates": [incident.lon, incident.lat]},
        "properties": properties,
    }


def feature_collection(
    incidents: list[IncidentPublic], next_cursor: str | None, next_url: str | None
) -> dict[str, Any]:
    """A page of the feed as a FeatureCollection; paging data rides as foreign members."""
    return {
        "type": "FeatureCollection",
        "features": [feature(i) for i in incidents],
        "next_cursor": next_cursor,
        "links": [{"rel": "next", "href": next_url}] if next_url else [],
    }
