"""What the server writes is its own alone: the store 0600 in a 0700 folder, media 0600/0700."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import text

from townsquare.db import make_engine
from townsquare.media.storage import LocalStore


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_store_and_its_journal_are_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "townsquare.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
        written = sorted(p.name for p in path.parent.iterdir())
        modes = {p.name: _mode(p) for p in path.parent.iterdir()}
    engine.dispose()
    assert "townsquare.db-wal" in written
    assert set(modes.values()) == {0o600}, modes
    assert _mode(path.parent) == 0o700


def test_stored_media_is_private(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "media")
    key = store.put(b"a photo")
    spooled = tmp_path / "upload.bin"
    spooled.write_bytes(b"a clip")
    spooled.chmod(0o644)
    moved = store.put_file(spooled)
    for found in (key, moved):
        assert _mode(store.path_of(found)) == 0o600
        assert _mode(store.path_of(found).parent) == 0o700
    assert _mode(tmp_path / "media") == 0o700
