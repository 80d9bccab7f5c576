"""E-mail alerts through the platform's one mail sender, its failures mapped to retries.

The `email` channel kind: an address, confirmed by the double opt-in of `alerts.optin`
before anything else is sent to it (see docs/alerts.md).
"""

from __future__ import annotations

import re
import smtplib
from datetime import datetime
from email.message import EmailMessage
from typing import ClassVar

from pydantic import BaseModel, Field, field_validator

from townsquare import mail as outbound
from townsquare.alerts.channels import Outgoing, Sender, SendError, Stored
from townsquare.alerts.links import add_unsubscribe_headers, unsubscribe_url
from townsquare.alerts.render import headline, language_of, plain_text
from townsquare.i18n import speaking
from townsquare.settings import Settings

PERMANENT_SMTP = range(500, 600)
EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


class EmailTarget(BaseModel):
    """Alerts by e-mail."""

    address: str = Field(max_length=254)

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("type the e-mail address the alerts should go to")
        if not EMAIL.match(value.strip()):
            raise ValueError("this is not an e-mail address (it looks like name@example.org)")
        return value


class EmailChannel:
    """E-mail: unconfirmed until the address follows its link; sent by SMTP."""

    kind: ClassVar[str] = "email"
    label: ClassVar[str] = "e-mail"
    position: ClassVar[int] = 20
    form_field: ClassVar[str | None] = "address"
    Target: ClassVar[type[EmailTarget]] = EmailTarget
    sender_name: ClassVar[str] = "smtp"
    default_backend: ClassVar[str] = "console"  # until the operator configures SMTP
    duplicate_error: ClassVar[str | None] = None

    def store(self, target: EmailTarget, now: datetime) -> Stored:
        """The address, unconfirmed: `alerts.optin` mails the link."""
        return Stored({"address": target.address}, confirmed=False)

    def sender(self, settings: Settings) -> Sender:
        """SMTP with the platform's mail settings."""
        return SmtpSender(settings)


class SmtpSender:
    """Sends a plain-text message through the configured SMTP server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, message: Outgoing) -> None:
        """Send one e-mail; 5xx answers are permanent, the rest is retried."""
        s = self.settings
        mail = EmailMessage()
        mail["From"] = s.smtp_from
        mail["To"] = message.target["address"]
        with speaking(language_of(message.body)):
            subject = headline(message.body)
        mail["Subject"] = subject
        mail["Message-ID"] = outbound.message_id(s, f"delivery-{message.delivery_id}")
        mail["X-Townsquare-Delivery"] = str(message.delivery_id)
        leave = None
        if message.channel_id is not None:  # one click, from the link alone (RFC 8058)
            leave = unsubscribe_url(s, message.channel_id, str(message.target["address"]))
            add_unsubscribe_headers(mail, leave)
        with speaking(language_of(message.body)):
            mail.set_content(plain_text(message.body, leave))
        send_mail(self.settings, mail)


def send_mail(settings: Settings, mail: EmailMessage) -> None:
    """Send one alert or digest mail; SendError says if retrying can help."""
    try:
        outbound.send(settings, mail, purpose="alert")
    except smtplib.SMTPRecipientsRefused as exc:
        raise SendError(f"recipient refused: {exc.recipients}", permanent=True) from exc
    except smtplib.SMTPResponseException as exc:
        permanent = exc.smtp_code in PERMANENT_SMTP
        raise SendError(f"SMTP {exc.smtp_code}", permanent=permanent) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"SMTP: {type(exc).__name__}: {exc}") from exc
