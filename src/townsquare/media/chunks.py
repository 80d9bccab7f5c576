"""Media kept in the database the nodes share, in 1 MiB pieces (`media_chunk`).

A blob is written in one transaction, a piece per statement, so it is whole or absent, and
read a piece per query, so neither side holds more than a piece of a clip. Its key is its
SHA-256, so the same bytes stored twice (or by two nodes at once) are kept once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from townsquare.media.models import MediaChunk
from townsquare.media.storage import CHUNK, copied, file_key


class DatabaseStore:
    """Blobs as rows of pieces in the shared store."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _exists(self, key: str) -> bool:
        with self.engine.connect() as connection:
            found = connection.scalar(
                select(MediaChunk.seq).where(MediaChunk.key == key, MediaChunk.seq == 0)
            )
        return found is not None

    def _write(self, key: str, pieces: Iterator[bytes]) -> None:
        if self._exists(key):
            return
        try:
            with self.engine.begin() as connection:
                for seq, piece in enumerate(pieces):
                    connection.execute(insert(MediaChunk).values(key=key, seq=seq, data=piece))
        except IntegrityError:  # another node stored the same bytes meanwhile
            if not self._exists(key):
                raise

    def put(self, data: bytes) -> str:
        """Store `data`; returns its key."""
        key = hashlib.sha256(data).hexdigest()
        self._write(key, iter([data[i : i + CHUNK] for i in range(0, len(data), CHUNK)] or [b""]))
        return key

    def put_file(self, source: Path) -> str:
        """Store a file piece by piece and remove it; returns its key."""
        key = file_key(source)

        def pieces() -> Iterator[bytes]:
            with source.open("rb") as handle:
                first = handle.read(CHUNK)
                yield first
                while chunk := handle.read(CHUNK):
                    yield chunk

        self._write(key, pieces())
        source.unlink()
        return key

    def chunks(self, key: str) -> Iterator[bytes]:
        """The pieces in order, each read by its own query."""
        seq = 0
        while True:
            with self.engine.connect() as connection:
                piece = connection.scalar(
                    select(MediaChunk.data).where(MediaChunk.key == key, MediaChunk.seq == seq)
                )
            if piece is None:
                if seq == 0:
                    raise FileNotFoundError(f"no blob {key}")
                return
            yield bytes(piece)
            seq += 1

    def size(self, key: str) -> int | None:
        """The blob's length, or None."""
        with self.engine.connect() as connection:
            total = connection.execute(
                select(func.count(), func.sum(func.length(MediaChunk.data))).where(
                    MediaChunk.key == key
                )
            ).one()
        return int(total[1] or 0) if total[0] else None

    def local_copy(self, key: str, work: Path) -> AbstractContextManager[Path]:
        """The blob streamed into a scratch file."""
        return copied(self, key, work)

    def delete(self, key: str) -> None:
        """Erase a blob's pieces."""
        with self.engine.begin() as connection:
            connection.execute(delete(MediaChunk).where(MediaChunk.key == key))
