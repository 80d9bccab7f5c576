"""VAPID key pairs for Web Push (RFC 8292): P-256, printed as the settings expect them."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


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
