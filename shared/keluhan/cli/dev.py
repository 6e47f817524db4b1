"""`keluhan dev up|down|check`: the local emulator stack."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, NoReturn

from keluhan.cli import Commands

if TYPE_CHECKING:
    from keluhan.devstack.config import StackConfig


def register(commands: Commands) -> None:
    dev = commands.add_parser("dev", help="the local stack: emulators, functions, stand-ins")
    sub = dev.add_subparsers(dest="dev_command", required=True)

    up = sub.add_parser("up", help="start everything, wait until it answers, stop on Ctrl-C")
    _state_dir_arg(up)
    up.add_argument("--config", type=Path, help="emulators.json to use (default: the repo's)")
    up.add_argument("--functions-dir", type=Path, help="where <name>/main.py live (default: functions/)")
    up.add_argument("--detach", action="store_true", help="return once ready; stop with `keluhan dev down`")
    up.add_argument("--demo", action="store_true", help="run `keluhan demo` once ready, then stay up")
    up.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for readiness")
    up.set_defaults(func=_up)

    down = sub.add_parser("down", help="stop what `up` started (by PID, JVMs included)")
    _state_dir_arg(down)
    down.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a clean stop")
    down.set_defaults(func=_down)

    check = sub.add_parser("check", help="check that Node, the Firebase CLI, Java and the emulators are installed")
    check.set_defaults(func=_check)


def _state_dir_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state-dir", type=Path,
                        help="PIDs, logs and emulator debug logs (default: .devstack/ in the repo)")


def _interrupt(signum: int, frame: FrameType | None) -> NoReturn:
    raise KeyboardInterrupt


def _up(args: argparse.Namespace) -> int:
    from keluhan.cli import CliError
    from keluhan.devstack import launcher
    from keluhan.devstack.config import EMULATORS_JSON
    from keluhan.devstack.java import MissingTool
    from keluhan.devstack.processes import StackError

    # Ctrl-C, `kill` and `keluhan dev down` all stop cleanly (a shell's `&` would ignore SIGINT).
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _interrupt)
    print("Menyalakan stack lokal / starting the local stack…", flush=True)
    try:
        stack = launcher.start_stack(
            args.config or EMULATORS_JSON,
            args.state_dir or launcher.DEFAULT_STATE_DIR,
            functions_dir=args.functions_dir or launcher.FUNCTIONS_DIR,
            timeout_s=args.timeout,
            foreground=not args.detach,
        )
    except (StackError, MissingTool) as exc:
        raise CliError(str(exc)) from None
    except KeyboardInterrupt:
        # Ctrl-C landed inside start-up (possibly just after the stack said ready): start_stack has
        # already stopped whatever it started, so this is the same clean stop as later on.
        print("Dihentikan saat menyala / stopped during start-up; every port is free.", flush=True)
        return 0
    code = 0
    try:
        print(stack.describe(), flush=True)
        if args.demo:
            code = _demo(stack.config)
        if args.detach:
            print(f"Running in the background; stop with: keluhan dev down --state-dir {stack.state_dir}")
            return code
        print("Ctrl-C menghentikan semuanya / Ctrl-C stops everything.", flush=True)
        code = stack.supervise() or code
    except KeyboardInterrupt:
        pass
    finally:
        if not args.detach:
            for sig in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not cut the stop short
                signal.signal(sig, signal.SIG_IGN)
            print("Menghentikan / stopping…", flush=True)
            try:
                took = stack.stop()
            except StackError as exc:
                raise CliError(str(exc)) from None
            print(f"Stopped in {took:.1f} s; every port is free.", flush=True)
    return code


def _demo(config: StackConfig) -> int:
    try:
        from keluhan.cli.demo import run_demo
    except ImportError:
        print("keluhan demo is not available yet; the stack stays up.", file=sys.stderr)
        return 0
    try:
        return int(run_demo(config) or 0)
    except Exception as exc:  # a failing demo must not take the stack down with it
        print(f"Demo gagal / demo failed: {exc!r}; the stack stays up.", file=sys.stderr)
        return 1


def _down(args: argparse.Namespace) -> int:
    from keluhan.cli import CliError
    from keluhan.devstack import launcher
    from keluhan.devstack.processes import StackError

    state_dir = args.state_dir or launcher.DEFAULT_STATE_DIR
    started = time.monotonic()
    try:
        stopped = launcher.stop_stack(state_dir, timeout_s=args.timeout)
    except StackError as exc:
        raise CliError(str(exc)) from None
    if not stopped:
        print(f"Tidak ada yang berjalan / nothing running from {state_dir}.")
    else:
        print(f"Stopped {len(stopped)} processes in {time.monotonic() - started:.1f} s: "
              + ", ".join(stopped))
    return 0


def _check(args: argparse.Namespace) -> int:
    from keluhan.cli import CliError
    from keluhan.devstack.java import MissingTool, find_tools

    try:
        tools = find_tools()
    except MissingTool as exc:
        raise CliError(str(exc)) from None
    print(f"firebase: {tools.firebase}\njava: {tools.java_home}/bin/java\n"
          f"firestore emulator: {tools.firestore_jar}\npubsub emulator: {tools.pubsub_emulator}")
    return 0
