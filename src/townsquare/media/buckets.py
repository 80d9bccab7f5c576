"""Media in an S3-compatible bucket (AWS S3, MinIO, Ceph, Garage ...), through boto3.

Objects are named PREFIX + SHA-256; files go up in multipart pieces and come down as a
stream, so no clip is held in memory whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from townsquare.media.storage import CHUNK, copied, file_key
from townsquare.settings import Settings


class BucketStore:
    """Blobs as objects of one bucket."""

    def __init__(self, settings: Settings) -> None:
        import boto3  # here: only deployments that choose `s3` load it
        from botocore.config import Config

        secret = settings.s3_secret_access_key
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url or None,
            region_name=settings.s3_region or None,
            aws_access_key_id=settings.s3_access_key_id or None,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 5}),
        )
        self.bucket = settings.s3_bucket
        self.prefix = settings.s3_prefix

    def _name(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def put(self, data: bytes) -> str:
        """Store `data`; returns its key."""
        key = hashlib.sha256(data).hexdigest()
        self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=data)
        return key

    def put_file(self, source: Path) -> str:
        """Upload a file (multipart when large) and remove it; returns its key."""
        key = file_key(source)
        if self.size(key) is None:
            self.client.upload_file(str(source), self.bucket, self._name(key))
        source.unlink()
        return key

    def chunks(self, key: str) -> Iterator[bytes]:
        """The object's body as a stream of pieces."""
        body = self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"]
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    def size(self, key: str) -> int | None:
        """The object's length, or None."""
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        return int(head["ContentLength"])

    def local_copy(self, key: str, work: Path) -> AbstractContextManager[Path]:
        """The object downloaded into a scratch file."""
        return copied(self, key, work)

    def delete(self, key: str) -> None:
        """Erase an object (absent is fine)."""
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))
