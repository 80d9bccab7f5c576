"""The audit log is a chain: a changed or removed entry is found, by `verify` and the CLI."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, delete, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from townsquare import audit
from townsquare.audit import AuditEntry
from townsquare.cli import app


def _three(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        for n in range(3):
            audit.record(session, actor_id=None, action="test.act", object_type="x", object_id=n)
        session.commit()


def _cli(engine: Engine, tmp_path: Path) -> tuple[int, str]:
    url = engine.url.render_as_string(hide_password=False)
    env = {"TOWNSQUARE_DATABASE_URL": url, "TOWNSQUARE_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(app, ["audit", "verify"], env=env)
    return result.exit_code, result.output


def test_an_untouched_chain_verifies(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    _three(factory)
    with factory() as session:
        assert audit.verify(session).ok
    code, output = _cli(engine, tmp_path)
    assert code == 0
    assert "3 entries" in output


def test_an_edited_entry_breaks_the_chain(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    _three(factory)
    with factory() as session:
        session.execute(update(AuditEntry).where(AuditEntry.id == 2).values(action="test.other"))
        session.commit()
        assert audit.verify(session).broken_at == 2
    code, _ = _cli(engine, tmp_path)
    assert code == 1


def test_a_removed_entry_breaks_the_chain(factory: sessionmaker[Session]) -> None:
    _three(factory)
    with factory() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.id == 2))
        session.commit()
        assert audit.verify(session).broken_at == 3
