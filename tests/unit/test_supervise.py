"""The stack's supervisor restarts a process that dies, as Cloud Run restarts a container."""

from __future__ import annotations

import signal
import subprocess
import sys

import psutil

from keluhan.devstack.processes import wait_until


def _child_of(supervisor: subprocess.Popen) -> psutil.Process | None:
    children = psutil.Process(supervisor.pid).children()
    return children[0] if children else None


def test_a_killed_process_is_started_again_and_sigterm_stops_both(tmp_path):
    marker = tmp_path / "starts"
    script = f"import time; open({str(marker)!r}, 'a').write('x'); time.sleep(60)"
    supervisor = subprocess.Popen([sys.executable, "-m", "keluhan.devstack.supervise", "--",
                                   sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    try:
        assert wait_until(lambda: marker.exists() and _child_of(supervisor) is not None, timeout_s=10)
        first = _child_of(supervisor)
        first.send_signal(signal.SIGKILL)  # a crash: no goodbye
        assert wait_until(lambda: marker.read_text() == "xx", timeout_s=10)
        second = _child_of(supervisor)
        assert second is not None and second.pid != first.pid
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=15) == 0
        assert wait_until(lambda: not second.is_running() or second.status() == psutil.STATUS_ZOMBIE,
                          timeout_s=5)
        assert "restarting" in supervisor.stderr.read()
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
