"""Every media storage keeps and returns the same bytes, streamed: a folder, the shared
database (on both stores) and an S3 bucket (a real S3-speaking server, s3rver)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import Engine, func, select

from tests.support.buckets import BUCKET
from townsquare.media.chunks import DatabaseStore
from townsquare.media.models import MediaChunk
from townsquare.media.service import store_of
from townsquare.media.storage import CHUNK, BlobStore
from townsquare.settings import Settings

SAMPLE = Path(__file__).parents[2] / "src/townsquare/samples/osm/sf_protomaps_pmtiles/sf.pmtiles"


def _round_trip(store: BlobStore, tmp_path: Path) -> None:
    """Store a 4 MB file, read it back in chunks and as a local copy, then erase it."""
    original = SAMPLE.read_bytes()
    upload = tmp_path / "upload"
    shutil.copy(SAMPLE, upload)
    key = store.put_file(upload)
    assert key == hashlib.sha256(original).hexdigest()
    assert not upload.exists()  # taken by the store
    assert store.size(key) == len(original)
    pieces = list(store.chunks(key))
    assert len(pieces) > 1
    assert max(len(p) for p in pieces) <= CHUNK
    assert b"".join(pieces) == original
    with store.local_copy(key, tmp_path) as copy:
        assert copy.read_bytes() == original
    small = store.put(b"a small derivative")
    assert b"".join(store.chunks(small)) == b"a small derivative"
    store.delete(key)
    assert store.size(key) is None
    assert store.size(small) == len(b"a small derivative")


def test_a_local_folder(tmp_path: Path) -> None:
    _round_trip(store_of(Settings(data_dir=tmp_path / "var")), tmp_path)


def test_the_shared_database_in_pieces(engine: Engine, tmp_path: Path) -> None:
    store = DatabaseStore(engine)
    _round_trip(store, tmp_path)
    with engine.connect() as connection:
        rows = connection.scalar(select(func.count()).select_from(MediaChunk))
    assert rows == 1  # the erased file left no piece; the small blob is one


def test_the_same_bytes_twice_are_kept_once(engine: Engine, tmp_path: Path) -> None:
    store = DatabaseStore(engine)
    assert store.put(b"same") == store.put(b"same")
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(MediaChunk)) == 1


def test_an_s3_bucket(s3_endpoint: str, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "var",
        media_storage="s3",
        s3_bucket=BUCKET,
        s3_endpoint_url=s3_endpoint,
        s3_region="us-east-1",
        s3_access_key_id="S3RVER",
        s3_secret_access_key=SecretStr("S3RVER"),
    )
    _round_trip(store_of(settings), tmp_path)
