"""`keluhan dev up/down` on the real emulators, on shifted ports beside the session's stack."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from keluhan import topology
from keluhan.devstack.config import EMULATORS_JSON, StackConfig, load_stack_config, shifted_copy
from keluhan.devstack.launcher import stop_stack
from keluhan.devstack.processes import port_is_busy, tcp_answers, wait_until
from keluhan.devstack.pubsub_bootstrap import admin_clients

pytestmark = pytest.mark.e2e
PORT_OFFSET = 1500  # clear of the session stack (default ports) and of a developer's +1000 copy
START_TIMEOUT_S = 150
KELUHAN = str(Path(sys.executable).parent / "keluhan")  # the console script developers run


@pytest.fixture
def shifted(tmp_path) -> StackConfig:
    """The repo's emulators.json with every port moved by PORT_OFFSET, and its rules file beside it."""
    path = shifted_copy(EMULATORS_JSON, tmp_path, PORT_OFFSET)
    return load_stack_config(path)


@pytest.fixture
def state_dir(tmp_path):
    path = tmp_path / "state"
    yield path
    stop_stack(path)  # whatever a failed test left behind


def keluhan(*args: str, timeout: float = START_TIMEOUT_S + 30) -> subprocess.CompletedProcess:
    return subprocess.run([KELUHAN, *args], capture_output=True,
                          text=True, timeout=timeout)


def up_args(config: StackConfig, state_dir: Path) -> list[str]:
    return ["dev", "up", "--config", str(config.path), "--state-dir", str(state_dir),
            "--timeout", str(START_TIMEOUT_S)]


def start_foreground(config: StackConfig, state_dir: Path, tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    out = tmp_path / "up.out"
    with open(out, "w") as f:
        launcher = subprocess.Popen([KELUHAN, *up_args(config, state_dir)],
                                    stdout=f, stderr=subprocess.STDOUT)
    stack_file = state_dir / "stack.json"
    ready = wait_until(lambda: launcher.poll() is not None or (
        stack_file.exists() and json.loads(stack_file.read_text())["ready"]), timeout_s=START_TIMEOUT_S + 10)
    assert ready and launcher.poll() is None, out.read_text()
    return launcher, out


def recorded_pids(state_dir: Path) -> dict[str, int]:
    data = json.loads((state_dir / "stack.json").read_text())
    return {p["name"]: p["pid"] for p in data["processes"]}


def assert_nothing_left(pids: dict[str, int], config: StackConfig) -> None:
    def gone(pid: int) -> bool:
        try:
            return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    assert [name for name, pid in pids.items() if not gone(pid)] == []
    assert [name for name, ep in config.all_ports().items() if port_is_busy(ep)] == []


def test_up_detached_serves_everything_as_in_production_and_down_leaves_nothing(shifted, state_dir, monkeypatch):
    up = keluhan("dev", "up", "--detach", *up_args(shifted, state_dir)[2:])
    assert up.returncode == 0, up.stdout + up.stderr
    pids = recorded_pids(state_dir)
    assert {"firestore jvm", "pubsub", "firebase", "storage", "receiver", "watcher"} <= pids.keys()
    assert {f"fn-{f.name}" for f in topology.FUNCTIONS} <= pids.keys()
    assert [name for name, ep in shifted.all_ports().items() if not tcp_answers(ep)] == []

    publisher, subscriber = admin_clients(shifted)
    project = f"projects/{shifted.project}"
    topics = {t.name.rsplit("/", 1)[1] for t in publisher.list_topics(project=project)}
    assert topics == set(topology.all_topics())
    for sub in topology.subscriptions():
        made = subscriber.get_subscription(subscription=f"{project}/subscriptions/{sub.name}")
        assert made.push_config.push_endpoint.endswith(f"/{project}/topics/{sub.topic}")
        assert made.ack_deadline_seconds == topology.FUNCTION_BY_NAME[sub.function].ack_deadline_s
        expected_dlq = f"{project}/topics/{sub.dead_letter_topic}" if sub.dead_letter_topic else ""
        assert made.dead_letter_policy.dead_letter_topic == expected_dlq

    assert_an_upload_is_notified_like_cloud_storage_does(shifted)
    assert_a_refused_create_is_answered_but_not_traced(shifted, state_dir, monkeypatch)

    down = keluhan("dev", "down", "--state-dir", str(state_dir), timeout=90)
    assert down.returncode == 0, down.stdout + down.stderr
    assert not (state_dir / "stack.json").exists()
    assert_nothing_left(pids, shifted)


def assert_a_refused_create_is_answered_but_not_traced(config: StackConfig, state_dir: Path, monkeypatch) -> None:
    """The emulator runs with the project's logging (keluhan.devstack.java.EMULATOR_LOGGING): a
    create of an existing document still fails for the client, without a stack trace in the logs."""
    from google.api_core import exceptions
    from google.cloud import firestore

    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"{config.firestore.host}:{config.firestore.port}")
    doc = firestore.Client(project=config.project).collection("e2e-devstack").document("once")
    doc.create({"n": 1})
    for _ in range(3):
        with pytest.raises(exceptions.AlreadyExists):
            doc.create({"n": 2})
    assert doc.get().to_dict() == {"n": 1}
    for log in ("firestore-debug.log", "firebase-debug.log"):
        text = (state_dir / log).read_text(errors="replace")
        assert "Dev App Server is now running" in text or log == "firebase-debug.log"
        assert "WrappedStreamObserver" not in text and "entity already exists" not in text, log


