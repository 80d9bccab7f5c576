"""The NATS server (JetStream) the bus tests share, the cleanup of their streams, their state."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

T = TypeVar("T")


def run_apart(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end on an event loop of its own, in a thread of its own.

    The browser tests' Playwright driver keeps a loop running in the main thread for the whole
    session, and asyncio.run refuses to start beside it.
    """
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()


NATS_ENV = "TOWNSQUARE_TEST_NATS_URL"


@pytest.fixture(scope="session")
def nats_url() -> str:
    """The NATS server (JetStream) the tests may use, or a skip that says why there is none."""
    import os
    import socket
    from urllib.parse import urlsplit

    url = os.environ.get(NATS_ENV, "nats://127.0.0.1:4222")
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), 2).close()
    except OSError as exc:
        pytest.skip(f"NATS at {url} unreachable ({exc}); .ci/run starts one ({NATS_ENV})")
    return url


def delete_stream(nats_url: str, name: str) -> None:
    """Remove a test's JetStream stream from the shared server."""
    import nats  # here, not at the top: most runs never load the NATS client

    async def run() -> None:
        connection = await nats.connect(nats_url)
        try:
            await connection.jetstream().delete_stream(name)
        finally:
            await connection.close()

    run_apart(run())


def drained(nats_url: str, stream: str) -> bool:
    """Whether every consumer of `stream` was handed, and acknowledged, every event in it.

    A shared (durable) consumer acknowledges an event once its handler is done, so a drained
    stream means every node finished with every event published so far.
    """
    import nats

    async def run() -> bool:
        connection = await nats.connect(nats_url)
        try:
            consumers = await connection.jetstream().consumers_info(stream)
        finally:
            await connection.close()
        return all(c.num_pending == 0 and c.num_ack_pending == 0 for c in consumers)

    return run_apart(run())
