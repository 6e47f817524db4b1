"""Counting the Firestore operations a process makes: a thin wrapper around the Firestore client.

Enabled only in the local stack (`KELUHAN_FIRESTORE_COUNTS_DIR`, set per function process by
`keluhan.devstack.launcher`): the client's GAPIC API is wrapped so that every RPC is counted as
Firestore bills it, and the process writes its totals to `<dir>/<name>-<pid>.json` (twice a
second while it changes, and at exit). `keluhan bench pipeline` reads the files before and
after a run. Counted:

- `reads`: one per document a lookup answers (found or missing) and per document a query
  returns, at least one per query or aggregation (as billed);
- `writes`: one per write in a commit that succeeded (a batch's or a transaction's);
- `transactions`: one per transaction begun (a retried transaction counts each attempt);
- `commits`, `queries`, `lookups`: the round trips behind them; `failed_commits` (a batch of
  creates that lost a race, a transaction in contention) write nothing and are not billed.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from google.cloud import firestore

COUNTS_DIR_ENV = "KELUHAN_FIRESTORE_COUNTS_DIR"
COUNTS_NAME_ENV = "KELUHAN_FIRESTORE_COUNTS_NAME"
KINDS = ("reads", "writes", "transactions", "commits", "failed_commits", "queries", "lookups")
FLUSH_EVERY_S = 0.5


class OpCounter:
    """Per-process totals, written to one file atomically while they change."""

    def __init__(self, path: Path | None = None):
        self.path = path
        self._counts = dict.fromkeys(KINDS, 0)
        self._lock = threading.Lock()
        self._dirty = threading.Event()
        self._flushing = threading.Lock()

    def add(self, **counts: int) -> None:
        with self._lock:
            for kind, n in counts.items():
                self._counts[kind] += n
        self._dirty.set()

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def flush(self) -> None:
        if self.path is None:
            return
        with self._flushing:  # one writer at a time: the flusher thread and the exit hook
            self._dirty.clear()
            tmp = self.path.with_name(f".{self.path.name}.tmp")
            tmp.write_text(json.dumps(self.snapshot()))
            tmp.replace(self.path)

    def start_flushing(self) -> None:
        """A daemon thread writes the file twice a second while counts change; once more at exit."""
        self.flush()

        def loop() -> None:
            while self._dirty.wait():
                try:
                    self.flush()
                except OSError:
                    pass  # the state dir is being removed: nothing left to read the counts
                time.sleep(FLUSH_EVERY_S)

        threading.Thread(target=loop, name="firestore-op-counter", daemon=True).start()
        atexit.register(self.flush)


class _CountingApi:
    """The GAPIC Firestore API with each billed RPC counted; everything else passed through."""

    def __init__(self, api: Any, counter: OpCounter):  # Any: the GAPIC FirestoreClient, called by name
        self._api = api
        self._counter = counter

    def __getattr__(self, name: str) -> Any:  # Any: whatever the GAPIC client has
        return getattr(self._api, name)

    def batch_get_documents(self, *args: Any, **kwargs: Any) -> Iterator[Any]:  # Any: GAPIC's signature
        self._counter.add(lookups=1)
        for response in self._api.batch_get_documents(*args, **kwargs):
            if response.found or response.missing:
                self._counter.add(reads=1)
            yield response

    def run_query(self, *args: Any, **kwargs: Any) -> Iterator[Any]:  # Any: GAPIC's signature
        returned = 0
        try:
            for response in self._api.run_query(*args, **kwargs):
                if response.document and response.document.name:
                    returned += 1
                    self._counter.add(reads=1)
                yield response
        finally:
            self._counter.add(queries=1, reads=0 if returned else 1)  # an empty answer costs one read

    def run_aggregation_query(self, *args: Any, **kwargs: Any) -> Iterator[Any]:  # Any: GAPIC's signature
        self._counter.add(queries=1, reads=1)  # one read per up to 1,000 index entries: at least one
        yield from self._api.run_aggregation_query(*args, **kwargs)

    def begin_transaction(self, *args: Any, **kwargs: Any) -> Any:  # Any: GAPIC's signature
        self._counter.add(transactions=1)
        return self._api.begin_transaction(*args, **kwargs)

    def commit(self, *args: Any, **kwargs: Any) -> Any:  # Any: GAPIC's signature
        request = kwargs.get("request", args[0] if args else {})
        writes = request.get("writes", []) if isinstance(request, Mapping) else request.writes
        try:
            response = self._api.commit(*args, **kwargs)
        except Exception:
            self._counter.add(failed_commits=1)  # nothing written, nothing billed; worth seeing
            raise
        self._counter.add(commits=1, writes=len(writes))
        return response


class CountingClient(firestore.Client):
    """A Firestore client whose RPCs are counted in `counter`."""

    _counted_api: _CountingApi | None = None

    def __init__(self, *args: Any, counter: OpCounter, **kwargs: Any):  # Any: firestore.Client's own
        super().__init__(*args, **kwargs)
        self.counter = counter

    @property
    def _firestore_api(self) -> Any:  # Any: as the base property
        if self._counted_api is None:
            self._counted_api = _CountingApi(super()._firestore_api, self.counter)
        return self._counted_api


_process_counters: dict[Path, OpCounter] = {}
_process_counters_lock = threading.Lock()


def process_counter(path: Path) -> OpCounter:
    """The one counter of this process for `path`, flushing: two first requests racing to build
    their dependencies share it instead of overwriting each other's file."""
    with _process_counters_lock:
        if path not in _process_counters:
            path.parent.mkdir(parents=True, exist_ok=True)
            _process_counters[path] = OpCounter(path)
            _process_counters[path].start_flushing()
        return _process_counters[path]


def firestore_client(project: str, environ: Mapping[str, str] = os.environ) -> firestore.Client:
    """The functions' Firestore client: counting when the local stack asks for it, plain otherwise."""
    counts_dir = environ.get(COUNTS_DIR_ENV)
    if not counts_dir:
        return firestore.Client(project=project)
    name = environ.get(COUNTS_NAME_ENV, "process")
    counter = process_counter(Path(counts_dir) / f"{name}-{os.getpid()}.json")
    return CountingClient(project=project, counter=counter)


def read_counts(counts_dir: Path) -> dict[str, dict[str, int]]:
    """Every process's totals in the dir, summed per name (the `<name>-<pid>.json` files)."""
    totals: dict[str, dict[str, int]] = {}
    for path in sorted(Path(counts_dir).glob("*.json")):
        name = path.stem.rsplit("-", 1)[0]
        try:
            counts = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # replaced between glob and read: the next reading has it
        into = totals.setdefault(name, dict.fromkeys(KINDS, 0))
        for kind in KINDS:
            into[kind] += int(counts.get(kind, 0))
    return totals
