"""The platform's one mail sender: account, footage, alert and weekly mail all leave here.

One place decides how a message goes (`smtp`, `console` or `null`, by its purpose) and how it
is dressed: From from the settings, and `Date` and `Message-ID` when the composer set none, so
no mail is a spam-filter suspect for a missing header. Certificates are always verified: both
STARTTLS and implicit TLS use `ssl.create_default_context()` (system CAs, host name checked),
or the operator's private CA file instead of the system's. An unverified upgrade would let
anyone on the path read password-reset links and residents' addresses.

The local demo's outbox: with `dev_outbox` on, `console` mail is printed whole in the log and
kept as files in DATA_DIR/outbox for the /dev/outbox page, so a resident of `make run` can open
the links. It works only where nobody else can read it: account mail on `console`, a plain
http site on a loopback address (`local_outbox`); anywhere else the setting does nothing.

`send` raises what smtplib and the socket raise (`smtplib.SMTPException`, `OSError`, which
includes `ssl.SSLCertVerificationError`); callers decide what a failure means for them (the
alert channel maps it to a retry or a dead letter).
"""

from __future__ import annotations

import logging
import secrets
import smtplib
import ssl
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from ipaddress import ip_address
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from townsquare.settings import Settings

log = logging.getLogger(__name__)
TIMEOUT_S = 10.0
SEND_ERRORS = (OSError, smtplib.SMTPException)
"""Everything `send` raises when a message could not be handed over."""

OUTBOX_KEEP = 100
"""Messages the local outbox keeps; older ones are deleted as new ones arrive."""

Purpose = Literal["account", "alert"]
"""`account`: verification, password reset and footage notices (TOWNSQUARE_ACCOUNT_MAIL);
`alert`: alerts and weekly digests (the `email` entry of TOWNSQUARE_ALERT_SENDERS)."""


def backend_of(settings: Settings, purpose: Purpose) -> str:
    """`smtp`, `console` or `null`: how mail of `purpose` goes under these settings."""
    if purpose == "account":
        return settings.account_mail
    return settings.alert_senders.get("email", "console")


def message_id(settings: Settings, idstring: str | None = None) -> str:
    """A Message-ID in the site's own domain (never the machine's host name)."""
    return make_msgid(idstring, domain=urlsplit(settings.site_url()).hostname or "localhost")


def plain(to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message to one address."""
    mail = EmailMessage()
    mail["To"] = to
    mail["Subject"] = subject
    mail.set_content(body)
    return mail


def prepare(settings: Settings, mail: EmailMessage) -> EmailMessage:
    """Set From from the settings, and Date and Message-ID unless the composer set them."""
    del mail["From"]
    mail["From"] = settings.smtp_from
    if mail["Date"] is None:
        mail["Date"] = formatdate(localtime=False, usegmt=True)
    if mail["Message-ID"] is None:
        mail["Message-ID"] = message_id(settings)
    return mail


def tls_context(settings: Settings) -> ssl.SSLContext:
    """A verifying TLS context: the system's CAs, or only the configured private CA file."""
    cafile = str(settings.smtp_ca_file) if settings.smtp_ca_file else None
    return ssl.create_default_context(cafile=cafile)


def _connect(settings: Settings) -> smtplib.SMTP:
    s = settings
    if s.smtp_implicit_tls:
        return smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=TIMEOUT_S, context=tls_context(s))
    client = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=TIMEOUT_S)
    if s.smtp_starttls:
        try:
            client.starttls(context=tls_context(s))
        except BaseException:
            client.close()
            raise
    return client


def deliver(settings: Settings, mail: EmailMessage) -> None:
    """Hand one prepared message to the configured SMTP server (one connection per message)."""
    with _connect(settings) as client:
        if settings.smtp_username and settings.smtp_password is not None:
            client.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        client.send_message(mail)


def send(settings: Settings, mail: EmailMessage, *, purpose: Purpose) -> None:
    """Send one message the way the settings say for `purpose`; raises one of SEND_ERRORS."""
    backend = backend_of(settings, purpose)
    if backend == "null":
        return
    prepare(settings, mail)
    if backend == "console":
        if local_outbox(settings):
            keep(settings, mail)
            log.info("mail (console, local outbox)\n%s", printed(mail))
            return
        # Bodies hold secrets (sign-in links) and alert subjects a watch area's name: only
        # account subjects, which are fixed sentences, are logged.
        extra = {"purpose": purpose, "message_id": mail["Message-ID"]}
        if purpose == "account":
            extra["subject"] = str(mail["Subject"])
        log.info(
            "mail (console): not sent, body withheld; a local demo shows it with "
            "TOWNSQUARE_DEV_OUTBOX=true (docs/configuration.md)",
            extra=extra,
        )
        return
    deliver(settings, mail)


# ---- the local demo's outbox ---------------------------------------------------------------


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def local_outbox(settings: Settings) -> bool:
    """True when console mail may be shown whole: `dev_outbox` on, account mail on `console`,
    and a plain-http site on a loopback address, where only this machine can reach it."""
    site = urlsplit(settings.site_url())
    return (
        settings.dev_outbox
        and settings.account_mail == "console"
        and site.scheme == "http"
        and _loopback(site.hostname or "")
        and _loopback(settings.host)
    )


def outbox_dir(settings: Settings) -> Path:
    """Where the local outbox keeps its messages."""
    return settings.data_dir / "outbox"


def printed(mail: EmailMessage) -> str:
    """A message as a person reads it: To, Subject and the plain-text body."""
    body = mail.get_body(("plain",))
    text = body.get_content() if isinstance(body, EmailMessage) else ""
    return f"To: {mail['To']}\nSubject: {mail['Subject']}\n\n{text}"


def keep(settings: Settings, mail: EmailMessage) -> None:
    """File a message in the local outbox, keeping the newest OUTBOX_KEEP."""
    folder = outbox_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    # Nanoseconds then a random tail: names sort by arrival, and two senders never collide.
    name = f"{time.time_ns():020d}-{secrets.token_hex(4)}.eml"
    (folder / name).write_bytes(mail.as_bytes(policy=policy.SMTP))
    existing = sorted(folder.glob("*.eml"))
    for old in existing[: max(0, len(existing) - OUTBOX_KEEP)]:
        old.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class Kept:
    """A message of the local outbox."""

    to: str
    subject: str
    date: str
    body: str


def kept(settings: Settings) -> list[Kept]:
    """The local outbox's messages, newest first."""
    found: list[Kept] = []
    for path in sorted(outbox_dir(settings).glob("*.eml"), reverse=True):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(("plain",))
        text = body.get_content() if isinstance(body, EmailMessage) else ""
        found.append(Kept(str(message["To"]), str(message["Subject"]), str(message["Date"]), text))
    return found
