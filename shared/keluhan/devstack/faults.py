"""Faults injected into a running local stack: crash a process, restart Pub/Sub, duplicate pushes.

- `kill_part(state_dir, name)`: SIGKILL of the process group a supervisor runs (a function's
  gunicorn master and workers, or the Pub/Sub emulator's JVM); the supervisor starts it again,
  as Cloud Run replaces a crashed instance. A restarted Pub/Sub emulator is empty: whatever it
  held is lost, and its supervisor creates the topics and subscriptions again.
- `DuplicatingPushProxy`: every push subscription is pointed at a local proxy that delivers
  each message to the function three times, each copy after its own random delay (so the
  copies of different messages interleave out of order). The first copy's answer is the one
  Pub/Sub gets, so retries and dead-lettering still work; the extra copies are what a broker's
  at-least-once redelivery looks like to a handler.
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import requests

from keluhan import topology
from keluhan.devstack.config import StackConfig
from keluhan.devstack.processes import ProcessRecord, wait_until
from keluhan.devstack.pubsub_bootstrap import admin_clients, push_endpoint


def supervised_child(state_dir: Path, name: str) -> psutil.Process | None:
    """The process a recorded supervisor (`fn-<function>`, `pubsub`) currently runs."""
    data = json.loads((Path(state_dir) / "stack.json").read_text())
    for d in data["processes"]:
        if d["name"] == name and (proc := ProcessRecord.from_dict(d).find()):
            children = proc.children()
            return children[0] if children else None
    return None


def kill_part(state_dir: Path, name: str) -> bool:
    """SIGKILL the whole process group of a supervised part; True if there was one to kill."""
    child = supervised_child(state_dir, name)
    if child is None:
        return False
    try:
        os.killpg(child.pid, signal.SIGKILL)  # the child leads its own session and group
        return True
    except ProcessLookupError:
        return False


def wait_restarted(state_dir: Path, name: str, old_pid: int | None, *, timeout_s: float = 60) -> bool:
    return wait_until(lambda: (c := supervised_child(state_dir, name)) is not None and c.pid != old_pid,
                      timeout_s=timeout_s, interval_s=0.1)


class DuplicatingPushProxy:
    """An HTTP proxy between Pub/Sub push and the functions: each push delivered `copies` times."""

    def __init__(self, config: StackConfig, *, copies: int = 3, max_delay_s: float = 1.5, seed: int = 3):
        self.config, self.copies, self.max_delay_s = config, copies, max_delay_s
        self.rng = random.Random(seed)
        self.pushes = self.extra_deliveries = 0
        self._lock = threading.Lock()
        self._extra = ThreadPoolExecutor(max_workers=16, thread_name_prefix="dup")
        self._http = requests.Session()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = proxy._deliver(self.path, body, self.headers.get("Content-Type", "application/json"))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base's name)
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _target(self, path: str) -> str:
        function, rest = path.lstrip("/").split("/", 1)
        return f"{self.config.functions[function].url}/{rest}"

    def _post(self, url: str, body: bytes, ctype: str) -> int:
        try:
            return self._http.post(url, data=body, headers={"Content-Type": ctype}, timeout=60).status_code
        except requests.RequestException:
            return 503

    def _deliver(self, path: str, body: bytes, ctype: str) -> int:
        url = self._target(path)
        with self._lock:
            self.pushes += 1
            delays = [self.rng.uniform(0, self.max_delay_s) for _ in range(self.copies)]
        for delay in delays[1:]:
            self._extra.submit(self._later, delay, url, body, ctype)
        threading.Event().wait(delays[0] / 5)  # the answered copy too arrives a little shuffled
        return self._post(url, body, ctype)

    def _later(self, delay: float, url: str, body: bytes, ctype: str) -> None:
        threading.Event().wait(delay)
        self._post(url, body, ctype)
        with self._lock:
            self.extra_deliveries += 1

    def point_subscriptions(self, *, through_proxy: bool) -> None:
        """Every push subscription to the proxy (or back to its function)."""
        publisher, subscriber = admin_clients(self.config)
        with publisher, subscriber:  # leaving closes both transports
            for sub in topology.subscriptions():
                endpoint = push_endpoint(self.config, sub)
                if through_proxy:
                    endpoint = endpoint.replace(self.config.functions[sub.function].url,
                                                f"{self.url}/{sub.function}")
                subscriber.modify_push_config(request={
                    "subscription": f"projects/{self.config.project}/subscriptions/{sub.name}",
                    "push_config": {"push_endpoint": endpoint}})

    @contextmanager
    def running(self) -> Iterator[DuplicatingPushProxy]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            self.point_subscriptions(through_proxy=True)
            yield self
        finally:
            try:
                self.point_subscriptions(through_proxy=False)
            finally:
                self.server.shutdown()
                self._extra.shutdown(wait=False, cancel_futures=True)
