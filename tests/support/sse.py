"""A small Server-Sent Events reader over httpx, for tests."""

from __future__ import annotations

import contextlib
import json
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Event:
    """One received event."""

    id: str | None
    name: str
    data: str

    def json(self) -> Any:
        """The data as JSON."""
        return json.loads(self.data)


class Stream:
    """Events of one open stream, read by a thread into a queue."""

    def __init__(self) -> None:
        self.events: queue.Queue[Event] = queue.Queue()
        self.headers = httpx.Headers()
        """The response's headers."""

    def next(self, name: str | None = None, timeout: float = 15.0) -> Event:
        """The next event (named `name`, skipping others); fails after `timeout` of silence."""
        while True:
            try:
                event = self.events.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no {name or 'event'} within {timeout}s") from None
            if name is None or event.name == name:
                return event

    def quiet(self, seconds: float) -> list[Event]:
        """Every event that arrives within `seconds` (to show that nothing does)."""
        found = []
        try:
            while True:
                found.append(self.events.get(timeout=seconds))
        except queue.Empty:
            return found


def _parse(lines: Iterator[str], stream: Stream) -> None:
    event_id: str | None = None
    name, data = "message", []
    for line in lines:
        if line == "":
            if data:
                stream.events.put(Event(event_id, name, "\n".join(data)))
            name, data = "message", []
            continue
        if line.startswith(":"):
            continue
        key, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if key == "id":
            event_id = value
        elif key == "event":
            name = value
        elif key == "data":
            data.append(value)


@contextmanager
def open_stream(url: str, headers: dict[str, str] | None = None) -> Iterator[Stream]:
    """Connect and read in the background until the block ends."""
    stream = Stream()
    client = httpx.Client(timeout=httpx.Timeout(5.0, read=None))
    response = client.send(client.build_request("GET", url, headers=headers), stream=True)
    if response.status_code != 200:
        response.read()
        client.close()
        raise AssertionError(f"stream answered {response.status_code}: {response.text}")
    stream.headers = response.headers

    def read() -> None:
        with contextlib.suppress(httpx.HTTPError, RuntimeError):  # closed by the test
            _parse(response.iter_lines(), stream)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    try:
        yield stream
    finally:
        response.close()
        client.close()
        thread.join(timeout=1)
