"""The one way a test waits for something another thread or process does: poll a predicate."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    predicate: Callable[[], T], *, timeout: float = 15.0, what: str, interval: float = 0.05
) -> T:
    """Poll until `predicate()` is truthy and return that value.

    Fails the test with an AssertionError naming `what` it waited for and the last value seen
    once `timeout` seconds pass: a slow machine makes the test slower, never falsely green.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout}s for {what}; last seen: {value!r}")
        time.sleep(interval)
