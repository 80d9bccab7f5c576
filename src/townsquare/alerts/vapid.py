"""VAPID key pairs for Web Push (RFC 8292): P-256, made by the server on first start.

Without settings the server makes its key pair once and keeps it in the store (the private
half sealed, sealing.py), so push works out of the box and every node of a deployment signs
with the same key. TOWNSQUARE_VAPID_PRIVATE_KEY and _PUBLIC_KEY, when both are set, win.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from townsquare.alerts.models import VapidKey
from townsquare.db import utcnow
from townsquare.settings import Settings

log = logging.getLogger(__name__)


def b64url(data: bytes) -> str:
    """Unpadded base64url, as Web Push uses everywhere."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@dataclass(frozen=True, slots=True)
class VapidKeys:
    """A private key (raw 32-byte scalar) and its public point, both base64url."""

    private_key: str
    public_key: str


def new_vapid_keys() -> VapidKeys:
    """A fresh P-256 key pair."""
    key = ec.generate_private_key(ec.SECP256R1())
    scalar = key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return VapidKeys(b64url(scalar), b64url(public))


def configured_keys(settings: Settings) -> VapidKeys | None:
    """The key pair the settings name, if they name both halves."""
    if settings.vapid_private_key is None or not settings.vapid_public_key:
        return None
    return VapidKeys(settings.vapid_private_key.get_secret_value(), settings.vapid_public_key)


def server_keys(factory: sessionmaker[Session], settings: Settings) -> VapidKeys:
    """The server's key pair: the settings' if given, else the one in the store, made once.

    Two nodes starting together may both make one; the store keeps the first written (one
    row, id 1) and the other node reads that back, so every node signs with the same key.
    """
    named = configured_keys(settings)
    if named is not None:
        return named
    with factory() as session:
        row = session.get(VapidKey, 1)
        if row is not None:
            return VapidKeys(row.private_key, row.public_key)
        made = new_vapid_keys()
        session.add(
            VapidKey(
                id=1, private_key=made.private_key, public_key=made.public_key, created_at=utcnow()
            )
        )
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
        else:
            log.info("VAPID key pair made for Web Push")
            return made
        row = session.get_one(VapidKey, 1)
        return VapidKeys(row.private_key, row.public_key)
