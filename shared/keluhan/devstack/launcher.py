"""`keluhan dev up/down`: start every part of the local stack, wait until it answers, stop it by PID."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests

from keluhan import topology
from keluhan.adapters.firestore_counting import COUNTS_DIR_ENV, COUNTS_NAME_ENV
from keluhan.devstack.api_calls import CALLS_DIR_ENV
from keluhan.devstack.config import EMULATORS_JSON, Endpoint, StackConfig, load_stack_config
from keluhan.devstack.cost import FIRESTORE_OPS_DIR
from keluhan.devstack.env import STORAGE_SIGNAL_ENV, function_env
from keluhan.devstack.java import (
    find_tools,
    firebase_env,
    jvm_options,
    write_emulator_logging,
    write_firestore_launcher,
)
from keluhan.devstack.processes import (
    ProcessRecord,
    StackError,
    descendants,
    log_tail,
    port_is_busy,
    port_owner,
    spawn,
    stop_records,
    tcp_answers,
    wait_until,
)
from keluhan.settings import REPO_ROOT

DEFAULT_STATE_DIR = REPO_ROOT / ".devstack"
FUNCTIONS_DIR = REPO_ROOT / "functions"
STACK_FILE = "stack.json"
# The Pub/Sub emulator runs as its own supervised process, so that it can die and come back (empty,
# as after a restart: the supervisor then creates its topics and subscriptions again).
FIREBASE_EMULATORS = ("firestore", "auth")
WATCHER_FALLBACK_S = 2.0  # the watcher's poll when no write was signalled (a missed signal, a restart)
# Emulator hosts a developer may have exported; firebase must not pick them up.
_FOREIGN_EMULATOR_ENV = ("FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST", "STORAGE_EMULATOR_HOST",
                         "FIREBASE_AUTH_EMULATOR_HOST", "FIREBASE_STORAGE_EMULATOR_HOST",
                         "FIREBASE_EMULATOR_HUB")


@dataclass
class Part:
    """One process of the stack: how to start it and how to tell that it answers."""

    name: str
    argv: list[str]
    env: dict[str, str]
    probes: list[Callable[[], bool]] = field(default_factory=list)
    kind: str = "process"


@dataclass
class RunningStack:
    """A started stack: its processes (recorded in <state_dir>/stack.json) and how to stop it."""

    config: StackConfig
    state_dir: Path
    popens: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    records: list[ProcessRecord] = field(default_factory=list)
    launcher: ProcessRecord | None = None
    ready: bool = False
    ready_s: float | None = None
    answered_s: dict[str, float] = field(default_factory=dict)  # seconds from start, per part

    @property
    def stack_file(self) -> Path:
        return self.state_dir / STACK_FILE

    def save(self) -> None:
        """Write stack.json atomically: `down` must find every PID even if `up` dies right now."""
        data = {
            "config": str(self.config.path),
            "ready": self.ready,
            "ready_s": self.ready_s,
            "answered_s": self.answered_s,
            "launcher": self.launcher.to_dict() if self.launcher else None,
            "ports": {name: [ep.host, ep.port] for name, ep in self.config.all_ports().items()},
            "processes": [r.to_dict() for r in self.records],
        }
        tmp = self.stack_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(self.stack_file)

    def record_emulator_children(self) -> bool:
        """Record firebase's emulator JVMs (own sessions: they outlive a killed firebase); True if changed."""
        current = []
        for rec in [r for r in self.records if r.kind == "firebase"]:
            proc = rec.find()
            for child in descendants(proc) if proc else []:
                try:
                    current.append(ProcessRecord.of(child, _emulator_name(child), kind="jvm"))
                except psutil.Error:
                    pass
        # Re-recorded each time: a wrapper script (the Pub/Sub emulator's) execs java later on.
        pids = {r.pid for r in current}
        records = [r for r in self.records if r.kind != "jvm" or r.pid not in pids] + current
        if records == self.records:
            return False
        self.records = records
        self.save()
        return True

    def exited(self) -> tuple[str, int] | None:
        """The first process that has exited, with its return code."""
        for name, popen in self.popens.items():
            if popen.poll() is not None:
                return name, popen.returncode
        return None

    def log_of(self, name: str) -> Path:
        return self.state_dir / f"{name}.log"

    def stop(self, *, timeout_s: float = 30.0) -> float:
        """Stop every process, JVMs included; wait until the ports are free; seconds it took."""
        started = time.monotonic()
        self.record_emulator_children()
        stop_records(self.records, timeout_s=timeout_s)
        for popen in self.popens.values():
            popen.poll()  # reap our own children
        _wait_ports_free(self.config.all_ports())
        self.stack_file.unlink(missing_ok=True)
        return time.monotonic() - started

    def supervise(self, interval_s: float = 0.5) -> int:
        """Stay in the foreground until a signal arrives (KeyboardInterrupt) or a process dies."""
        while (gone := self.exited()) is None:
            time.sleep(interval_s)
        name, code = gone
        print(f"keluhan: {name} berhenti / exited with code {code}; last lines of "
              f"{self.log_of(name)}:\n{log_tail(self.log_of(name))}", file=sys.stderr)
        return 1

    def describe(self) -> str:
        """The endpoints and the environment a developer would paste into a shell."""
        c = self.config
        lines = [f"Keluhan local stack is up (ready in {self.ready_s:.1f} s); logs in {self.state_dir}/"]
        for fn in topology.FUNCTIONS:
            trigger = "HTTP" if fn.trigger == "http" else "push ← " + ", ".join(fn.topics)
            lines.append(f"  {fn.name:<20} {c.functions[fn.name].url}/  ({trigger})")
        lines += [
            f"  {'Firestore':<20} {c.firestore.hostport}",
            f"  {'Pub/Sub':<20} {c.pubsub.hostport}",
            f"  {'Auth':<20} {c.auth.hostport}",
            f"  {'Cloud Storage':<20} {c.storage.url}  (bucket {c.bucket})",
            f"  {'Receiver':<20} {c.receiver.url}/  (stand-in for Baruga, BBPJN, regencies)",
            f"  {'FCM':<20} {c.fcm.url}/  (stand-in for Firebase Cloud Messaging; GET /_received)",
            f"  {'WhatsApp Cloud API':<20} {c.whatsapp_standin.url}/  (stand-in; `keluhan wa send|outbox|demo`)",
            "Point your shell at it:",
        ]
        lines += [f"  export {k}={v}" for k, v in c.emulator_env().items()]
        from keluhan.devstack.seed import describe_users

        return "\n".join(lines + describe_users())


