"""What a node refuses, and how it says so: one line naming the variable, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from townsquare.cli import app
from townsquare.deployment import ConfigurationError, check_shared, load
from townsquare.platform import Platform
from townsquare.settings import Settings

NATS = "nats://127.0.0.1:4222"


def _run(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], *args: str) -> tuple[int, str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_a_bad_port_is_one_line_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, output = _run(
        monkeypatch, {"TOWNSQUARE_PORT": "eighty", "TOWNSQUARE_DATA_DIR": str(tmp_path)}, "serve"
    )
    assert code == 1
    assert output.strip().splitlines() == [
        "error: TOWNSQUARE_PORT: Input should be a valid integer, unable to parse string as an "
        "integer (got 'eighty')"
    ]


def test_several_nodes_without_a_shared_secret_do_not_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = {"TOWNSQUARE_BUS_URL": NATS, "TOWNSQUARE_DATA_DIR": str(tmp_path)}
    code, output = _run(monkeypatch, env, "serve")
    assert code == 1
    (line,) = output.strip().splitlines()
    assert line.startswith("error: TOWNSQUARE_SECRET_KEY: several nodes")
    assert "townsquare keys secret" in line
    assert not (tmp_path / "secret.key").exists()  # no key of its own was made


def test_several_nodes_refuse_media_in_a_folder_of_their_own(tmp_path: Path) -> None:
    shared = {"bus_url": NATS, "secret_key": SecretStr("s"), "data_dir": tmp_path}
    with pytest.raises(ConfigurationError, match=r"^TOWNSQUARE_MEDIA_STORAGE: several nodes"):
        Platform.from_settings(Settings(**shared))
    check_shared(Settings(**shared, media_storage="database"))
    check_shared(Settings(**shared, media_local_shared=True))
    with pytest.raises(ConfigurationError, match="TOWNSQUARE_S3_BUCKET"):
        check_shared(Settings(**shared, media_storage="s3"))
    check_shared(Settings(data_dir=tmp_path))  # one node: its own folder is fine


def test_keys_secret_prints_a_fresh_key_each_time(monkeypatch: pytest.MonkeyPatch) -> None:
    first = _run(monkeypatch, {}, "keys", "secret")[1].strip()
    second = _run(monkeypatch, {}, "keys", "secret")[1].strip()
    assert first.startswith("TOWNSQUARE_SECRET_KEY=")
    assert len(first.partition("=")[2]) == 64
    assert first != second


def test_a_secret_comes_from_its_file_variant(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = tmp_path / "secret_key"
    secret.write_text("from a docker secret\n")
    monkeypatch.setenv("TOWNSQUARE_SECRET_KEY_FILE", str(secret))
    monkeypatch.setenv("TOWNSQUARE_PORT_FILE", str(tmp_path / "port"))
    (tmp_path / "port").write_text("8123")
    settings = load()
    assert settings.secret_key is not None
    assert settings.secret_key.get_secret_value() == "from a docker secret"
    assert settings.port == 8123
    monkeypatch.setenv("TOWNSQUARE_SECRET_KEY", "also given")
    with pytest.raises(ConfigurationError, match="SECRET_KEY and TOWNSQUARE_SECRET_KEY_FILE"):
        load()


def test_an_unreadable_file_variant_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere"
    code, output = _run(monkeypatch, {"TOWNSQUARE_SECRET_KEY_FILE": str(missing)}, "serve")
    assert code == 1
    assert output.strip() == (
        f"error: TOWNSQUARE_SECRET_KEY_FILE: cannot read {missing}: No such file or directory"
    )


def test_the_version_is_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    from townsquare import __version__

    assert _run(monkeypatch, {}, "--version")[1].strip() == f"townsquare {__version__}"
