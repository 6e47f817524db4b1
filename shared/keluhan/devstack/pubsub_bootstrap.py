"""Create every topic and push subscription of keluhan.topology on the Pub/Sub emulator."""

from __future__ import annotations

import grpc
from google.api_core.exceptions import AlreadyExists
from google.protobuf import duration_pb2
from google.pubsub_v1 import DeadLetterPolicy, PushConfig, RetryPolicy
from google.pubsub_v1 import Subscription as PubsubSubscription
from google.pubsub_v1.services.publisher import PublisherClient
from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport
from google.pubsub_v1.services.subscriber import SubscriberClient
from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport

from keluhan import topology
from keluhan.devstack.config import StackConfig


def admin_clients(config: StackConfig) -> tuple[PublisherClient, SubscriberClient]:
    """Admin clients bound to the emulator's insecure channel (no PUBSUB_EMULATOR_HOST needed)."""
    publisher = PublisherClient(
        transport=PublisherGrpcTransport(channel=grpc.insecure_channel(config.pubsub.hostport)))
    subscriber = SubscriberClient(
        transport=SubscriberGrpcTransport(channel=grpc.insecure_channel(config.pubsub.hostport)))
    return publisher, subscriber


def push_endpoint(config: StackConfig, sub: topology.Subscription) -> str:
    # The topic path in the URL makes functions-framework set the CloudEvent source as in GCP.
    fn = config.functions[sub.function]
    return f"{fn.url}/projects/{config.project}/topics/{sub.topic}"


def subscription_spec(config: StackConfig, sub: topology.Subscription) -> PubsubSubscription:
    """The push subscription production has for this (function, topic): deadline, backoff, DLQ."""
    fn = topology.FUNCTION_BY_NAME[sub.function]
    spec = PubsubSubscription(
        name=f"projects/{config.project}/subscriptions/{sub.name}",
        topic=f"projects/{config.project}/topics/{sub.topic}",
        push_config=PushConfig(push_endpoint=push_endpoint(config, sub)),
        ack_deadline_seconds=fn.ack_deadline_s,
        retry_policy=RetryPolicy(
            minimum_backoff=duration_pb2.Duration(seconds=fn.min_backoff_s),
            maximum_backoff=duration_pb2.Duration(seconds=fn.max_backoff_s),
        ),
    )
    if sub.dead_letter_topic:
        spec.dead_letter_policy = DeadLetterPolicy(
            dead_letter_topic=f"projects/{config.project}/topics/{sub.dead_letter_topic}",
            max_delivery_attempts=fn.max_delivery_attempts,
        )
    return spec


def bootstrap_pubsub(config: StackConfig) -> None:
    """Create all topics (dead-letter topics included) and push subscriptions; idempotent."""
    publisher, subscriber = admin_clients(config)
    with publisher, subscriber:  # leaving closes both transports
        for topic in topology.all_topics():
            try:
                publisher.create_topic(name=f"projects/{config.project}/topics/{topic}")
            except AlreadyExists:
                pass
        for sub in topology.subscriptions():
            try:
                subscriber.create_subscription(request=subscription_spec(config, sub))
            except AlreadyExists:
                pass


def main(argv: list[str] | None = None) -> int:
    """Wait (bounded) for the emulator of an emulators.json to answer, then bootstrap it."""
    import argparse
    import time
    from pathlib import Path

    from keluhan.devstack.config import load_stack_config
    from keluhan.devstack.processes import tcp_answers, wait_until

    parser = argparse.ArgumentParser(prog="keluhan.devstack.pubsub_bootstrap")
    parser.add_argument("--config", type=Path, required=True)
    args = parser.parse_args(argv)
    config = load_stack_config(args.config)
    if not wait_until(lambda: tcp_answers(config.pubsub), timeout_s=60, interval_s=0.1):
        return 1
    for attempt in range(20):  # the port answers a moment before the gRPC service does
        try:
            bootstrap_pubsub(config)
            return 0
        except Exception:
            if attempt == 19:
                raise
            time.sleep(0.5)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