def start_stack(config_path: Path = EMULATORS_JSON, state_dir: Path = DEFAULT_STATE_DIR, *,
                functions_dir: Path = FUNCTIONS_DIR, timeout_s: float = 90.0,
                foreground: bool = False) -> RunningStack:
    """Start every part, wait until each answers, create topics/subscriptions, seed; or raise StackError.

    With foreground=True this process is recorded as the launcher, so `down` asks it to stop first.
    """
    started = time.monotonic()
    config = load_stack_config(Path(config_path).resolve())
    state_dir = Path(state_dir).resolve()
    _refuse_if_running(state_dir)
    _refuse_busy_ports(config)
    parts = _parts(config, state_dir, Path(functions_dir).resolve())
    state_dir.mkdir(parents=True, exist_ok=True)
    stack = RunningStack(config, state_dir)
    if foreground:
        stack.launcher = ProcessRecord.of(psutil.Process(), "launcher", kind="launcher")
    try:
        for part in parts:
            popen = spawn(part.argv, log=stack.log_of(part.name), env=part.env, cwd=state_dir)
            stack.popens[part.name] = popen
            stack.records.append(ProcessRecord.of(psutil.Process(popen.pid), part.name, part.kind,
                                                  str(stack.log_of(part.name))))
            stack.save()
        _wait_ready(stack, parts, started=started, deadline=started + timeout_s)
        from keluhan.devstack.pubsub_bootstrap import bootstrap_pubsub
        from keluhan.devstack.seed import seed

        bootstrap_pubsub(config)
        seed(config, state_dir)
        stack.record_emulator_children()
        stack.ready, stack.ready_s = True, time.monotonic() - started
        stack.save()
        return stack
    except BaseException:
        with contextlib.suppress(StackError):  # the start-up error matters more
            stack.stop()
        raise


