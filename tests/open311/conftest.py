"""Fixtures of the Open311 tests."""

from tests.residents import app_client, mailbox, resident_settings

__all__ = ["app_client", "mailbox", "resident_settings"]
