"""Content-addressed blobs behind one small interface, wherever the settings keep them.

`local` is a folder under the data folder (one node, or a mount every node shares);
`database` keeps chunks in the store the nodes already share (`media.chunks`); `s3` an
S3-compatible bucket (`media.buckets`). Blobs are named by their SHA-256, written whole or not
at all, and read in chunks: no backend holds a whole clip in memory.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

CHUNK = 1 << 20


class BlobStore(Protocol):
    """Where media bytes are kept."""

    def put(self, data: bytes) -> str:
        """Store `data`; returns its key (storing the same bytes twice keeps one copy)."""

    def put_file(self, source: Path) -> str:
        """Store a file and remove it (moved where it can be); returns its key."""

    def chunks(self, key: str) -> Iterator[bytes]:
        """The blob's bytes in order, a chunk at a time."""

    def size(self, key: str) -> int | None:
        """The blob's length, or None if there is no such blob."""

    def local_copy(self, key: str, work: Path) -> AbstractContextManager[Path]:
        """A file with the blob's bytes for tools that need a path (ffmpeg), while open."""

    def delete(self, key: str) -> None:
        """Erase a blob if present."""


def file_key(source: Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with source.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def copied(store: BlobStore, key: str, work: Path) -> Iterator[Path]:
    """The blob streamed into a private file in `work`, removed on exit."""
    fd, name = tempfile.mkstemp(dir=work, prefix="blob-")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in store.chunks(key):
                out.write(chunk)
        yield path
    finally:
        path.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class Blob:
    """A stored blob to send: where it is, its key and its type."""

    store: BlobStore
    key: str
    content_type: str

    def local_path(self) -> Path | None:
        """The file itself when the store is a local folder (sent with range support)."""
        return self.store.path_of(self.key) if isinstance(self.store, LocalStore) else None


class LocalStore:
    """Blobs as files named by their SHA-256, written atomically; folders 0700, files 0600."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / key

    def put(self, data: bytes) -> str:
        """Store `data`; returns its key."""
        key = hashlib.sha256(data).hexdigest()
        path = self._path(key)
        if not path.exists():
            self._folder(path.parent)
            fd, tmp = tempfile.mkstemp(dir=path.parent)  # made 0600
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
            except BaseException:  # a full disk: no half-written blob is left behind
                os.unlink(tmp)
                raise
            os.replace(tmp, path)
        return key

    def put_file(self, source: Path) -> str:
        """Move a file on the same filesystem into the store; returns its key."""
        key = file_key(source)
        path = self._path(key)
        if path.exists():
            source.unlink()
        else:
            self._folder(path.parent)
            source.chmod(0o600)
            os.replace(source, path)
        return key

    def _folder(self, folder: Path) -> None:
        for made in (self.root, folder):
            made.mkdir(mode=0o700, parents=True, exist_ok=True)

    def path_of(self, key: str) -> Path:
        """Where a blob lives, for streaming it out without loading it."""
        return self._path(key)

    def chunks(self, key: str) -> Iterator[bytes]:
        """The blob's bytes a chunk at a time."""
        with self._path(key).open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    def size(self, key: str) -> int | None:
        """The file's length, or None."""
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            return None

    @contextmanager
    def local_copy(self, key: str, work: Path) -> Iterator[Path]:
        """The blob's own file: no copy is needed."""
        yield self._path(key)

    def get(self, key: str) -> bytes:
        """The bytes of a blob (small ones: tests and photos' checks)."""
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        """Erase a blob if present."""
        self._path(key).unlink(missing_ok=True)