def stop_stack(state_dir: Path = DEFAULT_STATE_DIR, *, timeout_s: float = 30.0) -> list[str]:
    """Stop what `up` started from this state dir, by recorded PID; the names of what was running."""
    stack_file = Path(state_dir) / STACK_FILE
    if not stack_file.exists():
        return []
    data = json.loads(stack_file.read_text())
    stopped = []
    launcher = ProcessRecord.from_dict(data["launcher"]) if data.get("launcher") else None
    if launcher and launcher.pid != os.getpid() and (proc := launcher.find()):
        # A foreground `up` is alive: let it stop its stack itself (it knows about late JVMs too).
        proc.terminate()
        wait_until(lambda: launcher.find() is None, timeout_s=timeout_s + 20, interval_s=0.1)
        stopped.append("launcher")
    records = [ProcessRecord.from_dict(d) for d in data["processes"]]
    stopped += stop_records(records, timeout_s=timeout_s)
    _wait_ports_free({name: Endpoint(h, p) for name, (h, p) in data["ports"].items()})
    stack_file.unlink(missing_ok=True)
    return stopped


def _emulator_name(proc: psutil.Process) -> str:
    cmd = " ".join(proc.cmdline())
    for needle, name in (("firestore", "firestore jvm"), ("pubsub", "pubsub jvm")):
        if needle in cmd:
            return name
    return f"firebase child {proc.name()}"


def _refuse_if_running(state_dir: Path) -> None:
    stack_file = state_dir / STACK_FILE
    if not stack_file.exists():
        return
    data = json.loads(stack_file.read_text())
    if any(ProcessRecord.from_dict(d).find() for d in data["processes"]):
        raise StackError(f"Stack lokal sudah berjalan / a local stack already runs from {state_dir}: "
                         f"stop it first with `keluhan dev down --state-dir {state_dir}`.")


def _refuse_busy_ports(config: StackConfig) -> None:
    busy = [(name, ep) for name, ep in config.all_ports().items() if port_is_busy(ep)]
    if busy:
        lines = [f"  port {ep.port} on {ep.host} ({name}): {port_owner(ep.port)}" for name, ep in busy]
        raise StackError("Port sudah dipakai / port already in use; nothing was started:\n"
                         + "\n".join(lines)
                         + f"\nStop the owner, or change the ports in {config.path}.")


def _parts(config: StackConfig, state_dir: Path, functions_dir: Path) -> list[Part]:
    """The processes to start, checked for everything they need before any is started."""
    tools = find_tools()
    if not config.rules_file.exists():
        raise StackError(f"Aturan Firestore tidak ada / Firestore rules file missing: {config.rules_file} "
                         f"(named in {config.path}).")
    missing = [str(functions_dir / f.source_dir / "main.py") for f in topology.FUNCTIONS
               if not (functions_dir / f.source_dir / "main.py").exists()]
    if missing:
        raise StackError("Kode fungsi tidak ada / function sources missing: " + ", ".join(missing))
    py_env = {**os.environ, **function_env(config, state_dir)}
    fb_env = {k: v for k, v in os.environ.items() if k not in _FOREIGN_EMULATOR_ENV}
    launcher_jar = write_firestore_launcher(tools.firestore_jar, state_dir / "firestore-launcher.jar")
    logging_config = write_emulator_logging(state_dir / "firestore-logging.properties")
    fb_env.update(firebase_env(tools, launcher_jar, logging_config))

    storage_signal = state_dir / "storage-writes"
    emu_eps = (config.firestore, config.firestore_websocket, config.auth, config.logging)
    # Function processes and the Pub/Sub emulator restart when they die, as Cloud Run restarts a
    # container (`keluhan.devstack.supervise`); the supervisor is the recorded process.
    supervise = [sys.executable, "-m", "keluhan.devstack.supervise"]
    parts = [
        # node itself, not the script's `#!/usr/bin/env node`: the recorded command line stays true.
        Part("firebase", [tools.node, str(tools.firebase.resolve()), "--config", str(config.path),
                          "--project", config.project, "emulators:start",
                          "--only", ",".join(FIREBASE_EMULATORS)], fb_env,
             [_hub_lists_emulators(config.hub)] + [_tcp(ep) for ep in emu_eps], kind="firebase"),
        Part("pubsub", [*supervise, "--after-start",
                        shlex.join(["keluhan.devstack.pubsub_bootstrap", "--config", str(config.path)]),
                        "--", str(tools.pubsub_emulator), f"--host={config.pubsub.host}",
                        f"--port={config.pubsub.port}"],
             {**py_env, **_java_path(fb_env), "JAVA_TOOL_OPTIONS": jvm_options()},
             [_tcp(config.pubsub)]),
        # gcp-storage-emulator with the bucket's CORS (a page PUTs a proof photo to its signed URL).
        Part("storage", [sys.executable, "-m", "keluhan.devstack.storage", "start", "--host", config.storage.host,
                         "--port", str(config.storage.port), "--in-memory",
                         "--default-bucket", config.bucket], {**py_env, STORAGE_SIGNAL_ENV: str(storage_signal)},
             [_http(config.storage.url + "/")]),
        Part("receiver", [sys.executable, "-m", "keluhan.devstack.receiver", "--host",
                          config.receiver.host, "--port", str(config.receiver.port)], py_env,
             [_http(config.receiver.url + "/")]),
        Part("fcm", [sys.executable, "-m", "keluhan.devstack.fcm", "--host", config.fcm.host,
                     "--port", str(config.fcm.port)], py_env, [_http(config.fcm.url + "/_health")]),
        Part("wa-standin", [sys.executable, "-m", "keluhan.devstack.wa_standin", "--host",
                            config.whatsapp_standin.host, "--port", str(config.whatsapp_standin.port)], py_env,
             [_http(config.whatsapp_standin.url + "/")]),
        # Polls the bucket when the storage emulator signals a write (and every 2 s in any case).
        Part("watcher", [sys.executable, "-m", "keluhan.devstack.watcher", "--config", str(config.path),
                         "--signal", str(storage_signal), "--interval", str(WATCHER_FALLBACK_S)], py_env),
    ]
    for fn in topology.FUNCTIONS:
        ep = config.functions[fn.name]
        parts.append(Part(
            f"fn-{fn.name}",
            # functions-framework with the Google API calls recorded (keluhan.devstack.api_calls).
            [*supervise, "--", sys.executable, "-m", "keluhan.devstack.api_calls",
             "--source", str(functions_dir / fn.source_dir / "main.py"),
             "--target", fn.name, "--signature-type", fn.signature, "--host", ep.host,
             "--port", str(ep.port)],
            {**py_env, CALLS_DIR_ENV: str(state_dir / "api-calls"),
             COUNTS_DIR_ENV: str(state_dir / FIRESTORE_OPS_DIR), COUNTS_NAME_ENV: fn.name},
            # The framework answers /robots.txt itself (404/405): the worker has loaded main.py.
            [_http(ep.url + "/robots.txt")],
        ))
    return parts


