"""Reads Avro change events with Confluent's Python client, as a consumer of
sluice's topics would: confluent_kafka's Consumer, SchemaRegistryClient and
AvroDeserializer against sluice's embedded registry.

Usage: avro_consumer.py BOOTSTRAP REGISTRY_URL TOPIC COUNT TIMEOUT_S
Prints one JSON object per record: {"key": ..., "value": ..., "partition": N}.
"""

import json
import sys
import time
from decimal import Decimal

from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext


def plain(v):
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


def main():
    bootstrap, registry, topic, count, timeout = sys.argv[1:6]
    count, timeout = int(count), float(timeout)
    client = SchemaRegistryClient({"url": registry})
    deserialize = AvroDeserializer(client)
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "avro-check-%d" % time.time_ns(),
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    seen = 0
    deadline = time.time() + timeout
    while seen < count and time.time() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            raise SystemExit("consumer error: %s" % msg.error())
        key = deserialize(msg.key(), SerializationContext(topic, MessageField.KEY))
        value = deserialize(msg.value(), SerializationContext(topic, MessageField.VALUE))
        print(json.dumps({"key": plain(key), "value": plain(value), "partition": msg.partition()}))
        sys.stdout.flush()
        seen += 1
    consumer.close()


if __name__ == "__main__":
    main()
