"""A browser's side of Web Push, offline: the keys a push subscription carries, a local push
endpoint that checks the VAPID signature and decrypts like a browser, and a page script that
hands the page this subscription (headless Chromium cannot reach a real push service).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import http_ece
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.support.webhooks import Received, Receiver, serve_receiver
from townsquare.alerts.vapid import b64url


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class PushInbox:
    """What reached the browser through its push endpoint, decrypted, and what was wrong."""

    endpoint: str
    p256dh: str
    auth: str
    shown: list[dict[str, Any]] = field(default_factory=list)
    signers: list[str] = field(default_factory=list)
    """The VAPID public key (`k=`) each push was signed with (the signature checked)."""
    problems: list[str] = field(default_factory=list)

    def page_script(self) -> str:
        """An init script: PushManager hands the page this subscription, and keeps the
        applicationServerKey the page asked with (in `window.__pushKey`, base64url)."""
        sub = json.dumps(
            {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}
        )
        return f"""
        (() => {{
          const given = {sub};
          let current = null;
          const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
            .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
          const made = (key) => ({{
            endpoint: given.endpoint, options: {{ applicationServerKey: key }},
            toJSON: () => given,
            unsubscribe: () => {{ current = null; return Promise.resolve(true); }},
          }});
          PushManager.prototype.getSubscription = () => Promise.resolve(current);
          PushManager.prototype.subscribe = function (options) {{
            const key = options.applicationServerKey;
            window.__pushKey = b64(key.buffer || key);
            current = made(key.buffer || key);
            return Promise.resolve(current);
          }};
        }})();
        """


@contextmanager
def push_endpoint() -> Iterator[PushInbox]:
    """A local push endpoint for one browser's subscription (201 to each valid push)."""
    key = ec.generate_private_key(ec.SECP256R1())
    auth = b"0123456789abcdef"
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    inbox = PushInbox("", b64url(public), b64url(auth))

    def handle(receiver: Receiver, got: Received) -> tuple[int, bytes]:
        scheme, _, params = got.headers.get("Authorization", "").partition(" ")
        fields = dict(p.strip().split("=", 1) for p in params.split(",") if "=" in p)
        if scheme != "vapid" or "t" not in fields or "k" not in fields:
            inbox.problems.append(f"no VAPID: {got.headers.get('Authorization')}")
            return 401, b""
        head, claims, signature = fields["t"].split(".")
        raw = _unb64(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        signer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _unb64(fields["k"]))
        signer.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
        plain = http_ece.decrypt(got.body, private_key=key, auth_secret=auth, version="aes128gcm")
        inbox.signers.append(fields["k"])
        inbox.shown.append(json.loads(plain))
        return 201, b""

    server = serve_receiver(handle)
    receiver = next(server)
    inbox.endpoint = receiver.url
    try:
        yield inbox
    finally:
        server.close()
