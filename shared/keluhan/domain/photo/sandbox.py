"""Run the pixel work on an untrusted upload in a forked child under a hard CPU and time budget."""

from __future__ import annotations

import faulthandler
import gc
import os
import resource
import select
import signal
import time
from collections.abc import Callable

# Exit codes of the child besides 0.
_FAILED = 70


class OverBudget(Exception):
    """The child used up its CPU seconds or its wall-clock time and was killed."""


class ChildFailed(Exception):
    """The child died without an answer (an exception, or a crash inside a C decoder)."""


def run_in_child(work: Callable[[], bytes], *, cpu_s: int, wall_s: float) -> bytes:
    """`work()`'s bytes, computed in a forked child that the kernel stops after `cpu_s` CPU
    seconds (RLIMIT_CPU) and that is killed after `wall_s` seconds of wall-clock time.

    No Python-level check can interrupt libjpeg or zlib mid-call; a separate process can be
    stopped whatever it runs, and a crash in a decoder takes only the child down. `work` must
    touch no lock, client or thread of the parent (only the forking thread lives on in the
    child): the child runs it, writes its answer and `_exit`s. Where fork does not exist,
    `work` runs inline with no budget.
    """
    if not hasattr(os, "fork"):
        return work()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller's stack
        os.close(read_end)
        _child(work, write_end, cpu_s)
    os.close(write_end)
    timed_out = True  # until the whole answer is read
    try:
        answer, timed_out = _read_until(read_end, time.monotonic() + wall_s)
    finally:
        os.close(read_end)
        if timed_out:
            _kill(pid)
        _, status = os.waitpid(pid, 0)
    if timed_out or os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGXCPU, signal.SIGKILL):
        raise OverBudget(f"over {cpu_s} s CPU or {wall_s} s wall clock")
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return answer
    if os.WIFSIGNALED(status):
        raise ChildFailed(f"killed by {signal.Signals(os.WTERMSIG(status)).name}")
    raise ChildFailed(answer.decode(errors="replace") or f"exit status {os.WEXITSTATUS(status)}")


def _child(work: Callable[[], bytes], write_end: int, cpu_s: int) -> None:
    code = _FAILED
    try:
        gc.disable()  # a short life: no collector pass copying the parent's heap page by page
        faulthandler.disable()  # a crash is the parent's to report, not a dump of its stack
        # Soft limit: SIGXCPU; the hard limit a second later: SIGKILL, should it be caught.
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
        answer = work()
        code = 0
    except BaseException as exc:  # everything ends in _exit below, never in the parent's code
        answer = f"{type(exc).__name__}: {exc}".encode()
    try:
        view = memoryview(answer)
        while view:
            view = view[os.write(write_end, view):]
    finally:
        os._exit(code)


def _read_until(fd: int, deadline: float) -> tuple[bytes, bool]:
    """Everything written to `fd` until EOF, and whether the deadline came first."""
    chunks: list[bytes] = []
    poller = select.poll()  # not select(): a busy server may hand out descriptors over 1024
    poller.register(fd, select.POLLIN)
    while (left := deadline - time.monotonic()) > 0:
        if not poller.poll(left * 1000):
            break
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)
    return b"".join(chunks), True


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
