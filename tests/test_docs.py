"""Docs are tested: a setting, a CLI command or a source kind without documentation fails."""

from __future__ import annotations

from pathlib import Path

import typer.main

from townsquare.cli import app
from townsquare.ingest.sources.registry import known_kinds
from townsquare.settings import Settings

DOCS = Path(__file__).parents[1] / "docs"
README = Path(__file__).parents[1] / "README.md"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text()
    missing = [
        f"TOWNSQUARE_{name.upper()}"
        for name in Settings.model_fields
        if f"`TOWNSQUARE_{name.upper()}`" not in text
    ]
    assert missing == []


def _commands(group: typer.main.TyperGroup | object, prefix: str = "townsquare") -> list[str]:
    names = []
    for name, command in getattr(group, "commands", {}).items():
        if hasattr(command, "commands"):
            names.extend(_commands(command, f"{prefix} {name}"))
        else:
            names.append(f"{prefix} {name}")
    return names


def test_every_cli_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text() + README.read_text()
    commands = _commands(typer.main.get_command(app))
    assert "townsquare replay" in commands
    assert [c for c in commands if f"`{c}" not in text] == []


def test_every_source_kind_is_documented() -> None:
    text = (DOCS / "add-a-feed.md").read_text()
    assert [k for k in known_kinds() if f"`{k}`" not in text] == []


def test_readme_opens_with_the_two_commands() -> None:
    head = README.read_text().splitlines()[:6]
    assert any(line.startswith("make run") for line in head)
    assert any(line.startswith("make test") for line in head)
