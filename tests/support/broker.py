"""The NATS server (JetStream) the bus tests share, the cleanup of their streams, their state."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
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


NATS_SERVER = "/usr/sbin/nats-server"


class OwnNats:
    """A nats-server of the test's own, with JetStream storing in `folder`, on a free port:
    the test may kill it and start it again (same port, same store) without touching the
    machine's shared NATS."""

    def __init__(self, folder: Path) -> None:
        from tests.support.server import free_port

        self.folder = folder
        self.port = free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        """Start the server and wait until it takes connections."""
        import socket

        from tests.support.waiting import wait_for

        self.starts += 1
        command = [NATS_SERVER, "-js", "-sd", str(self.folder / "js"), "-a", "127.0.0.1"]
        with (self.folder / f"nats-{self.starts}.log").open("wb") as log:
            self.process = subprocess.Popen(
                [*command, "-p", str(self.port)], stdout=log, stderr=subprocess.STDOUT
            )

        def listening() -> bool:
            assert self.process is not None
            assert self.process.poll() is None, "nats-server exited"
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
            except OSError:
                return False
            return True

        wait_for(listening, what="the test's own nats-server to listen")

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as an outage would."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[OwnNats]:
    """A started nats-server of this test's own; killed at the end."""
    if not Path(NATS_SERVER).exists():
        pytest.skip(f"{NATS_SERVER} is not installed")
    server = OwnNats(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()
