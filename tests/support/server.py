"""A real HTTP server (uvicorn) running the app in a thread, as `townsquare serve` runs it.

For event streams, several nodes and the browser tests: the app is served on a free loopback
port, its lifespan run, and stopped when the block ends.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
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


@contextmanager
def nodes(env: dict[str, str], logs: list[Path]) -> Iterator[list[str]]:
    """`townsquare serve` processes, one per log, started together; yields their base URLs
    once every one is ready, and stops them when the block ends."""
    started: list[tuple[subprocess.Popen[bytes], str, Path]] = []
    try:
        for log in logs:
            port = free_port()
            with log.open("w") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", "townsquare.cli", "serve", "--port", str(port)],
                    env={**os.environ, **env},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            started.append((process, f"http://127.0.0.1:{port}", log))
        for process, base, log in started:

            def ready(
                process: subprocess.Popen[bytes] = process, base: str = base, log: Path = log
            ) -> bool:
                if process.poll() is not None:
                    raise AssertionError(f"node exited: {log.read_text()[-2000:]}")
                try:
                    return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
                except httpx.HTTPError:
                    return False

            wait_for(ready, timeout=90, what=f"node {base} to be ready")
        yield [base for _, base, _ in started]
    finally:
        for process, _, _ in started:
            process.terminate()
        for process, _, _ in started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
