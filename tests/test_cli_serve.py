"""`townsquare serve --workers N` refuses, in one line, what cannot run several workers."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from townsquare.cli import app

NATS = "nats://127.0.0.1:4222"


def _serve(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], *args: str) -> tuple[int, str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["serve", *args])
    return result.exit_code, result.output


def test_workers_on_the_in_process_bus_are_refused_naming_the_bus(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, output = _serve(monkeypatch, {"TOWNSQUARE_DATA_DIR": str(tmp_path)}, "--workers", "2")
    assert code == 1
    (line,) = output.strip().splitlines()
    assert line.startswith("error: --workers 2: ")
    assert "TOWNSQUARE_BUS_URL=nats://" in line
    assert not (tmp_path / "townsquare.db").exists()  # nothing was started


def test_workers_on_sqlite_are_refused_naming_the_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = {
        "TOWNSQUARE_DATA_DIR": str(tmp_path),
        "TOWNSQUARE_BUS_URL": NATS,
        "TOWNSQUARE_SECRET_KEY": "ab" * 32,
        "TOWNSQUARE_MEDIA_STORAGE": "database",
    }
    code, output = _serve(monkeypatch, env, "--workers", "4")
    assert code == 1
    (line,) = output.strip().splitlines()
    assert line.startswith("error: --workers 4: ")
    assert "TOWNSQUARE_DATABASE_URL=postgresql" in line


def test_zero_workers_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    code, output = _serve(monkeypatch, {"TOWNSQUARE_DATA_DIR": str(tmp_path)}, "--workers", "0")
    assert code == 2
    assert "--workers" in output
