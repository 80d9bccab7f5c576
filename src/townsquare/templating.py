"""Jinja2 for mail: the mail templates folder, its environment and the filters mail uses.

A base module: mail composers in any domain render HTML here, so none imports the web pages.
The page templates (`townsquare.web`) reuse the filters below, so a time reads the same in a
mail and on the page it links to.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from townsquare import i18n

MAIL_TEMPLATES = Path(__file__).parent / "mail_templates"
Style = Literal["datetime", "time", "date"]
# CLDR patterns, the zone named: "7 Dec, 4:52 AM PST", "4:52 AM PST", "7 Dec 2026".
PATTERNS: dict[Style, str] = {
    "datetime": "d MMM, h:mm a z",
    "time": "h:mm a z",
    "date": "d MMM y",
}
# The same in Spanish, on a 24-hour clock: "7 dic, 16:52 PST" (the zone's abbreviation is
# added as the zone itself says it: CLDR has none for PST in Spanish, only "-0800").
PATTERNS_24H: dict[Style, str] = {
    "datetime": "d MMM, H:mm",
    "time": "H:mm",
    "date": "d MMM y",
}


def utc_iso(moment: datetime) -> str:
    """An instant in UTC ISO 8601 with a Z: '2024-05-01T12:00:00Z'."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@cache
def zone_of(name: str) -> ZoneInfo:
    """The IANA zone `name`; UTC for a name this machine does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_text(moment: datetime, zone: str, style: Style = "datetime") -> str:
    """An instant as a person reads it in `zone`, the zone named: '7 Dec, 4:52 AM PST'.

    A moment of another year than now (in that zone) carries its year.
    """
    tz = zone_of(zone)
    locale = i18n.babel_locale()
    patterns = PATTERNS if locale == "en_US" else PATTERNS_24H
    pattern = patterns[style]
    if style == "datetime" and moment.astimezone(tz).year != datetime.now(tz).year:
        pattern = pattern.replace("d MMM,", "d MMM y,")
    shown = format_datetime(moment, pattern, tzinfo=tz, locale=locale)
    if patterns is PATTERNS_24H and style != "date":
        shown = f"{shown} {moment.astimezone(tz).tzname()}"
    return shown


def time_tag(moment: datetime, zone: str, style: Style = "datetime") -> Markup:
    """`<time>` with the instant in UTC ISO and its text in `zone`; the pages' script rewrites
    the text into the reader's own zone (`data-local` says which parts it shows)."""
    iso, shown = utc_iso(moment), local_text(moment, zone, style)
    return Markup('<time datetime="{}" data-local="{}">{}</time>').format(iso, style, shown)


def install_i18n(env: Environment) -> None:
    """`{% trans %}` and `_()` in `env`'s templates, in the language being spoken when rendered."""
    env.add_extension("jinja2.ext.i18n")
    env.policies["ext.i18n.trimmed"] = True  # as `babel.cfg` extracts them
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext
    )
    env.globals["current_language"] = i18n.current


@cache
def mail_environment() -> Environment:
    """The mail templates, HTML autoescaped (built on first use, never at import)."""
    env = Environment(loader=FileSystemLoader(MAIL_TEMPLATES), autoescape=select_autoescape())
    install_i18n(env)
    env.filters["utc_iso"] = utc_iso
    env.filters["local_text"] = local_text
    return env


def render_mail(template: str, **context: Any) -> str:
    """The HTML part of a mail from a template of `mail_templates/`."""
    return mail_environment().get_template(template).render(**context)
