"""The log bridge under threads: a replaced callback is never called again, and fork never hangs a child.

Each case runs in a fresh interpreter (a crash or a hang there is a failed
case, not a dead test run), with a bound on its time that only a hang reaches.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import List

from conftest import BINDING, REGISTRY

# Library messages go to the portmanager logger at INFO, to a handler that drops
# them; the calls cross into C every time (the manager would remember answers).
PRELUDE = f"""
import ctypes, logging, sys, threading
if {os.environ.get("PORTMANAGER_TEST_INSTALLED") != "1"!r}:
    sys.path.insert(0, {str(BINDING / "src")!r})
import portmanager
from portmanager import _lib

logger = logging.getLogger("portmanager")
logger.addHandler(logging.NullHandler())
logger.propagate = False
logger.setLevel(logging.INFO)
portmanager.sync_log_level()
assert portmanager.log_level() == logging.INFO

handle = ctypes.c_void_p()
assert _lib.lib.pm_registry_open({str(REGISTRY).encode()!r}, ctypes.byref(handle)) == 0
stop = threading.Event()
calls = [0]

def log_forever():
    port = ctypes.c_uint16()
    while not stop.is_set():
        _lib.lib.pm_get_port(handle, b"kafka", 1, b"broker_port", ctypes.byref(port))
        calls[0] += 1
"""

RELOAD = PRELUDE + """
import importlib
loggers = [threading.Thread(target=log_forever) for _ in range(2)]
for t in loggers:
    t.start()
for i in range(10):
    seen = calls[0]
    while calls[0] < seen + 2:  # reload while the bridge is in use (a count, not a clock)
        pass
    importlib.reload(portmanager._log)
stop.set()
for t in loggers:
    t.join()
print("reloaded 10 times while logging")
"""

FORK = PRELUDE + """
import multiprocessing

def child():
    # A logged call through the bridge, then a replacement of the callback.
    port = ctypes.c_uint16()
    assert _lib.lib.pm_get_port(handle, b"kafka", 2, b"broker_port", ctypes.byref(port)) == 0
    portmanager.install_log_bridge()
    assert _lib.lib.pm_get_port(handle, b"kafka", 3, b"broker_port", ctypes.byref(port)) == 0
    sys.exit(0 if port.value == 9392 else 3)

CHILDREN, BATCH, BOUND = int(sys.argv[1]), 10, 10.0
context = multiprocessing.get_context("fork")
loggers = [threading.Thread(target=log_forever) for _ in range(3)]
for t in loggers:
    t.start()
hung = failed = 0
for start in range(0, CHILDREN, BATCH):
    batch = []
    for _ in range(min(BATCH, CHILDREN - start)):
        seen = calls[0]
        while calls[0] < seen + 3:  # fork while the threads log (a count, not a clock)
            pass
        process = context.Process(target=child)
        process.start()
        batch.append(process)
    for process in batch:
        process.join(BOUND)  # a bound only a hung child reaches
        if process.is_alive():
            hung += 1
            process.kill()
            process.join()
        elif process.exitcode != 0:
            failed += 1
stop.set()
for t in loggers:
    t.join()
print(f"children={CHILDREN} hung={hung} failed={failed}")
sys.exit(1 if hung or failed else 0)
"""


def _command(script: str, *args: str) -> List[str]:
    return [sys.executable, "-W", "ignore::DeprecationWarning", "-c", script, *args]


_ENV = dict(os.environ, PYTHONFAULTHANDLER="1")


def test_reloading_the_bridge_while_threads_log_never_crashes() -> None:
    # Before the fix, ctypes freed the old thunk while the library could still
    # call it: every one of 20 such runs died of SIGSEGV. Four runs at a time.
    failures: List[str] = []
    for first in range(0, 20, 4):
        runs = [subprocess.Popen(_command(RELOAD), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_ENV)
                for _ in range(4)]
        for number, run in enumerate(runs, first):
            out, err = run.communicate(timeout=300)
            if run.returncode != 0 or "reloaded 10 times" not in out:
                failures.append(f"run {number}: exit {run.returncode}\n{err[-2000:]}")
    assert failures == [], f"{len(failures)} of 20 runs failed:\n" + "\n".join(failures[:3])


def test_fork_while_threads_log_never_hangs_a_child() -> None:
    # Before the fix, a child forked while another thread held the sink's lock
    # hung on its first logged call (2 of 300).
    result = subprocess.run(_command(FORK, "300"), capture_output=True, text=True, timeout=600, env=_ENV)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "children=300 hung=0 failed=0" in result.stdout
