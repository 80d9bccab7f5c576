"""The one mail sender: certificates really verified, and every mail dated and identified.

Real local SMTP servers (aiosmtpd): one speaking STARTTLS and one implicit TLS, each with a
self-signed certificate made here, so the only thing standing between the sender and the
server is certificate verification. Then every kind of mail the platform sends, through its
own flow, arrives with Date and Message-ID.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.support.alerts import HOME as ALERT_HOME
from tests.support.alerts import add_incident
from tests.support.footage import INSIDE, camera_owner, make_agency, officer, request_body
from tests.support.residents import Mailbox, app_with, sign_up
from tests.support.weekly import END, HOME, plant_history
from tests.support.weekly import subscribe as subscribe_weekly
from townsquare import mail
from townsquare.alerts import delivery
from townsquare.alerts.channels import SendError, build_senders
from townsquare.alerts.channels.smtp import send_mail
from townsquare.db import utcnow
from townsquare.platform import Platform
from townsquare.settings import Settings
from townsquare.weekly.digest import send_weekly

SITE = "http://town.example"  # http: the test client sends no Secure cookie


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key: (certificate, key) PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = utcnow()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp.crt", folder / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def free_port() -> int:
    """A loopback port nothing listens on (aiosmtpd checks its own port, so not 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(params=["starttls", "implicit"])
def tls_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A real SMTP server on loopback with a self-signed certificate, and settings to reach it."""
    cert, key = self_signed(tmp_path)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    box, port = Mailbox(), free_port()
    if request.param == "starttls":
        controller = Controller(
            box, hostname="127.0.0.1", port=port, tls_context=server_tls, require_starttls=True
        )
        mode = {"smtp_starttls": True}
    else:
        controller = Controller(box, hostname="127.0.0.1", port=port, ssl_context=server_tls)
        mode = {"smtp_implicit_tls": True}
    controller.start()
    try:
        yield {
            "box": box,
            "cert": cert,
            "settings": Settings(
                data_dir=tmp_path,
                public_url=SITE,
                account_mail="smtp",
                alert_senders={"email": "smtp"},
                smtp_host="127.0.0.1",
                smtp_port=port,
                smtp_from="town@town.example",
                **mode,
            ),
        }
    finally:
        controller.stop()


def test_a_server_whose_certificate_does_not_verify_gets_no_mail(
    tls_server: dict[str, Any],
) -> None:
    settings: Settings = tls_server["settings"]
    box: Mailbox = tls_server["box"]
    with pytest.raises(ssl.SSLCertVerificationError):
        mail.send(settings, mail.plain("ada@example.org", "Hi", "A reset link"), purpose="account")
    # The alert channel counts it as a failure worth retrying, saying why.
    with pytest.raises(SendError) as failed:
        send_mail(settings, mail.plain("ada@example.org", "Alert", "An alert"))
    assert "certificate verify failed" in failed.value.detail
    assert not failed.value.permanent
    assert box.messages == []


def test_the_same_server_is_trusted_through_the_configured_ca_file(
    tls_server: dict[str, Any],
) -> None:
    """The refusal above is certificate verification and nothing else: trust the CA, it works."""
    settings = tls_server["settings"].model_copy(update={"smtp_ca_file": tls_server["cert"]})
    box: Mailbox = tls_server["box"]
    mail.send(settings, mail.plain("ada@example.org", "Hi", "A reset link"), purpose="account")
    [(sender, recipients, raw)] = box.messages
    assert (sender, recipients) == ("town@town.example", ["ada@example.org"])
    received = message_from_bytes(raw, policy=policy.default)
    assert received["From"] == "town@town.example"
    assert received["Message-ID"].endswith("@town.example>")
    assert parsedate_to_datetime(received["Date"]).utcoffset() == timedelta(0)


def test_both_tls_modes_at_once_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="not both"):
        Settings(smtp_starttls=True, smtp_implicit_tls=True)


def test_console_and_null_send_nothing_and_log_no_secret(
    tls_server: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    settings = tls_server["settings"].model_copy(update={"account_mail": "console"})
    mail.send(settings, mail.plain("ada@example.org", "Reset", "secret-token"), purpose="account")
    nothing = settings.model_copy(update={"alert_senders": {"email": "null"}})
    mail.send(nothing, mail.plain("ada@example.org", "Alert", "An alert"), purpose="alert")
    assert tls_server["box"].messages == []
    logged = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    assert "mail (console)" in logged
    assert "secret-token" not in logged
    assert "ada@example.org" not in logged


def _parsed(box: Mailbox) -> dict[str, list[EmailMessage]]:
    """Every message the server got, by recipient."""
    found: dict[str, list[EmailMessage]] = {}
    with box.lock:
        for _, recipients, raw in box.messages:
            message = message_from_bytes(raw, policy=policy.default)
            assert isinstance(message, EmailMessage)
            for address in recipients:
                found.setdefault(address, []).append(message)
    return found


def test_every_kind_of_mail_is_dated_and_identified(
    engine: Engine,
    factory: sessionmaker[Session],
    resident_settings: Settings,
    mailbox: tuple[Mailbox, int],
) -> None:
    """Account verification, footage notice, alert and weekly digest, each by its own flow."""
    box, _ = mailbox
    settings = resident_settings.model_copy(
        update={"public_url": SITE, "alert_senders": {"email": "smtp"}}
    )
    with app_with(settings, engine, factory) as client:
        sign_up(client, box, "verify@example.org")
        _footage_notice(client, box, factory)
    platform = Platform(settings, engine, factory)
    platform.start()
    # Confirmed, as an e-mail watch area must be before it is sent anything.
    subscribe_weekly(factory, ALERT_HOME, [{"kind": "email", "address": "alert@example.org"}])
    platform.relay_once()
    add_incident(factory)
    platform.relay_once()
    delivery.deliver_due(factory, build_senders(settings), settings=settings, now=utcnow())
    plant_history(factory)
    subscribe_weekly(factory, HOME, [{"kind": "email", "address": "weekly@example.org"}])
    # Both e-mail channels get the week, the alert subscriber's too.
    assert send_weekly(factory, settings, end=END, now=utcnow()).sent == 2

    mails = _parsed(box)
    kinds = {
        "verify@example.org": "Confirm your Townsquare address",
        "near@example.org": "An agency asks for camera footage near you",
        "alert@example.org": "Alert: ",
        "weekly@example.org": "This week in ",
    }
    for address, subject in kinds.items():
        assert any(m["Subject"].startswith(subject) for m in mails.get(address, [])), address
    ids = [m["Message-ID"] for found in mails.values() for m in found]
    assert len(ids) == len(set(ids)), "two mails share a Message-ID"
    for found in mails.values():
        for message in found:
            assert message["Date"], message["Subject"]
            assert message["Message-ID"], message["Subject"]
            assert message["Message-ID"].endswith("@town.example>"), message["Subject"]
            assert parsedate_to_datetime(message["Date"]).tzinfo is not None, message["Subject"]
            assert message["From"] == settings.smtp_from


def _footage_notice(client: TestClient, box: Mailbox, factory: sessionmaker[Session]) -> None:
    """A verified agency files a request; a resident with a camera in the area is mailed."""
    make_agency(factory, "seattle-police")
    camera_owner(client, box, "near@example.org", INSIDE)
    cop = officer(client, box, factory, "cop@spd.example", "seattle-police")
    filed = cop.post("/api/v1/footage/requests", json=request_body(utcnow()))
    assert filed.status_code == 201, filed.text
    assert filed.json()["residents_notified"] == 1
