"""The ids a stream sent last, so an event that reaches it twice is sent once."""

from __future__ import annotations

from collections import deque

SEEN_MAX = 2048


class Seen:
    """The ids of the last `SEEN_MAX` events sent, for a constant-time "sent already?"."""

    def __init__(self) -> None:
        self.order: deque[int] = deque()
        self.ids: set[int] = set()

    def __contains__(self, event_id: object) -> bool:
        return event_id in self.ids

    def add(self, event_id: int) -> None:
        """Remember one id, forgetting the oldest beyond `SEEN_MAX`."""
        self.order.append(event_id)
        self.ids.add(event_id)
        if len(self.order) > SEEN_MAX:
            self.ids.discard(self.order.popleft())

    def discard(self, event_id: int) -> None:
        """Forget one id (an event handed back unsent)."""
        self.ids.discard(event_id)
