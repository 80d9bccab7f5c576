"""Jinja2 for mail: the mail templates folder, its environment and the filters mail uses.

A base module: mail composers in any domain render HTML here, so none imports the web pages.
The page templates (`townsquare.web`) reuse the filters below, so a time reads the same in a
mail and on the page it links to.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

MAIL_TEMPLATES = Path(__file__).parent / "mail_templates"


def utc_iso(moment: datetime) -> str:
    """An instant in UTC ISO 8601 with a Z: '2024-05-01T12:00:00Z'."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@cache
def mail_environment() -> Environment:
    """The mail templates, HTML autoescaped (built on first use, never at import)."""
    env = Environment(loader=FileSystemLoader(MAIL_TEMPLATES), autoescape=select_autoescape())
    env.filters["utc_iso"] = utc_iso
    return env


def render_mail(template: str, **context: Any) -> str:
    """The HTML part of a mail from a template of `mail_templates/`."""
    return mail_environment().get_template(template).render(**context)
