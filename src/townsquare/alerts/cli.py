"""`townsquare keys vapid` and `keys secret`: the keys the server signs and seals with."""

from __future__ import annotations

import secrets

import typer

from townsquare.alerts.vapid import new_vapid_keys

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
