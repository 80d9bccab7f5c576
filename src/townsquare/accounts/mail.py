"""Account e-mail (verification and reset links): SMTP, a log line, or nothing."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from townsquare.settings import Settings

log = logging.getLogger(__name__)


def send(settings: Settings, to: str, subject: str, body: str) -> None:
    """Send one message the way `TOWNSQUARE_ACCOUNT_MAIL` says."""
    if settings.account_mail == "null":
        return
    if settings.account_mail == "console":
        # The link is a secret: only its subject is logged, never the body.
        log.info("account mail (console)", extra={"subject": subject})
        return
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_username, password)
        smtp.send_message(message)
