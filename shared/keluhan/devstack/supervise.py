"""Keep one process of the local stack running, as Cloud Run keeps a container: restart it when it dies.

`python -m keluhan.devstack.supervise [--after-start "MODULE ARG..."] -- COMMAND...` runs COMMAND
in its own process group and starts it again (after a short, growing pause) whenever it exits,
until this process gets SIGTERM or SIGINT, which it passes on to the whole group. `--after-start`
runs a module each time the command (re)starts, e.g. the Pub/Sub bootstrap, whose topics and
subscriptions a restarted emulator has forgotten.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from types import FrameType

MIN_PAUSE_S, MAX_PAUSE_S = 0.2, 5.0
HEALTHY_AFTER_S = 10.0  # a child that lived this long starts the pause over


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="keluhan.devstack.supervise")
    parser.add_argument("--after-start", default="", help="module and args to run after each start (one string)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command")
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    pause, starts = MIN_PAUSE_S, 0
    while not stopping:
        started = time.monotonic()
        child = subprocess.Popen(command, start_new_session=True)
        starts += 1
        if starts > 1:
            _say(f"restarted (start {starts}) as pid {child.pid}: {' '.join(command)}")
        if args.after_start:
            subprocess.run([sys.executable, "-m", *shlex.split(args.after_start)], check=False)
        while child.poll() is None and not stopping:
            time.sleep(0.1)
        if stopping:
            _stop(child)
            break
        _say(f"exited with code {child.returncode} after {time.monotonic() - started:.1f} s; restarting")
        pause = MIN_PAUSE_S if time.monotonic() - started > HEALTHY_AFTER_S else min(pause * 2, MAX_PAUSE_S)
        deadline = time.monotonic() + pause
        while time.monotonic() < deadline and not stopping:
            time.sleep(0.05)
    return 0


def _stop(child: subprocess.Popen[bytes], timeout_s: float = 10.0) -> None:
    """SIGTERM to the child's whole group (gunicorn's workers, a wrapper's JVM), SIGKILL if it lingers."""
    for sig, wait_s in ((signal.SIGTERM, timeout_s), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            pass
        try:
            child.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


def _say(text: str) -> None:
    print(f"{datetime.now(UTC).isoformat()} supervise: {text}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
