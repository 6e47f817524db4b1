"""Publishing events to Pub/Sub, waiting until the broker has each message."""

from __future__ import annotations

import json
from collections.abc import Mapping

from google.cloud import pubsub_v1

PUBLISH_TIMEOUT_S = 20


class PubSubPublisher:
    def __init__(self, client: pubsub_v1.PublisherClient, project_id: str):
        self._client = client
        self._project = project_id

    def __call__(self, topic: str, data: Mapping[str, object], attributes: dict[str, str]) -> None:
        path = self._client.topic_path(self._project, topic)
        body = json.dumps(data, default=str).encode()
        self._client.publish(path, body, **attributes).result(timeout=PUBLISH_TIMEOUT_S)  # type: ignore[arg-type]  # attribute names never clash with retry/timeout/ordering_key

    def raw(self, topic: str, body: bytes, attributes: dict[str, str]) -> None:
        """Publish bytes as they are (dead-letter replay, storage notifications)."""
        path = self._client.topic_path(self._project, topic)
        self._client.publish(path, body, **attributes).result(timeout=PUBLISH_TIMEOUT_S)  # type: ignore[arg-type]  # attribute names never clash with retry/timeout/ordering_key
