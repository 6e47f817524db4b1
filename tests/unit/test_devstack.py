"""The local stack's parts that need no emulator: PIDs, ports, the launcher jar, bootstrap specs."""

from __future__ import annotations

import os
import socket
import subprocess
import zipfile

import psutil
import pytest

from keluhan import topology
from keluhan.devstack.config import EMULATORS_JSON, Endpoint, load_stack_config
from keluhan.devstack.java import MissingTool, find_tools, write_firestore_launcher
from keluhan.devstack.processes import (
    ProcessRecord,
    port_is_busy,
    port_owner,
    stop_records,
    wait_until,
)
from keluhan.devstack.pubsub_bootstrap import subscription_spec


@pytest.fixture
def sleeper():
    proc = subprocess.Popen(["sleep", "60"], start_new_session=True)
    yield proc
    proc.kill()
    proc.wait()


def test_stopping_a_recorded_process_terminates_it(sleeper):
    record = ProcessRecord.of(psutil.Process(sleeper.pid), "sleeper")

    assert stop_records([record], timeout_s=5) == ["sleeper"]
    assert sleeper.wait(timeout=5) is not None


def test_a_reused_pid_is_never_stopped(sleeper):
    real = ProcessRecord.of(psutil.Process(sleeper.pid), "sleeper")
    # The same PID, but the process recorded then started earlier: it is someone else now.
    stale = ProcessRecord(real.name, real.pid, real.create_time - 100, real.cmdline)
    other_command = ProcessRecord(real.name, real.pid, real.create_time, ["python", "server.py"])

    assert stop_records([stale, other_command], timeout_s=1) == []
    assert sleeper.poll() is None


def test_a_record_still_matches_after_an_interpreter_hop(sleeper):
    # `#!/usr/bin/env node` starts as `/usr/bin/env node x` and becomes `node x`.
    real = ProcessRecord.of(psutil.Process(sleeper.pid), "sleeper")
    hop = ProcessRecord(real.name, real.pid, real.create_time, ["/usr/bin/env", *real.cmdline])

    assert hop.find() is not None


def test_children_of_a_recorded_process_are_stopped_too():
    shell = subprocess.Popen(["sh", "-c", "sleep 60 & sleep 60 & wait"], start_new_session=True)
    record = ProcessRecord.of(psutil.Process(shell.pid), "shell")
    assert wait_until(lambda: len(psutil.Process(shell.pid).children()) == 2, timeout_s=5)
    children = psutil.Process(shell.pid).children()

    stop_records([record], timeout_s=0.5)

    shell.wait(timeout=5)
    assert all(not c.is_running() or c.status() == psutil.STATUS_ZOMBIE for c in children)


def test_a_listening_port_is_busy_and_its_owner_is_named():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]

        assert port_is_busy(Endpoint("127.0.0.1", port))
        assert f"pid {os.getpid()}" in port_owner(port)
    assert not port_is_busy(Endpoint("127.0.0.1", port))


def test_the_firestore_launcher_jar_points_java_at_the_gcloud_jar(tmp_path):
    gcloud_jar = tmp_path / "a rather long directory name that forces a manifest line continuation" / "x.jar"
    launcher = write_firestore_launcher(gcloud_jar, tmp_path / "launcher.jar")

    raw = zipfile.ZipFile(launcher).read("META-INF/MANIFEST.MF").decode()
    assert all(len(line.encode()) <= 72 for line in raw.split("\r\n"))
    headers = dict(line.split(": ", 1) for line in raw.replace("\r\n ", "").split("\r\n") if line)
    assert headers["Main-Class"] == "com.google.cloud.datastore.emulator.firestore.CloudFirestore"
    assert headers["Class-Path"] == gcloud_jar.as_uri()


def test_a_missing_firebase_cli_says_how_to_install_it(tmp_path):
    with pytest.raises(MissingTool, match="scripts/setup"):
        find_tools(repo_root=tmp_path)


