"""Migration 0014 drops the CHECK on alert_channel.kind on both backends, keeping every row."""

from __future__ import annotations

import json

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError

from townsquare.migrations import runner

BEFORE = "0013_signin_throttle"
NOW = "2026-12-01 10:00:00.000000"


def _to(engine: Engine, revision: str) -> None:
    config = runner.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _channel(connection: Connection, kind: str, target: dict[str, str]) -> None:
    connection.execute(
        text(
            "INSERT INTO alert_channel (subscription_id, kind, target, active) "
            "VALUES (1, :kind, :target, TRUE)"
        ),
        {"kind": kind, "target": json.dumps(target)},
    )


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_channel_kinds_are_open_after_0014_and_rows_survive_both_ways(engine: Engine) -> None:
    _to(engine, BEFORE)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO alert_subscription (id, manage_token_hash, name, cover_key, "
                "categories, min_severity, urgent_severity, time_zone, created_at, updated_at) "
                "VALUES (1, :hash, '', :key, '[]', 1, 4, 'UTC', :now, :now)"
            ),
            {"hash": "0" * 64, "key": "1" * 64, "now": NOW},
        )
        _channel(connection, "email", {"address": "old@example.org"})
        connection.execute(
            text(
                "INSERT INTO alert_delivery (subscription_id, channel_id, incident_id, kind, "
                "revision, status, body, attempts, created_at) "
                "VALUES (1, 1, 7, 'alert', '', 'sent', '{}', 1, :now)"
            ),
            {"now": NOW},
        )
        connection.execute(
            text(
                "INSERT INTO weekly_digest (channel_id, week, window_end, status, attempts, "
                "created_at) VALUES (1, '2026-W48', :now, 'sent', 1, :now)"
            ),
            {"now": NOW},
        )
    with pytest.raises(IntegrityError), engine.begin() as connection:  # the old CHECK
        _channel(connection, "pager", {"number": "+12065550100"})

    runner.upgrade(engine)
    with engine.begin() as connection:
        _channel(connection, "pager", {"number": "+12065550100"})
    assert (_count(engine, "alert_delivery"), _count(engine, "weekly_digest")) == (1, 1)

    with pytest.raises(RuntimeError, match="kinds pager exist"):
        _to(engine, BEFORE)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM alert_channel WHERE kind = 'pager'"))
    _to(engine, BEFORE)
    assert (_count(engine, "alert_delivery"), _count(engine, "weekly_digest")) == (1, 1)
    with pytest.raises(IntegrityError), engine.begin() as connection:
        _channel(connection, "pager", {"number": "+12065550100"})
    runner.upgrade(engine)
    assert runner.pending_differences(engine) == []
