"""The in-process bus: unsubscribe stops a group's deliveries; the topic list has a DLQ per topic
and every topic the code names."""

from __future__ import annotations

import asyncio
import re

from common.bus import BusMessage
from common.bus.inprocess import InProcessBus
from common.bus.topics import MAIN_TOPICS, all_topics
from common.settings import REPO_ROOT, Settings


async def test_unsubscribed_group_gets_nothing_more_and_others_keep_theirs():
    bus = InProcessBus()
    got: dict[str, list[bytes]] = {"a": [], "b": []}

    def collect(name):
        async def handle(batch):
            got[name].extend(m.value for m in batch)

        return handle

    bus.subscribe("t", "a", collect("a"))
    await bus.start()
    bus.subscribe("t", "b", collect("b"))  # after start: delivered too
    await bus.publish("t", [BusMessage(b"k", b"1")])
    await bus.drain()
    bus.unsubscribe("t", "a")
    await bus.publish("t", [BusMessage(b"k", b"2")])
    await bus.drain()
    await asyncio.sleep(0)
    assert got == {"a": [b"1"], "b": [b"1", b"2"]}
    await bus.aclose()


def test_every_topic_has_a_dead_letter_topic_and_the_prefix_and_override_apply():
    names = {t.name: t.partitions for t in all_topics(Settings(kafka_topic_prefix="x.", kafka_partitions=0))}
    for topic in MAIN_TOPICS:
        assert names[f"x.{topic.name}"] == topic.partitions
        assert f"x.{topic.name}.dlq" in names
    assert names["x.analytics.events"] == 12
    small = all_topics(Settings(kafka_partitions=2))
    assert {t.partitions for t in small} == {2}


def test_every_topic_the_code_names_is_created_and_the_erasure_topic_keeps_what_tombstones_keep():
    """With topic auto-creation off (docs/operations.md), a topic missing from the list has no
    partitions: its messages go nowhere."""
    named = set()
    for package in ("analytics_svc", "reco_svc", "feedback_svc", "common", "gateway"):
        for path in (REPO_ROOT / package).rglob("*.py"):
            named |= set(re.findall(r'^[A-Z_]*TOPIC = "([a-z.]+)"$', path.read_text(), re.M))
    assert "privacy.erasure" in named and len(named) >= 6
    assert named <= {t.name for t in MAIN_TOPICS}
    topics = {t.name: t for t in all_topics(Settings(kafka_topic_prefix=""))}
    assert topics["privacy.erasure"].tombstone_retention and "privacy.erasure.dlq" in topics
    assert not topics["analytics.events"].tombstone_retention
