"""Create or update a language's catalog from the template and a table of translations.

    python scripts/fill_catalog.py es translations.py   # a module with a dict ES = {msgid: msgstr}

Entries the table lacks stay untranslated (tests/test_i18n.py reports them); fuzzy matches
`pybabel update` guessed are replaced by the table's text.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

LOCALES = Path(__file__).resolve().parent.parent / "src" / "townsquare" / "locale"


def fill(lang: str, table: dict[object, object]) -> int:
    """Write `lang`'s catalog from messages.pot and `table`; the count of untranslated entries."""
    with (LOCALES / "messages.pot").open("rb") as source:
        template = read_po(source)
    po = LOCALES / lang / "LC_MESSAGES" / "messages.po"
    catalog = Catalog(locale=lang, project="Townsquare", copyright_holder="Townsquare contributors")
    if po.exists():
        with po.open("rb") as source:
            catalog = read_po(source, locale=lang)
    catalog.update(template, no_fuzzy_matching=True)
    missing = 0
    for message in catalog:
        if not message.id:
            continue
        if message.id in table:
            text = table[message.id]
            if isinstance(text, tuple):  # every plural form the language has, the last repeated
                text = text + (text[-1],) * (catalog.num_plurals - len(text))
            message.string = text  # type: ignore[assignment]
            message.flags.discard("fuzzy")
        elif not message.string:
            missing += 1
    catalog.obsolete.clear()
    catalog.fuzzy = False
    catalog.last_translator = "Townsquare contributors"
    catalog.language_team = f"{lang} <townsquare translators>"
    po.parent.mkdir(parents=True, exist_ok=True)
    with po.open("wb") as target:
        write_po(target, catalog, width=0, omit_header=False, no_location=True, sort_output=True)
    return missing


if __name__ == "__main__":
    language, module = sys.argv[1], sys.argv[2]
    print(f"{fill(language, runpy.run_path(module)['ES'])} untranslated")
