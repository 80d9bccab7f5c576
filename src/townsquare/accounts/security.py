"""Password hashing, random secrets kept as hashes, TOTP codes and the server secret."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import threading
from collections.abc import Iterator
from datetime import datetime

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from townsquare.errors import TooManyRequests
from townsquare.sealing import server_secret as server_secret  # where accounts code looks

_HASHER = PasswordHasher()
MIN_PASSWORD = 10
HASHING_SLOTS = threading.BoundedSemaphore(max(1, (os.cpu_count() or 2) // 2))
"""Password hashes computed at once: argon2 is made to be costly, so a burst of anonymous
sign-ins queues here and leaves the other cores to everything else."""
HASHING_WAIT_S = 10.0
# A dummy hash checked when the e-mail is unknown, so timing does not tell accounts apart.
_DUMMY = _HASHER.hash("not a password of anyone")


@contextlib.contextmanager
def _hashing_slot() -> Iterator[None]:
    """One of the HASHING_SLOTS; TooManyRequests when none frees up in HASHING_WAIT_S."""
    if not HASHING_SLOTS.acquire(timeout=HASHING_WAIT_S):
        raise TooManyRequests("the server is busy checking passwords: try again in a moment")
    try:
        yield
    finally:
        HASHING_SLOTS.release()


def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    with _hashing_slot():
        return _HASHER.hash(password)


def check_password(stored: str | None, password: str) -> bool:
    """True when `password` matches `stored` (a hash is always computed, even for no account)."""
    with _hashing_slot():
        try:
            return _HASHER.verify(stored or _DUMMY, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False


def new_secret() -> tuple[str, str]:
    """A random URL-safe secret and the SHA-256 hex the store keeps of it."""
    token = secrets.token_urlsafe(32)
    return token, digest(token)


def digest(token: str) -> str:
    """SHA-256 hex of a secret."""
    return hashlib.sha256(token.encode()).hexdigest()


def keyed_digest(key: bytes, message: str) -> str:
    """HMAC-SHA256 hex of `message` under `key`: a pseudonym nobody without the key can undo."""
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time string comparison."""
    return hmac.compare_digest(a.encode(), b.encode())


def new_totp_secret() -> str:
    """A base32 TOTP secret."""
    return pyotp.random_base32()


def totp_uri(secret: str, email: str) -> str:
    """The otpauth:// URI an authenticator app scans."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name="Townsquare")


def totp_step(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step `code` is valid for (±1 step), or None; a used step is refused."""
    totp = pyotp.TOTP(secret)
    step = int(now.timestamp()) // totp.interval
    for candidate in (step, step - 1, step + 1):
        if last_step is not None and candidate <= last_step:
            continue
        if same(totp.generate_otp(candidate), code.strip()):
            return candidate
    return None


def normal_email(email: str) -> str:
    """An address as accounts are stored and looked up: trimmed, lower case."""
    return email.strip().lower()
