"""Records POSTed by an agency's dispatch system: authenticated, fresh, never replayed.

The sender signs each body: `X-Townsquare-Timestamp: <unix seconds>` and
`X-Townsquare-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`, and
sends its API key as `X-Townsquare-Key`. A timestamp outside `[push] max_skew_s` is refused;
an accepted signature is remembered for that window, so the same request sent again is a
replay and refused (409), on every node, because the receipt is in the store. The key and
secret come from the environment variables the source names, until the agency's admin
rotates them (`agencies.push_keys`); from then on only the stored, live key is accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from townsquare.agencies import push_keys
from townsquare.db import transaction
from townsquare.errors import (
    Conflict,
    InvalidBody,
    NotFound,
    SourceError,
    TownsquareError,
)
from townsquare.ingest import service
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.models import PushReceipt, Source
from townsquare.ingest.sources.base import RawItem
from townsquare.ingest.sources.registry import adapter_for
from townsquare.places.service import Geocoder

KEY_HEADER = "x-townsquare-key"
TIMESTAMP_HEADER = "x-townsquare-timestamp"
SIGNATURE_HEADER = "x-townsquare-signature"


class PushRejected(TownsquareError):
    """Missing or wrong credentials, or a signature outside its time window."""

    status = 401
    title = "Push rejected"


class PushTooLarge(TownsquareError):
    """A pushed body over the source's `[push] max_bytes`."""

    status = 413
    title = "Payload too large"


class BodyParser(Protocol):
    """An adapter that can read a pushed body as well as fetch its location."""

    def parse(self, config: SourceConfig, body: bytes) -> Iterator[RawItem]:
        """The records of one body."""
        ...


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value a sender computes for `body` at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def push_config(factory: sessionmaker[Session], slug: str) -> SourceConfig:
    """The configuration of a stored source that accepts pushes; NotFound otherwise."""
    with factory() as session:
        source = session.scalar(select(Source).where(Source.slug == slug))
        config = SourceConfig.model_validate(source.config) if source else None
    if config is None or config.push is None:
        raise NotFound(f"source {slug!r} not found or does not accept pushed records")
    return config


def receive(
    factory: sessionmaker[Session],
    config: SourceConfig,
    body: bytes,
    headers: Mapping[str, str],
    *,
    now: datetime,
    geocoder: Geocoder | None = None,
) -> service.IngestReport:
    """Check a pushed body's credentials and freshness, then ingest its records."""
    options = config.push
    assert options is not None  # push_config checked it
    if len(body) > options.max_bytes:
        raise PushTooLarge(f"body larger than {options.max_bytes} bytes")
    sent = headers.get(KEY_HEADER, "")
    stored = push_keys.lookup(factory, config.slug, sent)
    key: str | None
    secret: str | None
    if stored.managed:  # the agency's admin set a key: the environment's no longer counts
        if stored.secret is None:
            raise PushRejected("wrong, missing or revoked API key")
        key, secret = sent, stored.secret
    else:
        key, secret = os.environ.get(options.key_env), os.environ.get(options.secret_env)
    if not key or not secret:
        raise SourceError(f"{config.slug}: push credentials are not configured on this server")
    if not hmac.compare_digest(sent, key):
        raise PushRejected("wrong or missing API key")
    stamp = headers.get(TIMESTAMP_HEADER, "")
    if not stamp.isdecimal():
        raise PushRejected(f"missing or malformed {TIMESTAMP_HEADER}")
    skew = abs(now.timestamp() - int(stamp))
    if skew > options.max_skew_s:
        raise PushRejected(
            f"timestamp is {skew:.0f} s away from now (at most {options.max_skew_s})"
        )
    signature = headers.get(SIGNATURE_HEADER, "")
    if not hmac.compare_digest(signature, sign(secret, int(stamp), body)):
        raise PushRejected("signature does not match the body")
    _remember(factory, config, signature, now, timedelta(seconds=2 * options.max_skew_s))
    parser = adapter_for(config.kind)
    if not callable(getattr(parser, "parse", None)):
        raise SourceError(f"records of kind {config.kind!r} cannot be pushed")
    reader: BodyParser = parser  # type: ignore[assignment]
    items = _readable(reader, config, body)
    return service.ingest_items(factory, config, items, now=now, geocoder=geocoder)


def _readable(reader: BodyParser, config: SourceConfig, body: bytes) -> Iterator[RawItem]:
    """The records of a pushed body; InvalidBody at the first that cannot be read.

    The sender's fault, so a 400 naming the field (`body`, or the record's field nested
    too deep), never the 502 of a feed this server failed to read.

    Whole-body faults (malformed, a DTD, nesting past what the decoder can read) come before
    the first record, so nothing is stored; a record nested too deep stops the push there
    (the records before it are stored, as a fault mid-ingest keeps what was read).
    """
    try:
        for item in reader.parse(config, body):
            if item.defect_field is not None:
                raise InvalidBody(item.defect_field, f"{item.position}: {item.defect}")
            yield item
    except SourceError as exc:
        raise InvalidBody("body", str(exc)) from None


def _remember(
    factory: sessionmaker[Session],
    config: SourceConfig,
    signature: str,
    now: datetime,
    window: timedelta,
) -> None:
    digest = hashlib.sha256(signature.encode()).hexdigest()
    try:
        with transaction(factory) as session:
            source = service.ensure_source(session, config)
            session.execute(delete(PushReceipt).where(PushReceipt.received_at < now - window))
            session.add(PushReceipt(source_id=source.id, signature=digest, received_at=now))
    except IntegrityError:
        raise Conflict("this request was already received (a replay)") from None
