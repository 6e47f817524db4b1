"""Stand-in for the bucket's Pub/Sub notification: publishes OBJECT_FINALIZE for each new object.

No storage emulator sends Cloud Storage notifications, so locally this polls the bucket and
publishes to `photo-uploaded` exactly what a notification config with payload format
JSON_API_V1 sends in production. gcp-storage-emulator gives every upload a generation (the
upload time in nanoseconds), so (object, generation) names an upload as in GCS. The set of
published uploads lives in memory: after a restart the watcher publishes them again, which the
consumer tolerates (verify_photo dedupes on bucket/object#generation).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from keluhan import topology
from keluhan.devstack.config import EMULATORS_JSON, StackConfig, load_stack_config

# Citizens' originals and SKPD proof photos, as the production bucket notifications filter them.
UPLOAD_PREFIXES = ("incoming/", "resolution/")
NOTIFICATION_CONFIG_ID = "1"
log = logging.getLogger("keluhan.watcher")
# Any: an object resource of GCS's JSON API, passed on as is: many optional fields, any JSON each.
ObjectResource = dict[str, Any]


def object_resource(props: ObjectResource) -> ObjectResource:
    """The object resource as GCS's JSON API returns it (numbers as strings, absolute selfLink)."""
    bucket, name = props["bucket"], props["name"]
    resource = {k: v for k, v in props.items() if k != "acl"}
    for key in ("generation", "metageneration", "size"):
        if resource.get(key) is not None:
            resource[key] = str(resource[key])
    resource["kind"] = "storage#object"
    resource["id"] = f"{bucket}/{name}/{resource['generation']}"
    resource["selfLink"] = f"https://www.googleapis.com/storage/v1/b/{bucket}/o/{quote(name, safe='')}"
    return resource


def finalize_notification(resource: ObjectResource, *, overwrote_generation: str | None = None
                          ) -> tuple[bytes, dict[str, str]]:
    """Data and attributes of an OBJECT_FINALIZE notification (payload format JSON_API_V1)."""
    attributes = {
        "notificationConfig": f"projects/_/buckets/{resource['bucket']}"
                              f"/notificationConfigs/{NOTIFICATION_CONFIG_ID}",
        "eventType": "OBJECT_FINALIZE",
        "payloadFormat": "JSON_API_V1",
        "bucketId": resource["bucket"],
        "objectId": resource["name"],
        "objectGeneration": resource["generation"],
        "eventTime": resource.get("updated") or resource["timeCreated"],
    }
    if overwrote_generation:
        attributes["overwroteGeneration"] = overwrote_generation
    return json.dumps(resource).encode(), attributes


class Watcher:
    """Remembers which (object, generation) pairs it has published; publishes the new ones."""

    def __init__(
        self,
        *,
        list_objects: Callable[[str], Iterable[ObjectResource]],
        publish: Callable[[bytes, dict[str, str]], None],
        prefixes: tuple[str, ...] = UPLOAD_PREFIXES,
    ) -> None:
        self._list_objects = list_objects  # prefix -> iterable of object resource dicts
        self._publish = publish  # (data, attributes) -> None, raising on failure
        self._prefixes = prefixes
        self._published: set[tuple[str, str]] = set()
        self._latest: dict[str, str] = {}

    def poll(self) -> int:
        """Publish a notification for every upload not published yet; how many were published."""
        count = 0
        for props in (p for prefix in self._prefixes for p in self._list_objects(prefix)):
            resource = object_resource(props)
            key = (resource["name"], resource["generation"])
            if key in self._published:
                continue
            previous = self._latest.get(resource["name"])
            self._publish(*finalize_notification(resource, overwrote_generation=previous))
            self._published.add(key)
            self._latest[resource["name"]] = resource["generation"]
            log.info("published OBJECT_FINALIZE %s#%s", *key)
            count += 1
        return count


def watch(poll: Callable[[], object], stop: threading.Event, *, signal: Path | None, interval_s: float,
          check_s: float = 0.05) -> None:
    """Call `poll` every `interval_s` and, with a `signal` file, also as soon as its modification
    time moves (the storage emulator touches it after each write), until `stop` is set."""
    def stamp() -> int | None:
        try:
            return signal.stat().st_mtime_ns if signal else None
        except OSError:
            return None

    seen, next_poll = stamp(), 0.0
    while not stop.is_set():
        now = time.monotonic()
        current = stamp()
        if current != seen or now >= next_poll:
            seen, next_poll = current, now + interval_s  # taken before the poll: a write during it polls again
            try:
                poll()
            except Exception as exc:  # emulator not up yet, topic not created yet: try again
                log.warning("poll failed, retrying: %s", exc)
        stop.wait(check_s if signal else max(0.0, next_poll - time.monotonic()))


def run(config: StackConfig, *, interval_s: float = 0.5, prefixes: tuple[str, ...] = UPLOAD_PREFIXES,
        stop: threading.Event | None = None, signal: Path | None = None) -> None:
    """Poll the storage emulator and publish until `stop` is set (or forever); with `signal`, when
    the emulator says it was written to, and every `interval_s` in any case."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import pubsub_v1, storage

    os.environ.update(config.emulator_env())  # the clients read the emulator hosts from here
    # google-cloud-storage and google-auth leave these unannotated.
    client = storage.Client(project=config.project, credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]
    bucket = client.bucket(config.bucket)  # type: ignore[no-untyped-call]  # as above
    publisher = pubsub_v1.PublisherClient()
    topic = publisher.topic_path(config.project, topology.PHOTO_UPLOADED)

    def list_objects(pfx: str) -> list[ObjectResource]:
        # _properties is the object resource exactly as the JSON API returned it.
        return [blob._properties for blob in bucket.list_blobs(prefix=pfx)]

    def publish(data: bytes, attributes: dict[str, str]) -> None:
        publisher.publish(topic, data, **attributes).result(timeout=10)  # type: ignore[arg-type]  # attribute names never clash with retry/timeout/ordering_key

    watcher = Watcher(list_objects=list_objects, publish=publish, prefixes=prefixes)
    stop = stop or threading.Event()
    log.info("watching gs://%s/%s → %s", config.bucket, ",".join(prefixes), topic)
    watch(watcher.poll, stop, signal=signal, interval_s=interval_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m keluhan.devstack.watcher", description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(EMULATORS_JSON), help="emulators.json")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between polls")
    parser.add_argument("--signal", type=Path, help="a file the storage emulator touches after each write: "
                        "poll when it moves, and every --interval in any case")
    parser.add_argument("--prefix", action="append", help="object name prefix to watch (repeatable)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        run(load_stack_config(Path(args.config)), interval_s=args.interval,
            prefixes=tuple(args.prefix or UPLOAD_PREFIXES), signal=args.signal)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
