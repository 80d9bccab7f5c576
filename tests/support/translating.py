"""What the translation tests read: a language's catalog, the messages the code holds, and the
visible text of a template that is not wrapped for translation."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

import townsquare
from townsquare import i18n

ROOT = Path(townsquare.__file__).resolve().parents[2]
TEMPLATES = Path(townsquare.__file__).parent / "web" / "templates"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2), "N_": None}
TOKEN = re.compile(
    r"(?P<comment>\{#.*?#\})"
    r"|(?P<raw>\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\})"
    r"|(?P<trans>\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\})"
    r"|(?P<stmt>\{%.*?%\})"
    r"|(?P<expr>\{\{.*?\}\})"
    r"|(?P<block><(script|style|pre|code)\b.*?</(script|style|pre|code)>)"
    r"|(?P<html_comment><!--.*?-->)"
    r"|(?P<tag><(?:[^>{]|\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|\{)*>)"
    r"|(?P<text>[^<{]+|\{)",
    re.S,
)
SHOWN_ATTRIBUTE = re.compile(r'\b(?:placeholder|aria-label|title|alt)="([^"{]*[A-Za-z][^"{]*)"')
NOT_WORDS = {"Townsquare", "CSV", "JSON", "GeoJSON"}


def catalog(lang: str) -> Catalog:
    """The committed catalog of `lang`."""
    with (i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return read_po(source, locale=lang)


def source_messages() -> set[str | tuple[str, ...]]:
    """Every message the code and templates hold now, extracted as `make messages` does."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: set[str | tuple[str, ...]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def unwrapped(source: str) -> list[str]:
    """The visible words of a template shown as written, whatever the language."""
    left: list[str] = []
    for match in TOKEN.finditer(source):
        kind, value = match.lastgroup, match.group(0)
        if kind == "text":
            words = " ".join(value.split())
            bare = words.replace("Townsquare", "")
            if re.fullmatch(r"[a-z]+(-[a-z]+)+", words) or '="' in words:
                continue  # a class name or attributes a macro writes, not words
            if re.search(r"[A-Za-z]{2,}", bare) and words not in NOT_WORDS:
                left.append(words)
        elif kind == "tag":
            left += [v for v in SHOWN_ATTRIBUTE.findall(value) if v not in NOT_WORDS]
    return left
