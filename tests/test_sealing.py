"""Secrets the server reads back are sealed at rest with a key that is not in the database."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.support.store import STORE_SECRET
from townsquare import sealing
from townsquare.accounts.models import Account
from townsquare.agencies.models import PushKey
from townsquare.alerts.models import Channel, Subscription
from townsquare.cli import app
from townsquare.db import utcnow
from townsquare.sealing import Sealed

SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _account(factory: sessionmaker[Session], seed: str | None = SEED) -> int:
    with factory() as session:
        row = Account(
            email="r@example.org",
            password_hash="x",
            roles=[],
            created_at=utcnow(),
            totp_secret=seed,
        )
        session.add(row)
        session.commit()
        return row.id


def test_a_two_factor_seed_is_never_stored_in_clear(
    engine: Engine, factory: sessionmaker[Session]
) -> None:
    account_id = _account(factory)
    with engine.connect() as connection:
        raw = connection.scalar(text("SELECT totp_secret FROM account"))
    assert raw.startswith("sealed1:")
    assert SEED not in raw
    with factory() as session:
        assert session.get_one(Account, account_id).totp_secret == SEED


def test_a_seed_stored_before_sealing_still_works_and_is_sealed_when_written(
    engine: Engine, factory: sessionmaker[Session]
) -> None:
    account_id = _account(factory, None)
    with engine.begin() as connection:
        connection.execute(text("UPDATE account SET totp_secret = :s"), {"s": SEED})
    with factory() as session:
        row = session.get_one(Account, account_id)
        assert row.totp_secret == SEED
        row.totp_secret = SEED.lower()
        session.commit()
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT totp_secret FROM account")).startswith("sealed1:")


def test_another_deployments_key_opens_nothing() -> None:
    sealed = sealing.seal(sealing.derive(b"ours"), SEED)
    with pytest.raises(InvalidTag):
        sealing.unseal(sealing.derive(b"theirs"), sealed)
    assert sealing.unseal(sealing.derive(b"ours"), sealed) == SEED


@pytest.mark.parametrize("column", [Account.totp_secret, PushKey.secret, Channel.secret], ids=str)
def test_every_secret_read_back_is_a_sealed_column(column: object) -> None:
    assert isinstance(column.type, Sealed)  # type: ignore[attr-defined]


def test_keys_reseal_seals_what_an_older_version_stored_in_clear(
    engine: Engine, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id = _account(factory, None)
    with engine.begin() as connection:
        connection.execute(text("UPDATE account SET totp_secret = :s"), {"s": SEED})
    monkeypatch.setenv("TOWNSQUARE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("TOWNSQUARE_SECRET_KEY", STORE_SECRET.decode())
    result = CliRunner().invoke(app, ["keys", "reseal"])
    assert result.output.strip() == "1 secrets sealed", result.output
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT totp_secret FROM account")).startswith("sealed1:")
    with factory() as session:
        assert session.get_one(Account, account_id).totp_secret == SEED
    assert CliRunner().invoke(app, ["keys", "reseal"]).output.strip() == "0 secrets sealed"


def test_a_push_subscription_and_its_keys_are_sealed_whole(
    engine: Engine, factory: sessionmaker[Session]
) -> None:
    target = {"endpoint": "https://push.example/abc", "keys": {"p256dh": "BPk", "auth": "c2Vj"}}
    with factory() as session:
        now = utcnow()
        watch = Subscription(
            manage_token_hash="0" * 64, cover_key="k", created_at=now, updated_at=now
        )
        session.add(watch)
        session.flush()
        session.add(Channel(subscription_id=watch.id, kind="webpush", target=target))
        session.commit()
    with engine.connect() as connection:
        raw = connection.scalar(text("SELECT CAST(target AS TEXT) FROM alert_channel"))
    assert "sealed1:" in raw
    assert "c2Vj" not in raw
    assert "push.example" not in raw
    with factory() as session:
        assert session.scalars(select(Channel.target)).one() == target
