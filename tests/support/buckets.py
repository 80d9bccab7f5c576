"""A real S3-speaking server for the tests: s3rver from npm (node_modules/, `npm ci`)."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import free_port
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
S3RVER = ROOT / "node_modules" / ".bin" / "s3rver"
BUCKET = "townsquare-media"


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def s3_endpoint(tmp_path: Path) -> Iterator[str]:
    """s3rver on a free loopback port with an empty bucket BUCKET; yields its URL."""
    if not S3RVER.exists():
        pytest.fail("s3rver is missing: run `npm ci` (make install does)")
    port = free_port()
    data = tmp_path / "s3rver"
    data.mkdir()
    process = subprocess.Popen(
        [
            str(S3RVER),
            "-d",
            str(data),
            "-a",
            "127.0.0.1",
            "-p",
            str(port),
            "--silent",
            "--configure-bucket",
            BUCKET,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _listening(port), timeout=30, what="s3rver to listen")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
