"""E-mail alerts over SMTP (stdlib smtplib; one connection per message)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from townsquare.alerts.channels import Outgoing, SendError
from townsquare.alerts.render import headline, plain_text
from townsquare.settings import Settings

PERMANENT_SMTP = range(500, 600)


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
        mail["Subject"] = headline(message.body)
        mail["Message-ID"] = make_msgid(f"delivery-{message.delivery_id}")
        mail["X-Townsquare-Delivery"] = str(message.delivery_id)
        mail.set_content(plain_text(message.body))
        send_mail(self.settings, mail)


def send_mail(settings: Settings, mail: EmailMessage) -> None:
    """Hand one message to the configured SMTP server; SendError says if retrying can help."""
    s = settings
    try:
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=10) as client:
            if s.smtp_starttls:
                client.starttls(context=ssl.create_default_context())
            if s.smtp_username and s.smtp_password is not None:
                client.login(s.smtp_username, s.smtp_password.get_secret_value())
            client.send_message(mail)
    except smtplib.SMTPRecipientsRefused as exc:
        raise SendError(f"recipient refused: {exc.recipients}", permanent=True) from exc
    except smtplib.SMTPResponseException as exc:
        permanent = exc.smtp_code in PERMANENT_SMTP
        raise SendError(f"SMTP {exc.smtp_code}", permanent=permanent) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"SMTP: {type(exc).__name__}: {exc}") from exc
