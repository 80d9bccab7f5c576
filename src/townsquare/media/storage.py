"""Content-addressed blobs under the data folder, behind a small interface."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

CHUNK = 1 << 20


class BlobStore:
    """Blobs named by their SHA-256, written atomically; folders 0700 and files 0600 (private)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / key

    def put(self, data: bytes) -> str:
        """Store `data`; returns its key (storing the same bytes twice keeps one copy)."""
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
        """Move a file on the same filesystem into the store, hashed in chunks; returns its key."""
        digest = hashlib.sha256()
        with source.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
        key = digest.hexdigest()
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

    def get(self, key: str) -> bytes:
        """The bytes of a blob."""
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        """Erase a blob if present."""
        self._path(key).unlink(missing_ok=True)
