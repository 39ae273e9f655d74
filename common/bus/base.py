"""What every event bus backend offers.

    bus = InProcessBus()                       # or KafkaBus("127.0.0.1:9092")
    bus.subscribe("analytics.events", "reco", handle_batch)
    await bus.start()
    await bus.publish("analytics.events", [BusMessage(key=b"user-1", value=payload)])
    await bus.aclose()

`publish` returns once the backend holds the messages durably (Kafka: acks=all
with the idempotent producer; in process: handed to every subscribed group's
queue). Handlers get batches and may be called again with the same messages
(at-least-once), so they must be idempotent. A handler that keeps failing sends
the message to `<topic>.dlq` (Kafka) instead of blocking its partition.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class BusMessage:
    key: bytes | None
    value: bytes
    headers: dict[str, bytes] = field(default_factory=dict)
    topic: str = ""


Handler = Callable[[list[BusMessage]], Awaitable[None]]


class EventBus(Protocol):
    async def publish(self, topic: str, messages: Sequence[BusMessage]) -> None: ...

    # from_end: a new group starts at the end of the topic instead of its beginning (groups
    # of one replica that only need what happens from now on). In process: no effect.
    def subscribe(self, topic: str, group: str, handler: Handler, from_end: bool = False) -> None: ...

    def unsubscribe(self, topic: str, group: str) -> None: ...

    # Whether a message published now on the topic can reach anyone: always for Kafka (the
    # topic keeps it); in process, only while a group follows it. Publishers may skip
    # building messages nobody will get.
    def wants(self, topic: str) -> bool: ...

    async def start(self) -> None: ...

    async def aclose(self) -> None: ...
