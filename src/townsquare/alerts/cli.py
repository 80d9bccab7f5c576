"""`townsquare keys vapid`, `keys secret` and `keys reseal`: the keys the server signs and
seals with."""

from __future__ import annotations

import secrets
from typing import Any

import typer
from sqlalchemy import Text, cast, select
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.orm.attributes import flag_modified

from townsquare.accounts.models import Account
from townsquare.agencies.models import PushKey
from townsquare.alerts.models import Channel
from townsquare.alerts.vapid import new_vapid_keys
from townsquare.commands import configured, store
from townsquare.sealing import MARK

SEALED: tuple[InstrumentedAttribute[Any], ...] = (
    Account.totp_secret,
    PushKey.secret,
    Channel.secret,
    Channel.target,
)

keys_app = typer.Typer(help="Keys the server signs with.", no_args_is_help=True)


@keys_app.command("vapid")
def vapid() -> None:
    """Print a new VAPID key pair as environment lines (keep the private one secret)."""
    keys = new_vapid_keys()
    typer.echo(f"TOWNSQUARE_VAPID_PRIVATE_KEY={keys.private_key}")
    typer.echo(f"TOWNSQUARE_VAPID_PUBLIC_KEY={keys.public_key}")


@keys_app.command("secret")
def secret() -> None:
    """Print a new secret key as an environment line: give every node the same one."""
    typer.echo(f"TOWNSQUARE_SECRET_KEY={secrets.token_hex(32)}")


@keys_app.command("reseal")
def reseal() -> None:
    """Seal the secrets stored in clear before an upgrade (they work either way)."""
    settings = configured()
    sealed = 0
    with store(settings) as factory, factory() as session:
        for column in SEALED:
            model = column.class_
            stored = cast(column, Text)  # compared as stored, not as sealed
            mark = f'"{MARK}%' if column is Channel.target else f"{MARK}%"  # a JSON string
            rows = session.scalars(
                select(model).where(column.is_not(None), stored.not_like(mark))
            ).all()
            for row in rows:
                flag_modified(row, column.key)  # written again, so sealed
            sealed += len(rows)
        session.commit()
    typer.echo(f"{sealed} secrets sealed")
