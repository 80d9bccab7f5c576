"""The category taxonomy, loaded from `taxonomy.toml` shipped in the package."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from townsquare.i18n import N_


@dataclass(frozen=True, slots=True)
class Category:
    """One code of the taxonomy and what the platform does with it."""

    code: str
    label: str
    community: bool
    sensitive: bool
    severity: int


@cache
def categories() -> dict[str, Category]:
    """Every category, keyed by code (read once from the packaged data file)."""
    text = resources.files("townsquare").joinpath("taxonomy.toml").read_text("utf-8")
    table = tomllib.loads(text)["categories"]
    found = {
        code: Category(code, row["label"], row["community"], row["sensitive"], row["severity"])
        for code, row in table.items()
    }
    for cat in found.values():
        if not 1 <= cat.severity <= 5:
            raise ValueError(f"taxonomy: {cat.code} severity {cat.severity} outside 1..5")
    return found


def get(code: str) -> Category:
    """The category for `code`; KeyError names the unknown code."""
    try:
        return categories()[code]
    except KeyError:
        raise KeyError(f"unknown category code {code!r}") from None


def matches(code: str, wanted: str) -> bool:
    """True if `code` is `wanted` or lies under it at a dot boundary ("crime" ⊇ "crime.theft")."""
    return code == wanted or code.startswith(wanted + ".")


def is_known_filter(wanted: str) -> bool:
    """True if some category code equals or lies under `wanted`."""
    return any(matches(code, wanted) for code in categories())


GROUP_LABELS = {  # a person's name for each group of categories (translated where shown)
    "fire": N_("Fire"),
    "rescue": N_("Rescue"),
    "safety": N_("Hazards"),
    "traffic": N_("Traffic"),
    "crime": N_("Crime"),
    "police": N_("Police"),
    "sensitive": N_("Sensitive"),
}


def group_label(group: str) -> str:
    """A person's name for a category group, in English (`web.display` translates it)."""
    if group in GROUP_LABELS:
        return GROUP_LABELS[group]
    category = categories().get(group)
    return category.label if category else group.replace("_", " ").capitalize()