def assert_an_upload_is_notified_like_cloud_storage_does(config: StackConfig) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    _, subscriber = admin_clients(config)
    project = f"projects/{config.project}"
    probe = subscriber.create_subscription(name=f"{project}/subscriptions/test-watcher",
                                           topic=f"{project}/topics/{topology.PHOTO_UPLOADED}")
    bucket = storage.Client(project=config.project, credentials=AnonymousCredentials(),
                            client_options={"api_endpoint": config.storage.url}).bucket(config.bucket)
    blob = bucket.blob("incoming/R-e2e/photo")
    data = b"\xff\xd8 not really a jpeg"
    blob.upload_from_string(data, content_type="image/jpeg")
    blob.reload()
    received = []
    assert wait_until(lambda: received.extend(subscriber.pull(
        subscription=probe.name, max_messages=1, timeout=2).received_messages) or received, timeout_s=15)

    message = received[0].message
    assert message.attributes["eventType"] == "OBJECT_FINALIZE"
    assert message.attributes["payloadFormat"] == "JSON_API_V1"
    assert message.attributes["bucketId"] == config.bucket
    assert message.attributes["objectId"] == "incoming/R-e2e/photo"
    assert message.attributes["objectGeneration"] == str(blob.generation)
    resource = json.loads(message.data)
    assert resource["size"] == str(len(data)) and resource["contentType"] == "image/jpeg"
    assert resource["md5Hash"] == blob.md5_hash


def test_down_after_the_launcher_was_killed_stops_everything_jvms_included(shifted, state_dir, tmp_path):
    launcher, _ = start_foreground(shifted, state_dir, tmp_path)
    pids = recorded_pids(state_dir)

    launcher.kill()
    launcher.wait()
    assert psutil.pid_exists(pids["firestore jvm"]) and psutil.pid_exists(pids["pubsub"])

    started = time.monotonic()
    down = keluhan("dev", "down", "--state-dir", str(state_dir), timeout=90)
    assert down.returncode == 0, down.stdout + down.stderr
    assert_nothing_left(pids, shifted)
    print(f"down after SIGKILL took {time.monotonic() - started:.1f} s")


def test_ctrl_c_on_a_foreground_up_stops_everything(shifted, state_dir, tmp_path):
    launcher, out = start_foreground(shifted, state_dir, tmp_path)
    pids = recorded_pids(state_dir)

    launcher.send_signal(signal.SIGINT)

    assert launcher.wait(timeout=90) == 0, out.read_text()
    assert "every port is free" in out.read_text()
    assert_nothing_left(pids, shifted)
    assert not (state_dir / "stack.json").exists()


def test_a_busy_port_is_named_with_its_owner_and_nothing_starts(shifted, state_dir):
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the last test's port may be in TIME_WAIT
        squatter.bind((shifted.pubsub.host, shifted.pubsub.port))
        squatter.listen()

        up = keluhan("dev", "up", "--detach", *up_args(shifted, state_dir)[2:], timeout=60)

    assert up.returncode != 0
    assert f"port {shifted.pubsub.port}" in up.stderr and "(pubsub)" in up.stderr
    assert f"pid {psutil.Process().pid}" in up.stderr
    assert not (state_dir / "stack.json").exists()
    assert list(state_dir.glob("*.log")) == []


def test_down_with_nothing_running_says_so(state_dir):
    down = keluhan("dev", "down", "--state-dir", str(state_dir), timeout=30)

    assert down.returncode == 0
    assert "nothing running" in down.stdout