def _java_path(env: dict[str, str]) -> dict[str, str]:
    return {k: env[k] for k in ("JAVA_HOME", "PATH") if k in env}


def _wait_ready(stack: RunningStack, parts: list[Part], *, started: float, deadline: float) -> None:
    pending = {part.name: list(part.probes) for part in parts}
    while True:
        if gone := stack.exited():
            name, code = gone
            raise StackError(f"{name} berhenti saat mulai / exited during start-up (code {code}); "
                             f"last lines of {stack.log_of(name)}:\n{log_tail(stack.log_of(name))}")
        stack.record_emulator_children()
        for name, probes in pending.items():
            while probes and probes[0]():
                probes.pop(0)
            if not probes and name not in stack.answered_s:
                stack.answered_s[name] = round(time.monotonic() - started, 2)
        if not any(pending.values()):
            return
        if time.monotonic() >= deadline:
            waiting = ", ".join(name for name, probes in pending.items() if probes)
            raise StackError(f"Stack tidak siap tepat waktu / not ready in time; still waiting for: "
                             f"{waiting}. Logs in {stack.state_dir}/")
        time.sleep(0.2)


def _wait_ports_free(ports: dict[str, Endpoint], timeout_s: float = 15.0) -> None:
    if not wait_until(lambda: not any(port_is_busy(ep) for ep in ports.values()),
                      timeout_s=timeout_s, interval_s=0.1):
        busy = [f"{ep.port} ({name}: {port_owner(ep.port)})"
                for name, ep in ports.items() if port_is_busy(ep)]
        raise StackError("Port masih dipakai / ports still in use after stopping: " + ", ".join(busy))


def _tcp(ep: Endpoint) -> Callable[[], bool]:
    return lambda: tcp_answers(ep)


def _http(url: str) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            requests.get(url, timeout=1)
            return True
        except requests.RequestException:
            return False
    return probe


def _hub_lists_emulators(hub: Endpoint) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            running = requests.get(f"{hub.url}/emulators", timeout=1).json()
        except (requests.RequestException, ValueError):
            return False
        return all(name in running for name in FIREBASE_EMULATORS)
    return probe
