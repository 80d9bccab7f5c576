"""`townsquare weekly send`: mail each e-mail subscriber the week of their watch area, once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from townsquare.commands import configured, store
from townsquare.db import utcnow
from townsquare.weekly.digest import send_weekly

weekly_app = typer.Typer(help="The weekly summary of each watch area.", no_args_is_help=True)


def _instant(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO 8601 date-time") from None
    return parsed.replace(tzinfo=parsed.tzinfo or UTC).astimezone(UTC)


@weekly_app.command("send")
def weekly_send(
    end: Annotated[
        str | None,
        typer.Option(
            help="End of the week to summarise, ISO 8601 (UTC if no offset); default now."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be sent; send and record nothing.")
    ] = False,
) -> None:
    """Mail the week's summary to every e-mail channel that has not had this week's yet."""
    settings, now = configured(), utcnow()
    until = _instant(end) if end else now
    with store(settings) as factory:
        report = send_weekly(factory, settings, end=until, now=now, dry_run=dry_run)
    for channel_id, total in report.totals.items():
        typer.echo(f"channel {channel_id}: {total} public incidents this week")
    typer.echo(report.summary(dry_run))
    if report.failed:
        raise typer.Exit(1)
