"""Processes of the local stack: free ports, spawning with log files, stopping by recorded PID."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

import psutil

from keluhan.devstack.config import Endpoint


class StackError(RuntimeError):
    """The stack could not start or stop; the message says why."""


class ProcessRecordDict(TypedDict):
    """A ProcessRecord as stack.json holds it."""

    name: str
    pid: int
    create_time: float
    cmdline: list[str]
    kind: str
    log: str


@dataclass(frozen=True)
class ProcessRecord:
    """Enough to find a process again later, and to tell it from a reused PID."""

    name: str
    pid: int
    create_time: float
    cmdline: list[str]
    kind: str = "process"  # "firebase", "jvm" (an emulator child of firebase), "launcher"
    log: str = ""

    @classmethod
    def of(cls, proc: psutil.Process, name: str, kind: str = "process", log: str = "") -> ProcessRecord:
        # Right after a (v)fork+exec the child may not show its new command line yet: wait for it.
        wait_until(lambda: bool(proc.cmdline()) or not proc.is_running(), timeout_s=2, interval_s=0.005)
        return cls(name, proc.pid, proc.create_time(), proc.cmdline(), kind, log)

    @classmethod
    def from_dict(cls, d: ProcessRecordDict) -> ProcessRecord:
        return cls(**d)

    def to_dict(self) -> ProcessRecordDict:
        return ProcessRecordDict(name=self.name, pid=self.pid, create_time=self.create_time,
                                 cmdline=list(self.cmdline), kind=self.kind, log=self.log)

    def find(self) -> psutil.Process | None:
        """The live process this record names, or None if it is gone or the PID was reused."""
        try:
            proc = psutil.Process(self.pid)
            with proc.oneshot():
                same = (abs(proc.create_time() - self.create_time) < 0.05
                        and _same_command(self.cmdline, proc.cmdline()))
                return proc if same and not _gone(proc) else None
        except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            return None


def _same_command(recorded: list[str], current: list[str]) -> bool:
    # The current command line may be the recorded one's tail: `/usr/bin/env node x` execs `node x`.
    return bool(current) and recorded[-len(current):] == current


def port_is_busy(ep: Endpoint) -> bool:
    """True if something listens on the endpoint (binding like a server would fails)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((ep.host, ep.port))
        except OSError:
            return True
    return False


def port_owner(port: int) -> str:
    """Who listens on a port: "pid N (command line)", for error messages."""
    try:
        conns = psutil.net_connections(kind="inet")
    except psutil.AccessDenied:
        conns = []
    pids = {c.pid for c in conns
            if c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN and c.pid}
    owners = []
    for pid in sorted(pids):
        try:
            command = " ".join(" ".join(psutil.Process(pid).cmdline()).split())
            owners.append(f"pid {pid} ({command[:160]})")
        except psutil.Error:
            owners.append(f"pid {pid}")
    return ", ".join(owners) or "proses tak dikenal / an unknown process (another user's, or closing)"


def tcp_answers(ep: Endpoint, timeout_s: float = 0.5) -> bool:
    try:
        with socket.create_connection((ep.host, ep.port), timeout=timeout_s):
            return True
    except OSError:
        return False


def spawn(argv: list[str], *, log: Path, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """Start a process in its own session (Ctrl-C in the terminal must not reach it), logging to a file."""
    with open(log, "wb") as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, cwd=cwd, start_new_session=True)


def log_tail(path: Path | str, lines: int = 30) -> str:
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def wait_until(check: Callable[[], bool], *, timeout_s: float, interval_s: float = 0.1) -> bool:
    """Poll `check` until it is true or the time is up (bounded; no bare sleeps elsewhere)."""
    deadline = time.monotonic() + timeout_s
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)


def descendants(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return proc.children(recursive=True)
    except psutil.Error:
        return []


@dataclass
class _Target:
    record: ProcessRecord
    proc: psutil.Process
    children: list[psutil.Process] = field(default_factory=list)


def stop_records(records: Iterable[ProcessRecord], *, timeout_s: float = 30.0) -> list[str]:
    """Stop exactly the recorded processes still alive (and whatever they spawned); names stopped.

    Functions, watcher, receiver and storage get SIGTERM; firebase gets SIGINT so it shuts its
    emulators down itself; JVMs still running after that (e.g. firebase was killed) get SIGTERM,
    then anything left gets SIGKILL.
    """
    targets = [_Target(r, p, descendants(p)) for r in records if (p := r.find()) is not None]
    firebase_alive = any(t.record.kind == "firebase" for t in targets)
    for t in targets:
        if t.record.kind == "firebase":
            _signal(t.proc, signal.SIGINT)
        elif t.record.kind != "jvm" or not firebase_alive:
            _signal(t.proc, signal.SIGTERM)
    everything = _unique([t.proc for t in targets] + [c for t in targets for c in t.children])
    if not wait_until(lambda: all(_gone(p) for p in everything), timeout_s=timeout_s, interval_s=0.1):
        leftover = [p for p in everything if not _gone(p)]
        for p in leftover:
            _signal(p, signal.SIGTERM)
        if not wait_until(lambda: all(_gone(p) for p in leftover), timeout_s=5, interval_s=0.1):
            for p in leftover:
                _signal(p, signal.SIGKILL)
            wait_until(lambda: all(_gone(p) for p in leftover), timeout_s=5, interval_s=0.1)
    for p in everything:
        _reap(p.pid)
    return [t.record.name for t in targets]


def _unique(procs: list[psutil.Process]) -> list[psutil.Process]:
    seen: dict[int, psutil.Process] = {}
    for p in procs:
        seen.setdefault(p.pid, p)
    return list(seen.values())


def _signal(proc: psutil.Process, sig: int) -> None:
    try:
        proc.send_signal(sig)  # psutil checks the PID still names the same process
    except psutil.Error:
        pass


def _gone(proc: psutil.Process) -> bool:
    # A zombie has exited; it only waits for its parent (maybe us) to reap it.
    try:
        return not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return True


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
