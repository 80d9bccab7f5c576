"""The links of alert mail: confirm an address, unsubscribe in one click (RFC 8058).

Absolute, from the configured public URL, never from a request's Host header. The
unsubscribe token is an HMAC of the channel id and its address under the server secret:
nothing is stored for it, it cannot be made for another channel, and a link kept from an
old channel whose id was reused names another address and is refused.
"""

from __future__ import annotations

import hmac
from email.message import EmailMessage

from townsquare.accounts.security import server_secret
from townsquare.settings import Settings

ONE_CLICK = "List-Unsubscribe=One-Click"


def normal(address: str) -> str:
    """An address as compared: trimmed, lower case."""
    return address.strip().lower()


def confirm_url(settings: Settings, token: str) -> str:
    """The absolute confirmation link."""
    return settings.absolute_url(f"/alerts/confirm/{token}")


def unsubscribe_token(settings: Settings, channel_id: int, address: str) -> str:
    """The token of a channel's unsubscribe link: its id and a MAC of id and address."""
    mac = hmac.new(
        server_secret(settings), f"unsubscribe:{channel_id}:{normal(address)}".encode(), "sha256"
    )
    return f"{channel_id}.{mac.hexdigest()[:32]}"


def unsubscribe_url(settings: Settings, channel_id: int, address: str) -> str:
    """The absolute one-click unsubscribe link of a channel."""
    token = unsubscribe_token(settings, channel_id, address)
    return settings.absolute_url(f"/alerts/unsubscribe/{token}")


def add_unsubscribe_headers(mail: EmailMessage, url: str) -> None:
    """RFC 2369 and RFC 8058 headers: mail clients show an unsubscribe button that POSTs."""
    mail["List-Unsubscribe"] = f"<{url}>"
    mail["List-Unsubscribe-Post"] = ONE_CLICK
