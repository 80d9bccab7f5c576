"""GeoReport v2 shapes (JSON field names as the spec spells them; XML follows the same names).

`ServiceRequest` holds only public values: its text, address and point take the types that
only `townsquare.privacy.public` makes, so an exact point or unscrubbed text cannot be put in
one. It is built from an `IncidentPublic`, never from a table row.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from townsquare.privacy.types import BlockAddress, CoarsePoint, ScrubbedText

Datatype = Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class Service(_Out):
    """One service (request type): a taxonomy category open to residents' posts."""

    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: Literal["realtime", "batch", "blackbox"]
    keywords: str | None
    group: str


class AttributeValue(_Out):
    """One option of a list attribute."""

    key: str
    name: str


class Attribute(_Out):
    """One question of a service definition (the community guidelines ask them)."""

    variable: bool
    code: str
    datatype: Datatype
    required: bool
    datatype_description: str | None
    order: int
    description: str
    values: list[AttributeValue] = Field(default_factory=list)


class ServiceDefinition(_Out):
    """The questions of one service."""

    service_code: str
    attributes: list[Attribute]


class ServiceRequest(_Out):
    """A public incident as a GeoReport service request: public fields only."""

    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str | None
    service_name: str
    service_code: str
    description: ScrubbedText
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: str
    updated_datetime: str
    expected_datetime: None = None
    address: BlockAddress | None
    address_id: None = None
    zipcode: None = None
    point: CoarsePoint = Field(exclude=True)
    media_url: None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def lat(self) -> float:
        """Latitude of the public (coarse) point."""
        return self.point.lat

    @computed_field  # type: ignore[prop-decorator]
    @property
    def long(self) -> float:
        """Longitude of the public (coarse) point."""
        return self.point.lon


class RequestCreated(_Out):
    """The answer to a POSTed request: its id and what happens next (no account data)."""

    service_request_id: str
    service_notice: str
    account_id: None = None


class Endpoint(_Out):
    """One API endpoint in the discovery document."""

    specification: str
    url: str
    changeset: str
    type: Literal["production", "test"]
    formats: list[str]


class Discovery(_Out):
    """The service discovery document."""

    changeset: str
    contact: str
    key_service: str
    endpoints: list[Endpoint]


class Error(_Out):
    """One GeoReport error: the HTTP status or a guideline's code, and what a person reads."""

    code: int | str
    description: str
