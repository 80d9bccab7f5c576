"""A real HTTP server (uvicorn) running the app in a thread, as `townsquare serve` runs it.

For event streams, several nodes and the browser tests: the app is served on a free loopback
port, its lifespan run, and stopped when the block ends.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from tests.support.waiting import wait_for
from townsquare.app import create_app
from townsquare.platform import Platform
from townsquare.settings import Settings

START_TIMEOUT_S = 30.0


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _serve(app_for: Callable[[str], FastAPI]) -> Iterator[str]:
    """Serve `app_for(site)` on a free loopback port; yields the site's URL."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        site = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(
            app_for(site),
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        wait_for(
            lambda: server.started or not thread.is_alive(),
            timeout=START_TIMEOUT_S,
            what="the test server to start",
        )
        assert server.started, "the test server stopped before it started"
        try:
            yield site
        finally:
            server.should_exit = True
            thread.join(timeout=15)


@contextmanager
def running(platform: Platform) -> Iterator[str]:
    """Serve `platform`; yields the base URL."""
    with _serve(lambda site: create_app(platform=platform)) as site:
        yield site


@contextmanager
def serving(settings_for: Callable[[str], Settings]) -> Iterator[str]:
    """Serve `create_app` under `settings_for(site)`; yields the site.

    `settings_for` gets the site's own URL (some settings, such as mailed links, name it).
    """
    with _serve(lambda site: create_app(settings_for(site))) as site:
        yield site
