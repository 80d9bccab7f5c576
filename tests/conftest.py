"""The suite's settings and its shared fixtures, which live in tests/support.

Fixtures every folder may use are defined in the support modules registered below; a folder's
conftest holds only fixtures of its own.
"""

from __future__ import annotations

import os

import pytest

pytest.register_assert_rewrite("tests.support")

# The server's own housekeeping would act on each test's store at its own hour (retention on
# old sample records, a Monday digest to the test mailboxes); tests that need it turn it on.
os.environ.setdefault("TOWNSQUARE_RETENTION_INTERVAL_S", "0")
os.environ.setdefault("TOWNSQUARE_WEEKLY_DIGEST_DAY", "off")
# Tests sign many people up from one address; tests of the hourly limits set their own.
for limit in ("SIGNUP_PER_HOUR", "PASSWORD_RESET_PER_HOUR", "ANONYMOUS_WRITES_PER_HOUR"):
    os.environ.setdefault(f"TOWNSQUARE_{limit}", "100000")

pytest_plugins = [
    "tests.support.store",
    "tests.support.residents",
    "tests.support.webhooks",
    "tests.support.broker",
    "tests.support.alerts",
    "tests.support.desk",
    "tests.support.clips",
    "tests.support.places",
    "tests.support.buckets",
]
