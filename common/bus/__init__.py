"""The event bus: one small protocol (base.py), one module per backend.

bus = create_bus(settings)   # Kafka when SV_KAFKA_BOOTSTRAP is set, in-process otherwise
"""

from common.bus.base import BusMessage, EventBus, Handler
from common.settings import Settings


def create_bus(settings: Settings) -> EventBus:
    if settings.kafka_bootstrap:
        from common.bus.kafka import KafkaBus

        return KafkaBus(settings.kafka_bootstrap, prefix=settings.kafka_topic_prefix)
    from common.bus.inprocess import InProcessBus

    return InProcessBus()


__all__ = ["BusMessage", "EventBus", "Handler", "create_bus"]
