"""Secrets the server must read back (two-factor seeds, webhook and push signing keys) are
sealed in the database with a key that is not in it.

The key is derived (HKDF-SHA256) from the deployment's secret key, which lives in the
settings or DATA_DIR/secret.key, never in the store: a copy of the database alone (a backup,
a dump, an injection) gives no working second factor and no signing key. Each engine carries
its key on its dialect, so a `Sealed` column seals on write and opens on read with no call in
the code that uses it. A value written before sealing existed is read as it is and sealed the
next time it is written (or by `townsquare keys reseal`).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import JSON, Dialect, Engine, String
from sqlalchemy.types import TypeDecorator

from townsquare.settings import Settings

MARK = "sealed1:"
NONCE = 12
KEY_ATTRIBUTE = "townsquare_sealing_key"


class SealingKeyMissing(RuntimeError):
    """A sealed column was used on an engine no key was bound to (`bind`)."""


def server_secret(settings: Settings) -> bytes:
    """The deployment's secret: the setting, or a random key kept in the data folder."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path = Path(settings.data_dir) / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Created exclusively so two processes starting together cannot write different keys.
        try:
            with path.open("x", encoding="ascii") as handle:
                handle.write(secrets.token_hex(32))
            path.chmod(0o600)
        except FileExistsError:
            pass
    return path.read_text(encoding="ascii").strip().encode()


def derive(secret: bytes) -> bytes:
    """The 256-bit sealing key of a server secret (never the secret itself)."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"townsquare sealed columns v1"
    ).derive(secret)


def bind(engine: Engine, secret: bytes, *, replace: bool = True) -> None:
    """Seal and open this engine's `Sealed` columns with the key derived from `secret`."""
    if replace or getattr(engine.dialect, KEY_ATTRIBUTE, None) is None:
        setattr(engine.dialect, KEY_ATTRIBUTE, derive(secret))


def seal(key: bytes, text: str) -> str:
    """`text` encrypted and authenticated (AES-256-GCM, a random nonce), marked as sealed."""
    nonce = os.urandom(NONCE)
    sealed = AESGCM(key).encrypt(nonce, text.encode(), MARK.encode())
    return MARK + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def unseal(key: bytes, stored: str) -> str:
    """The text of a sealed value; a value stored before sealing is returned as it is."""
    if not stored.startswith(MARK):
        return stored
    raw = base64.urlsafe_b64decode(stored[len(MARK) :])
    return AESGCM(key).decrypt(raw[:NONCE], raw[NONCE:], MARK.encode()).decode()


def _key(dialect: Dialect) -> bytes:
    key = getattr(dialect, KEY_ATTRIBUTE, None)
    if key is None:
        raise SealingKeyMissing("no sealing key is bound to this engine (sealing.bind)")
    return bytes(key)


class Sealed(TypeDecorator[str]):
    """A string column stored sealed with its engine's key."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        """Seal on the way in."""
        return None if value is None else seal(_key(dialect), value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        """Open on the way out (a value from before sealing passes as it is)."""
        if value is None or not value.startswith(MARK):
            return value
        return unseal(_key(dialect), value)


class SealedJSON(TypeDecorator[Any]):
    """A JSON column whose whole value is stored sealed (as a JSON string) with its engine's key.

    Only for values the code reads whole: the database cannot look inside a sealed value.
    """

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        """Seal the value's JSON text on the way in."""
        return None if value is None else seal(_key(dialect), json.dumps(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        """Open on the way out (a value from before sealing passes as it is)."""
        if isinstance(value, str) and value.startswith(MARK):
            return json.loads(unseal(_key(dialect), value))
        return value
