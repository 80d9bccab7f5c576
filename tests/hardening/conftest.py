"""Fixtures of the hardening tests: the whole app with a real SMTP server."""

from tests.residents import app_client, mailbox, resident_settings

__all__ = ["app_client", "mailbox", "resident_settings"]
