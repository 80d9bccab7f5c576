"""Throughput of an HTTP server at many keep-alive connections, and a raw ASGI baseline.

The load generator speaks HTTP/1.1 on raw asyncio streams (no client library), so on a
small machine it takes as little CPU as it can from the server it measures; `wrk`, when
installed, measures the same beside it with still less. `raw_app` is the
floor a Python server can reach: a bare ASGI app on the same uvicorn answering fixed JSON.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any


async def _one_connection(
    port: int, paths: Sequence[str], stop_at: float, offset: int, counts: list[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = offset
    try:
        while time.perf_counter() < stop_at:
            path = paths[i % len(paths)]
            i += 1
            writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            counts[0 if status == 200 else 1] += 1
    finally:
        writer.close()


async def _load(port: int, paths: Sequence[str], connections: int, seconds: float) -> list[int]:
    counts = [0, 0]
    stop_at = time.perf_counter() + seconds
    await asyncio.gather(
        *(_one_connection(port, paths, stop_at, c * 7, counts) for c in range(connections))
    )
    return counts


def throughput(
    port: int, paths: Sequence[str], connections: int = 64, seconds: float = 5.0
) -> float:
    """Requests per second answered 200 over `seconds` at `connections` (errors raise)."""
    start = time.perf_counter()
    ok, bad = asyncio.run(_load(port, paths, connections, seconds))
    if bad:
        raise RuntimeError(f"{bad} answers were not 200")
    return ok / (time.perf_counter() - start)


_BODY = b'{"status":"ok"}'
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"15")]


async def raw_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The fastest answer a Python ASGI app gives: fixed JSON, no framework."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})


_WRK_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("FEED_PATHS")) do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
"""


def wrk_throughput(
    port: int, paths: Sequence[str], connections: int = 64, seconds: float = 5.0
) -> float | None:
    """Requests per second `wrk` (a C load generator, if installed) measures on one thread:
    the Python generator above shares the 2 cores with the server it measures."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        script, listed = Path(folder) / "paths.lua", Path(folder) / "paths.txt"
        script.write_text(_WRK_SCRIPT)
        listed.write_text("\n".join(paths))
        command = [wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
        command += ["-s", str(script), f"http://127.0.0.1:{port}/"]
        env = {**os.environ, "FEED_PATHS": str(listed)}
        out = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"answers were not 200: {out}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(rate.group(1)) if rate else None
