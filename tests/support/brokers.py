"""Reaching the real message brokers the Celery tests use; skip on a laptop without them, fail under CI."""

from __future__ import annotations

import os

from tests.support.services import unavailable

REDIS_URL = os.environ.get("PRIVET_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RABBITMQ_URL = os.environ.get("PRIVET_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")


def redis_broker() -> str:
    """The Redis broker URL once Redis answers a PING."""
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
        client.ping()
        client.close()
    except Exception as exc:  # noqa: BLE001 - any client error means "not reachable"
        unavailable("Redis", exc)
    return REDIS_URL


def rabbitmq_broker() -> str:
    """The RabbitMQ broker URL once a connection opens."""
    try:
        from kombu import Connection

        with Connection(RABBITMQ_URL, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:  # noqa: BLE001
        unavailable("RabbitMQ", exc)
    return RABBITMQ_URL


def broker(kind: str) -> str:
    """`redis` or `rabbitmq` → its URL (or skip/fail as above)."""
    return {"redis": redis_broker, "rabbitmq": rabbitmq_broker}[kind]()


def queue_length(url: str, queue: str) -> int:
    """Messages waiting in `queue` on the broker at `url` (ready ones; not those a worker holds)."""
    from kombu import Connection

    with Connection(url) as conn:
        channel = conn.default_channel
        try:
            return channel.queue_declare(queue=queue, passive=True).message_count
        except Exception:  # noqa: BLE001 - a queue nobody declared yet holds nothing
            return 0


def purge_queue(url: str, queue: str) -> None:
    """Drop a test queue and its messages."""
    from kombu import Connection

    with Connection(url) as conn:
        try:
            conn.default_channel.queue_delete(queue)
        except Exception:  # noqa: BLE001 - never declared
            pass
