"""Structured JSON logs; fields are chosen, never whole records, so no personal data leaks."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

SAFE_EXTRAS = (
    "report",
    "incidents",
    "topic",
    "path",
    "status",
    "duration_ms",
    "source",
    "count",
    "method",
    "route",
    "request_id",
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line with an allowlist of extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as JSON."""
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in SAFE_EXTRAS:
            if key in record.__dict__:
                entry[key] = record.__dict__[key]
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(level: str, as_json: bool) -> None:
    """Install the root handler once."""
    handler = logging.StreamHandler()
    if as_json:
        handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
