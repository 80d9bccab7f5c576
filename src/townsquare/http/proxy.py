"""The client's own address behind a reverse proxy: what rate limits and logs count on.

A proxy connects from its own address, so every reader would share one limit. When the
connection comes from a proxy named in TOWNSQUARE_TRUSTED_PROXIES, the client is the
right-most `X-Forwarded-For` entry that is not itself a trusted proxy (entries further left
were written by the client, who may say anything). From anyone else the header is ignored.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from starlette.types import ASGIApp, Receive, Scope, Send

from townsquare.settings import Settings

Network = IPv4Network | IPv6Network


def trusted_networks(spec: str) -> list[Network]:
    """The networks of a comma-separated list of addresses and CIDR blocks."""
    return [ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip()]


def _is_in(address: str, networks: list[Network]) -> bool:
    try:
        parsed = ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    return any(parsed in network for network in networks)


def client_behind(peer: str, forwarded_for: list[str], networks: list[Network]) -> str:
    """The client's address: `peer`, or the nearest untrusted hop a trusted `peer` reports."""
    if not _is_in(peer, networks):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_in(hop, networks):
            try:
                return str(ip_address(hop.strip("[]")))
            except ValueError:  # garbage where an address should be: the proxy is all we know
                return peer
    return hops[0] if hops else peer


class ClientAddress:
    """Sets the ASGI `client` to the real client's address when a trusted proxy forwards."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.networks = trusted_networks(settings.trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.networks and scope["type"] in ("http", "websocket") and scope.get("client"):
            peer, port = scope["client"]
            sent = [v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-for"]
            client = client_behind(peer, sent, self.networks)
            if client != peer:
                scope = {**scope, "client": (client, port)}
        await self.app(scope, receive, send)
