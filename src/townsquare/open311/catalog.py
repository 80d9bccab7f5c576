"""The services (request types) and their definitions: the postable categories, whose
attributes ask the community guidelines' questions."""

from __future__ import annotations

from townsquare import taxonomy
from townsquare.errors import NotFound
from townsquare.open311.schemas import (
    Attribute,
    AttributeValue,
    Datatype,
    Service,
    ServiceDefinition,
)
from townsquare.posts import guidelines

CHANGESET = "2025-06-01 00:00"
"""When the services or their definitions last changed (sortable); bump it when they do."""
NOTICE = (
    "Reports are reviewed by moderators before they appear in the public feed, with the text "
    "scrubbed and the point displaced and coarsened."
)
GUIDELINES = (
    "Describe what happened. If you describe a person, say what they did and give at least "
    "two descriptors other than race or ethnicity (clothing, height, build, hair, a vehicle); "
    "a description by race alone is refused. For a suspicious person, say whether it could be "
    "a delivery, a solicitor, a utility worker or a neighbour."
)


def postable() -> list[taxonomy.Category]:
    """The categories residents may post under, in code order."""
    return [
        c
        for code, c in sorted(taxonomy.categories().items())
        if not c.sensitive and code.startswith(guidelines.POSTABLE_GROUPS)
    ]


def list_services() -> list[Service]:
    """Every service: one per postable category."""
    return [
        Service(
            service_code=c.code,
            service_name=c.label,
            description=f"{c.label}. {NOTICE}",
            metadata=True,
            type="realtime",
            keywords=c.code.replace(".", ", ").replace("_", " "),
            group=c.code.split(".")[0],
        )
        for c in postable()
    ]


def _values(*pairs: tuple[str, str]) -> list[AttributeValue]:
    return [AttributeValue(key=key, name=name) for key, name in pairs]


def _attributes() -> list[Attribute]:
    could_be = [(answer, answer) for answer in guidelines.ANSWERS]
    rows: list[tuple[bool, str, Datatype, str | None, str, list[AttributeValue]]] = [
        (False, "guidelines", "string", None, GUIDELINES, []),
        (True, "title", "string", "up to 200 characters", "A short title.", []),
        (
            True,
            "occurred_at",
            "datetime",
            "ISO 8601 with an offset, e.g. 2025-05-01T14:30:00-07:00",
            "When it happened (defaults to the time of the report).",
            [],
        ),
        (
            True,
            "person_action",
            "string",
            None,
            "If you describe a person: what did they do? Being somewhere is not a reason.",
            [],
        ),
        (
            True,
            "person_descriptors",
            "text",
            "one descriptor per line",
            "At least two descriptors other than race or ethnicity.",
            [],
        ),
        (
            True,
            "suspicious",
            "singlevaluelist",
            None,
            "Is this about a suspicious person?",
            _values(("yes", "yes"), ("no", "no")),
        ),
        (
            True,
            "could_be",
            "singlevaluelist",
            None,
            "Could it be a delivery, a solicitor, a utility worker or a neighbour?",
            _values(*could_be),
        ),
    ]
    return [
        Attribute(
            variable=variable,
            code=code,
            datatype=datatype,
            required=False,
            datatype_description=datatype_description,
            order=order,
            description=description,
            values=values,
        )
        for order, (variable, code, datatype, datatype_description, description, values) in (
            enumerate(rows, start=1)
        )
    ]


def service_definition(code: str) -> ServiceDefinition:
    """The questions of one service; NotFound for a code that is not a service."""
    if code not in {c.code for c in postable()}:
        raise NotFound(f"service_code {code!r} not found")
    return ServiceDefinition(service_code=code, attributes=_attributes())
