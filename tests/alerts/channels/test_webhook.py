"""Webhook addresses are pinned: resolved once, checked, and that very address connected to,
so a name that answers a public address to the check and a private one next (DNS
rebinding) never reaches the inside. The resolver stands in for DNS, which a test cannot
serve to the machine's resolver; the receiver is a real server on loopback."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.alerts import alert_settings
from tests.support.webhooks import Receiver
from townsquare.alerts.channels import Outgoing, SendError, webhook

CHECKED, INSIDE = "127.0.0.2", "127.0.0.1"
"""The address the check sees (taken as public here) and the receiver's, private one."""


@dataclass
class Dns:
    """Answers for every name, one per lookup (the last one repeated), and who asked."""

    answers: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)

    def resolve(self, host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        """getaddrinfo's shape."""
        self.asked.append(host)
        address = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> Dns:
    """The webhook sender's resolver, and CHECKED as the one public address."""
    scripted = Dns()
    monkeypatch.setattr(webhook, "RESOLVE", scripted.resolve)
    monkeypatch.setattr(webhook, "public", lambda a: a == ipaddress.ip_address(CHECKED))
    return scripted


def _send(receiver: Receiver, tmp_path: Path, host: str) -> None:
    port = urlsplit(receiver.url).port
    settings = alert_settings(tmp_path, webhook_allow_private=False, webhook_timeout_s=5.0)
    sender = webhook.WebhookSender(settings)
    try:
        sender.send(Outgoing(1, "webhook", {"url": f"http://{host}:{port}/hook"}, "s", {"a": 1}))
    finally:
        sender.close()


def test_a_rebinding_name_reaches_only_the_address_checked(
    dns: Dns, receiver: Receiver, tmp_path: Path
) -> None:
    dns.answers[:] = [CHECKED, INSIDE]  # public to the first lookup, the inside to any later one
    with pytest.raises(SendError, match=r"ConnectError|refused"):
        _send(receiver, tmp_path, "rebind.example")
    assert receiver.received == []
    assert dns.asked == ["rebind.example"]  # one lookup: the connection used its answer


def test_a_name_answering_a_private_address_is_refused_before_connecting(
    dns: Dns, receiver: Receiver, tmp_path: Path
) -> None:
    dns.answers[:] = [INSIDE]
    with pytest.raises(SendError, match="not a public address") as refused:
        _send(receiver, tmp_path, "inside.example")
    assert refused.value.permanent
    assert receiver.received == []


def test_the_pinned_connection_still_names_the_host(
    dns: Dns, receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhook, "public", lambda a: True)
    dns.answers[:] = [INSIDE]
    _send(receiver, tmp_path, "hooks.example")
    (got,) = receiver.received
    assert got.headers["Host"] == f"hooks.example:{urlsplit(receiver.url).port}"
    assert got.json() == {"a": 1}
