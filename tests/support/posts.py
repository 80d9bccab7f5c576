"""Posts as a resident writes them: a draft that passes every guideline, submitted over the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.support.residents import Person
from townsquare.db import utcnow

HOME = (47.6205, -122.3493)


def draft(**changes: Any) -> dict[str, Any]:
    """A post that passes every guideline."""
    body: dict[str, Any] = {
        "category": "crime.vandalism",
        "title": "Car window smashed",
        "description": "Someone broke the window of a parked car and ran north.",
        "occurred_at": (utcnow() - timedelta(minutes=10)).isoformat(),
        "lat": HOME[0],
        "lon": HOME[1],
    }
    body.update(changes)
    return body


def submit(author: Person, **changes: Any) -> Any:
    """POST a draft."""
    return author.post("/api/v1/posts", json=draft(**changes))
