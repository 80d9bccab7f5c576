"""Fixtures of the ingestion tests: the whole app with accounts, for the sources API."""

from tests.residents import app_client, mailbox, resident_settings

__all__ = ["app_client", "mailbox", "resident_settings"]
