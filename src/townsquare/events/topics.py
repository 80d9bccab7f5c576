"""Every topic the outbox carries, named once: who announces it and what its payload holds.

A payload holds ids only, never personal data; the relay adds `event_id` (the outbox row id)
to each. Consumers re-read the row the id names, so they act on what it is now rather than on
what the event said: a re-delivered or out-of-order event is harmless.
"""

from __future__ import annotations

INCIDENT_PREFIX = "incident."
"""Every topic about an incident starts with this; the feed index, live streams and alert
matching take them all alike (they re-read the incident)."""

INCIDENT_PUBLISHED = "incident.published"
"""An incident entered the public feed (new, or shown again). Announced by
`incidents.publish` for every origin, by the curation desk and by the release of delayed
incidents. Payload: `{"id": incident id}`."""

INCIDENT_UPDATED = "incident.updated"
"""A public incident changed and stays in the feed (a curator's close is announced as this,
so open pages reload). Announced by `incidents.publish` and the curation desk.
Payload: `{"id": incident id}`."""

INCIDENT_CLOSED = "incident.closed"
"""A public incident was closed (call cleared, post closed, update closed, footage request
expired); it leaves the live feed. Announced by `incidents.publish`.
Payload: `{"id": incident id}`."""

INCIDENT_REMOVED = "incident.removed"
"""A public incident left the feed (withheld, withdrawn, removed, retracted, merged, its
author erased); streams and alerts cancel it. Announced by `incidents.publish`, the curation
desk and account erasure. Payload: `{"id": incident id}`."""

POST_SUBMITTED = "post.submitted"
"""A resident's post entered the moderation queue (new or edited). Announced by
`posts.service.submit_post` and `posts.lifecycle.edit_post`. Payload: `{"id": post id}`."""

SUBSCRIPTION_CHANGED = "subscription.changed"
"""A watch area, its channels or their confirmation changed; every node refreshes its
geofence index entry. Announced by `alerts.service`, `alerts.optin` and account erasure.
Payload: `{"id": subscription id}`."""


def about_incident(topic: str) -> bool:
    """True for every incident topic (consumers that re-read the incident take them all)."""
    return topic.startswith(INCIDENT_PREFIX)
