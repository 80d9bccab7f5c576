"""Free-text search of the public feed: words matched against what anyone may already read.

Only the public incident is searched (its scrubbed title, hundred block, category code and
label, in English and in the reader's language), never a stored field the feed does not show,
so a search cannot reveal an exact address or a name by what it finds. The feed's own query
(index or SQL) walks the area newest first in batches, and the matches fill the page.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace

from sqlalchemy.orm import Session

from townsquare.i18n import gettext as _
from townsquare.incidents import service
from townsquare.incidents.index import FeedIndex
from townsquare.incidents.schemas import FeedQuery, IncidentPublic

BATCH = 200
MAX_SCANNED = 5000
"""How far back one page of a search looks, in incidents of the area: a bound on its cost."""


def folded(text: str) -> str:
    """`text` lower-cased, without accents: 'Calle Pérez' and 'calle perez' match."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def haystack(incident: IncidentPublic) -> str:
    """The public words of an incident a search looks in."""
    parts = [
        incident.title,
        incident.address_block or "",
        incident.category,
        incident.category_label,
        _(incident.category_label),
        incident.original_type,
    ]
    return folded(" ".join(parts))


def matches(incident: IncidentPublic, words: list[str]) -> bool:
    """Whether every one of `words` (folded) is in the incident's public words."""
    text = haystack(incident)
    return all(word in text for word in words)


def search_feed(
    session: Session, index: FeedIndex | None, query: FeedQuery
) -> list[IncidentPublic]:
    """The newest public incidents of the query's area whose public words hold `query.text`."""
    words = folded(query.text or "").split()
    found: list[IncidentPublic] = []
    before, scanned = query.before, 0
    while len(found) < query.limit and scanned < MAX_SCANNED:
        batch_query = replace(query, text=None, limit=BATCH, before=before)
        batch = service.query_feed(session, index, batch_query)
        scanned += len(batch)
        found.extend(i for i in batch if matches(i, words))
        if len(batch) < BATCH:
            break
        last = batch[-1]
        before = (last.occurred_at.timestamp(), last.id)
    return found[: query.limit]
