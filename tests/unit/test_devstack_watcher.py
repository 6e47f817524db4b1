"""The storage watcher publishes what a bucket's JSON_API_V1 notification config would."""

from __future__ import annotations

import json

import pytest

from keluhan.devstack.processes import wait_until
from keluhan.devstack.watcher import Watcher

BUCKET = "demo-keluhan-photos"


def emulator_object(name: str, generation: int, size: int = 1234) -> dict:
    """An object resource as gcp-storage-emulator lists it (numbers not always strings)."""
    return {
        "kind": "storage#object", "id": f"{BUCKET}/{name}/{generation}",
        "selfLink": f"/storage/v1/b/{BUCKET}/o/{name}", "name": name, "bucket": BUCKET,
        "generation": str(generation), "metageneration": "1", "contentType": "image/jpeg",
        "timeCreated": "2026-11-29T10:00:00.000000Z", "updated": "2026-11-29T10:00:00.000000Z",
        "storageClass": "STANDARD", "size": size, "md5Hash": "kAFQmDzST7DWlj99KOF/cg==",
        "crc32c": "yZRlqg==", "etag": "kAFQmDzST7DWlj99KOF/cg==", "acl": [],
    }


class Bucket:
    def __init__(self):
        self.objects: dict[str, dict] = {}
        self.published: list[tuple[dict, dict]] = []
        self.fail_publish = False

    def upload(self, name: str, generation: int) -> None:
        self.objects[name] = emulator_object(name, generation)

    def list_objects(self, prefix: str):
        return [o for n, o in self.objects.items() if n.startswith(prefix)]

    def publish(self, data: bytes, attributes: dict) -> None:
        if self.fail_publish:
            raise RuntimeError("topic not found")
        self.published.append((json.loads(data), attributes))


@pytest.fixture
def bucket() -> Bucket:
    return Bucket()


@pytest.fixture
def watcher(bucket) -> Watcher:
    return Watcher(list_objects=bucket.list_objects, publish=bucket.publish)


def test_a_new_upload_is_published_as_an_object_finalize_notification(bucket, watcher):
    bucket.upload("incoming/R1/photo.jpg", 1764410400000001)

    assert watcher.poll() == 1

    data, attributes = bucket.published[0]
    assert attributes == {
        "notificationConfig": f"projects/_/buckets/{BUCKET}/notificationConfigs/1",
        "eventType": "OBJECT_FINALIZE",
        "payloadFormat": "JSON_API_V1",
        "bucketId": BUCKET,
        "objectId": "incoming/R1/photo.jpg",
        "objectGeneration": "1764410400000001",
        "eventTime": "2026-11-29T10:00:00.000000Z",
    }
    assert data["kind"] == "storage#object"
    assert data["id"] == f"{BUCKET}/incoming/R1/photo.jpg/1764410400000001"
    assert data["selfLink"] == (
        f"https://www.googleapis.com/storage/v1/b/{BUCKET}/o/incoming%2FR1%2Fphoto.jpg")
    assert data["size"] == "1234"  # the JSON API sends int64 fields as strings
    assert {"md5Hash", "crc32c", "etag", "contentType", "timeCreated", "updated",
            "metageneration"} <= data.keys()


def test_an_upload_is_published_once_however_often_it_is_polled(bucket, watcher):
    bucket.upload("incoming/R1/photo.jpg", 1)

    assert [watcher.poll(), watcher.poll(), watcher.poll()] == [1, 0, 0]


def test_objects_outside_the_incoming_prefix_are_ignored(bucket, watcher):
    bucket.upload("public/R1/photo.jpg", 1)

    assert watcher.poll() == 0


def test_an_overwrite_is_a_new_generation_and_names_the_one_it_replaced(bucket, watcher):
    bucket.upload("incoming/R1/photo.jpg", 1)
    watcher.poll()
    bucket.upload("incoming/R1/photo.jpg", 2)

    assert watcher.poll() == 1
    _, attributes = bucket.published[-1]
    assert attributes["objectGeneration"] == "2"
    assert attributes["overwroteGeneration"] == "1"


def test_a_failed_publish_is_retried_on_the_next_poll(bucket, watcher):
    bucket.upload("incoming/R1/photo.jpg", 1)
    bucket.fail_publish = True
    with pytest.raises(RuntimeError):
        watcher.poll()

    bucket.fail_publish = False
    assert watcher.poll() == 1


def test_a_signalled_write_is_polled_at_once_and_without_one_only_every_interval(tmp_path):
    import threading
    import time

    from keluhan.devstack.watcher import watch

    signal = tmp_path / "storage-writes"
    polls: list[float] = []
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(lambda: polls.append(time.monotonic()), stop),
                              kwargs={"signal": signal, "interval_s": 30.0, "check_s": 0.01}, daemon=True)
    thread.start()
    try:
        assert wait_until(lambda: len(polls) == 1, timeout_s=5)  # the first poll, at once
        time.sleep(0.2)
        assert len(polls) == 1  # nothing written: no listing until the interval is over
        signal.touch()
        assert wait_until(lambda: len(polls) == 2, timeout_s=5)
        touched = time.monotonic()
        signal.touch()
        assert wait_until(lambda: len(polls) == 3, timeout_s=5)
        assert polls[2] - touched < 2
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()


def test_the_storage_emulator_signals_each_write_and_not_a_read(tmp_path, monkeypatch):
    import threading
    from http.server import ThreadingHTTPServer

    import requests

    from keluhan.devstack import storage
    from keluhan.devstack.env import STORAGE_SIGNAL_ENV

    signal = tmp_path / "storage-writes"
    monkeypatch.setenv(STORAGE_SIGNAL_ENV, str(signal))

    class Handler(storage.CorsRequestHandler):
        # The emulator's own handling, reduced to an answer: the signal is what is tested here.
        def __init__(self, *args, **kwargs):
            super(storage.server.RequestHandler, self).__init__(*args, **kwargs)

    for verb in ("do_GET", "do_POST", "do_PUT"):
        monkeypatch.setattr(storage.server.RequestHandler, verb, lambda self: self.send_error(404))
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/upload/storage/v1/b/b/o"
    try:
        # The handler touches the file after its answer is sent: wait for it (the watcher polls anyway).
        requests.post(url, data=b"x", timeout=5)
        assert wait_until(signal.exists, timeout_s=5)
        signal.unlink()
        requests.get(url, timeout=5)
        assert not wait_until(signal.exists, timeout_s=0.3)  # a read is no write
        requests.put(url, data=b"x", timeout=5)
        assert wait_until(signal.exists, timeout_s=5)
    finally:
        server.shutdown()