def test_every_stage_subscription_pushes_to_its_topic_path_with_a_dead_letter_policy():
    config = load_stack_config(EMULATORS_JSON)
    stage_subs = [s for s in topology.subscriptions() if s.dead_letter_topic]
    assert stage_subs
    for sub in stage_subs:
        spec = subscription_spec(config, sub)
        fn = topology.FUNCTION_BY_NAME[sub.function]

        assert spec.push_config.push_endpoint == (
            f"{config.functions[sub.function].url}/projects/{config.project}/topics/{sub.topic}")
        assert spec.ack_deadline_seconds == fn.ack_deadline_s
        assert spec.retry_policy.maximum_backoff.seconds == fn.max_backoff_s
        assert spec.dead_letter_policy.dead_letter_topic.endswith("/topics/" + sub.topic + "-dead-letter")
        assert spec.dead_letter_policy.max_delivery_attempts == fn.max_delivery_attempts


def test_the_dead_letter_consumer_has_no_dead_letter_policy_of_its_own():
    config = load_stack_config(EMULATORS_JSON)
    subs = [s for s in topology.subscriptions() if s.function == "record_dead_letter"]

    assert {s.topic for s in subs} == {topology.dead_letter_topic(t) for t in topology.STAGE_TOPICS}
    assert all(not subscription_spec(config, s).dead_letter_policy.dead_letter_topic for s in subs)


def test_the_firestore_emulator_logs_refused_requests_without_stack_traces(tmp_path):
    from keluhan.devstack.java import FirebaseTools, firebase_env, write_emulator_logging

    config = write_emulator_logging(tmp_path / "logging.properties")
    tools = FirebaseTools(node="node", firebase=tmp_path / "firebase", java_home=tmp_path / "jdk",
                          sdk_root=tmp_path / "sdk")
    env = firebase_env(tools, tmp_path / "launcher.jar", config)

    assert env["JAVA_TOOL_OPTIONS"].endswith(f"-Djava.util.logging.config.file={config}")
    levels = dict(line.split("=", 1) for line in config.read_text().splitlines())
    assert levels["com.google.cloud.datastore.emulator.impl.util.WrappedStreamObserver.level"] == "SEVERE"
    spaced = firebase_env(tools, tmp_path / "launcher.jar", tmp_path / "with space" / "logging.properties")
    assert "logging" not in spaced["JAVA_TOOL_OPTIONS"]


def test_the_emulator_jvms_get_the_client_compiler_and_the_serial_collector_unless_the_caller_says_otherwise(
        tmp_path, monkeypatch):
    from keluhan.devstack.java import FirebaseTools, firebase_env

    tools = FirebaseTools(node="node", firebase=tmp_path / "firebase", java_home=tmp_path / "jdk",
                          sdk_root=tmp_path / "sdk")
    monkeypatch.delenv("JAVA_TOOL_OPTIONS", raising=False)
    assert firebase_env(tools, tmp_path / "launcher.jar")["JAVA_TOOL_OPTIONS"].split() == [
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
    # HotSpot takes the last of repeated flags: a developer's own options come after ours.
    monkeypatch.setenv("JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=4 -XX:+UseG1GC")
    assert firebase_env(tools, tmp_path / "launcher.jar")["JAVA_TOOL_OPTIONS"].split()[-2:] == [
        "-XX:TieredStopAtLevel=4", "-XX:+UseG1GC"]


def test_both_emulator_jvms_are_started_with_the_emulator_jvm_options(tmp_path, monkeypatch):
    """Pub/Sub's JVM is started by its wrapper script, not by firebase: it needs the options too
    (until the eighth session it ran with the JVM's defaults, C2 and G1)."""
    from keluhan.devstack import launcher
    from keluhan.devstack.config import load_stack_config
    from keluhan.devstack.java import EMULATOR_JVM_OPTIONS, FirebaseTools
    from keluhan.settings import REPO_ROOT

    # The parts are only described, not started: no Firebase CLI, Java or gcloud jar is needed.
    monkeypatch.setattr(launcher, "find_tools", lambda: FirebaseTools(
        node="node", firebase=tmp_path / "firebase", java_home=tmp_path / "jdk", sdk_root=tmp_path / "sdk"))
    monkeypatch.delenv("JAVA_TOOL_OPTIONS", raising=False)
    _parts = launcher._parts
    parts = {part.name: part for part in _parts(load_stack_config(), tmp_path, REPO_ROOT / "functions")}
    for name in ("firebase", "pubsub"):
        assert parts[name].env["JAVA_TOOL_OPTIONS"].split()[:2] == list(EMULATOR_JVM_OPTIONS), name
    assert "JAVA_TOOL_OPTIONS" not in parts["fn-submit_report"].env
