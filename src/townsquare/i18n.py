"""The language of a page or a mail: the catalogs, the one being spoken now, and the choice.

A request's language is chosen once (`choose`: the `lang` cookie the footer's switch sets,
else the best match of Accept-Language, else English) and held in a context variable for
the request, so templates, mails and text built in code all read it through `gettext`.
The catalogs live in `locale/<lang>/LC_MESSAGES/messages.po`; the `.mo` files are compiled
from them (`make messages`), and compiled on the fly when missing or older, so a checkout
works without a build step.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
DEFAULT = "en"
LANGUAGES = {"en": "English", "es": "Español"}
"""The languages the site speaks, each named in itself (as the switch shows it)."""
COOKIE = "lang"
_current: ContextVar[str] = ContextVar("townsquare_language", default=DEFAULT)


def _compiled(lang: str) -> Path | None:
    """The `.mo` of `lang`, compiled from its `.po` when missing or older; None without one."""
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if not po.exists():
        return mo if mo.exists() else None
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        try:
            with po.open("rb") as source:
                catalog = read_po(source, locale=lang)
            with mo.open("wb") as target:
                write_mo(target, catalog)
        except OSError:  # a read-only install: its build compiled them
            return mo if mo.exists() else None
    return mo


@cache
def translations(lang: str) -> NullTranslations:
    """The catalog of `lang` (English, the source language, translates to itself)."""
    mo = _compiled(lang) if lang != DEFAULT else None
    if mo is None:
        return NullTranslations()
    with mo.open("rb") as source:
        return Translations(source, domain=DOMAIN)


def current() -> str:
    """The language being spoken now: 'en' or 'es'."""
    return _current.get()


def gettext(message: str) -> str:
    """`message` in the current language."""
    return translations(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural of a message in the current language, for `n`."""
    return translations(current()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """`message` in the current language, told apart from the same words elsewhere."""
    return str(translations(current()).pgettext(context, message))


_ = gettext


def parse_accept_language(header: str) -> list[str]:
    """The primary language tags of an Accept-Language header, best first ('es-MX' -> 'es')."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _eq, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary and quality > 0:
            ranked.append((-quality, position, primary))
    return [tag for _q, _p, tag in sorted(ranked)]


def choose(cookie: str | None, accept_language: str | None) -> str:
    """The language of a request: the visitor's own choice, else their browser's, else English."""
    if cookie in LANGUAGES:
        return cookie
    for tag in parse_accept_language(accept_language or ""):
        if tag in LANGUAGES:
            return tag
        if tag == "*":
            break
    return DEFAULT


@contextmanager
def speaking(lang: str) -> Iterator[None]:
    """Speak `lang` inside the block (a mail to someone, a request); restored after."""
    token = _current.set(lang if lang in LANGUAGES else DEFAULT)
    try:
        yield
    finally:
        _current.reset(token)


def activate(lang: str) -> None:
    """Speak `lang` for the rest of this context (a request's own)."""
    _current.set(lang if lang in LANGUAGES else DEFAULT)


def babel_locale() -> str:
    """The CLDR locale of the current language, for dates and numbers."""
    return {"en": "en_US", "es": "es_ES"}.get(current(), "en_US")


def N_(message: str) -> str:  # noqa: N802 (the name gettext tools look for)
    """Mark `message` for translation where it is defined; translate it where it is used."""
    return message


def extract_labels(
    fileobj: Any, keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """A Babel extractor for TOML data: every `label = "..."` (the taxonomy's categories)."""
    for number, raw in enumerate(fileobj, start=1):
        line = raw.decode("utf-8").strip()
        if line.startswith("label") and "=" in line:
            value = line.split("=", 1)[1].strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                yield number, "N_", value[1:-1], []
