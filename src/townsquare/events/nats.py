"""The bus across nodes: NATS JetStream behind the same small interface as `MemoryBus`.

One stream holds every event (`<prefix>.<topic>`). `subscribe` is an ordered ephemeral
consumer per process starting at new messages (every node sees every event, in order);
`subscribe_shared(group)` is a durable pull consumer named after the group, so each event
is handled by one node of the group and acknowledged only after its handler returned
(`subscribe_shared_batch`: the same, one handler call per fetched batch).
Publishing waits for the stream's acknowledgement and carries `Nats-Msg-Id` from the
outbox id, so a relay that re-sends after a crash does not duplicate within the window.

nats-py is asyncio; the platform is mostly threads. The bus owns one event loop in a
daemon thread and hands every handler to a worker thread, so a slow handler never blocks
the connection's heartbeats.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig
from nats.js.errors import BadRequestError

from townsquare.events.bus import BatchHandler, Event, Handler

log = logging.getLogger(__name__)
T = TypeVar("T")
CONNECT_TIMEOUT_S = 10.0
REDELIVER_AFTER_S = 2.0
ACK_WAIT_S = 30.0
FETCH_BATCH = 64
FETCH_TIMEOUT_S = 1.0


class NatsBus:
    """JetStream-backed bus; `open()` connects and makes sure the stream exists."""

    def __init__(
        self, url: str, stream: str = "TOWNSQUARE", fetch_timeout_s: float = FETCH_TIMEOUT_S
    ) -> None:
        self.url = url
        self.fetch_timeout_s = fetch_timeout_s
        self.idle_fetches = 0
        """Fetches that found nothing to do: a quiet consumer counts up here, not in the log."""
        self.stream = stream
        self.prefix = stream.lower()
        self._loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False

    def _run(self, coro: Awaitable[T], timeout: float = CONNECT_TIMEOUT_S) -> T:
        async def wrapper() -> T:
            return await coro

        return asyncio.run_coroutine_threadsafe(wrapper(), self._loop).result(timeout)

    def open(self) -> None:
        """Start the loop thread, connect, and create or update the stream."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop.run_forever, name="nats-bus", daemon=True)
        self._thread.start()
        self._run(self._connect())

    async def _connect(self) -> None:
        self._nc = await nats.connect(
            self.url, name=f"townsquare-{self.prefix}", max_reconnect_attempts=-1
        )
        self._js = self._nc.jetstream()
        config = StreamConfig(name=self.stream, subjects=[f"{self.prefix}.>"])
        try:
            await self._js.add_stream(config)
        except BadRequestError:  # exists with other settings: keep its data, adopt ours
            await self._js.update_stream(config)

    def close(self) -> None:
        """Stop consumers, close the connection and stop the loop thread."""
        if self._thread is None:
            return
        self._closing = True
        try:
            self._run(self._shutdown())
        except Exception:
            log.exception("closing the NATS connection failed")
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._thread = None
        if not self._loop.is_running():
            self._loop.close()

    async def _shutdown(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._nc is not None:
            # close, not drain: unacknowledged events are redelivered to another node anyway
            await self._nc.close()

    def _jetstream(self) -> JetStreamContext:
        if self._js is None:
            raise RuntimeError("NatsBus used before open()")
        return self._js

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        """Publish and wait for JetStream's acknowledgement (so the relay may mark it sent)."""
        self.publish_batch([(topic, payload)])

    def publish_batch(self, events: Sequence[Event]) -> None:
        """Publish in order, each acknowledged before the next; one hop to the loop in all."""
        if not events:
            return
        js = self._jetstream()

        async def send_all() -> None:
            for topic, payload in events:
                event_id = payload.get("event_id")
                msg_id = None if event_id is None else {"Nats-Msg-Id": f"{self.stream}-{event_id}"}
                body = json.dumps({"topic": topic, "payload": payload}).encode()
                await js.publish(f"{self.prefix}.{topic}", body, headers=msg_id)

        self._run(send_all(), timeout=CONNECT_TIMEOUT_S * max(1, len(events) // 100))

    def subscribe(self, handler: Handler) -> None:
        """Every event from now on, in stream order, in this process."""

        async def on_message(msg: Msg) -> None:
            try:
                await _call(handler, msg)
            except Exception:
                log.exception("event handler failed", extra={"topic": msg.subject})

        self._run(
            self._jetstream().subscribe(
                f"{self.prefix}.>",
                cb=on_message,
                ordered_consumer=True,
                deliver_policy=DeliverPolicy.NEW,
            )
        )

    def subscribe_shared(self, group: str, handler: Handler) -> None:
        """Each event to one member of `group`; acknowledged after the handler succeeds."""

        async def handle(messages: list[Msg]) -> None:
            for msg in messages:
                try:
                    await _call(handler, msg)
                except Exception:
                    log.exception("shared handler failed; redelivering")
                    await msg.nak(delay=REDELIVER_AFTER_S)
                else:
                    await msg.ack()

        self._consume(group, handle)

    def subscribe_shared_batch(self, group: str, handler: BatchHandler) -> None:
        """Each fetched batch to one member of `group` in one call; all acknowledged after it."""

        async def handle(messages: list[Msg]) -> None:
            events = [_event(msg) for msg in messages]
            try:
                await asyncio.to_thread(handler, events)
            except Exception:
                log.exception("shared batch handler failed; redelivering")
                await asyncio.gather(*(m.nak(delay=REDELIVER_AFTER_S) for m in messages))
            else:
                await asyncio.gather(*(m.ack() for m in messages))

        self._consume(group, handle)

    def _consume(self, group: str, handle: Callable[[list[Msg]], Awaitable[None]]) -> None:
        """A durable pull consumer for `group`, its fetched batches given to `handle`."""
        config = ConsumerConfig(
            durable_name=group,
            deliver_policy=DeliverPolicy.NEW,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=ACK_WAIT_S,
        )
        pull = self._run(
            self._jetstream().pull_subscribe(f"{self.prefix}.>", durable=group, config=config)
        )

        async def consume() -> None:
            while not self._closing:
                try:
                    messages = await pull.fetch(batch=FETCH_BATCH, timeout=self.fetch_timeout_s)
                except TimeoutError:
                    # An idle consumer's normal answer. nats-py raises its own TimeoutError or,
                    # when the deadline runs out between its two pull requests, a plain
                    # asyncio.TimeoutError (the built-in TimeoutError): both mean "nothing yet".
                    self.idle_fetches += 1
                    continue
                except Exception:
                    if self._closing:
                        return
                    log.exception("fetching from NATS failed; retrying")
                    await asyncio.sleep(1.0)
                    continue
                await handle(messages)

        async def start() -> None:
            self._tasks.append(asyncio.create_task(consume()))

        self._run(start())


def _event(msg: Msg) -> Event:
    envelope = json.loads(msg.data)
    return str(envelope["topic"]), dict(envelope["payload"])


async def _call(handler: Handler, msg: Msg) -> None:
    topic, payload = _event(msg)
    await asyncio.to_thread(handler, topic, payload)
