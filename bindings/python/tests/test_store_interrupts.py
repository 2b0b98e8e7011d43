"""The store from Python: a logging handler that reserves, and a reserve interrupted by Ctrl-C.

Each case that could hang runs in a fresh interpreter with a bound on its time
that only a hang reaches (before the fix, the handler's reserve waited forever
for the lock its own caller held).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BINDING, REGISTRY

import portmanager
from portmanager import _lib

PRELUDE = f"""
import logging, sys
if {os.environ.get("PORTMANAGER_TEST_INSTALLED") != "1"!r}:
    sys.path.insert(0, {str(BINDING / "src")!r})
import portmanager
pm = portmanager.PortManager({str(REGISTRY)!r})
state = sys.argv[1]
"""

HANDLER_RESERVES = PRELUDE + """
inner = []

class Reserving(logging.Handler):
    def emit(self, record):
        if record.getMessage().startswith("port_manager_reserved service=kafka "):
            with pm.reserve("redis", 3, owner="inner", probe=False, state_dir=state) as reservation:
                inner.append(reservation.instance)

logger = logging.getLogger("portmanager")
logger.addHandler(Reserving())
logger.propagate = False
logger.setLevel(logging.INFO)
portmanager.sync_log_level()
with pm.reserve("kafka", 2, owner="outer", probe=False, state_dir=state):
    pass
print("inner", inner, "left", len(pm.reservations(state_dir=state)))
"""


def test_a_logging_handler_that_reserves_returns(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", HANDLER_RESERVES, str(tmp_path)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "inner [3] left 0" in result.stdout, result.stdout + result.stderr[-3000:]


def test_an_interrupt_after_the_reserve_committed_releases_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The Ctrl-C that arrived during pm_reserve_instance is raised when it returns: before
    # the fix, the committed reservation stayed with nobody knowing of it.
    real = _lib.lib.pm_reserve_instance
    calls = []

    def interrupted(*arguments):
        status = real(*arguments)
        calls.append(status)
        raise KeyboardInterrupt

    with portmanager.PortManager(REGISTRY) as pm:
        monkeypatch.setattr(_lib.lib, "pm_reserve_instance", interrupted)
        with pytest.raises(KeyboardInterrupt):
            pm.reserve("kafka", 1, owner="workflow-7", probe=False, state_dir=tmp_path)
        with pytest.raises(KeyboardInterrupt):
            pm.reserve("kafka", None, owner=portmanager.CONTAINER_NAME, probe=False, state_dir=tmp_path)
        monkeypatch.setattr(_lib.lib, "pm_reserve_instance", real)
        assert calls == [0, 0]
        assert pm.reservations(state_dir=tmp_path) == []
        # A retry by the owner (not fresh) that is interrupted leaves the owner's reservation alone.
        pm.reserve("kafka", 2, owner="workflow-7", probe=False, state_dir=tmp_path)
        monkeypatch.setattr(_lib.lib, "pm_reserve_instance", interrupted)
        with pytest.raises(KeyboardInterrupt):
            pm.reserve("kafka", 2, owner="workflow-7", probe=False, state_dir=tmp_path)
        monkeypatch.setattr(_lib.lib, "pm_reserve_instance", real)
        assert [(r.instance, r.owner) for r in pm.reservations(state_dir=tmp_path)] == [(2, "workflow-7")]


WAITS_FOR_THE_STORE = PRELUDE + """
import signal
# Ctrl-C raises KeyboardInterrupt even when this interpreter inherited SIGINT
# ignored (Python then keeps SIG_IGN): a background job of a non-interactive
# shell, as make test's lanes are, starts that way.
signal.signal(signal.SIGINT, signal.default_int_handler)
from portmanager import _lib
real = _lib.lib.pm_reserve_instance

def announced(*arguments):
    print("entered", flush=True)
    return real(*arguments)

_lib.lib.pm_reserve_instance = announced
try:
    pm.reserve("kafka", 4, owner="workflow-9", probe=False, state_dir=state)
    print("returned", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


def test_ctrl_c_while_waiting_for_the_store_leaves_no_reservation(tmp_path: Path) -> None:
    with portmanager.PortManager(REGISTRY) as pm:
        pm.reserve("kafka", 0, owner="setup", probe=False, state_dir=tmp_path).release()  # creates the store
    # Another process holds the store's write lock, so the reserve waits in C.
    holder = sqlite3.connect(str(tmp_path / "reservations.db"), isolation_level=None, timeout=120)
    holder.execute("BEGIN IMMEDIATE")
    child = subprocess.Popen([sys.executable, "-c", WAITS_FOR_THE_STORE, str(tmp_path)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "entered"
        # A short pause so the call is inside C's wait (if the signal came earlier,
        # there would be nothing to leak, and the test would pass without testing).
        import time
        time.sleep(0.3)
        child.send_signal(signal.SIGINT)
        time.sleep(0.2)
        holder.execute("ROLLBACK")  # the reserve now commits, then Python raises the Ctrl-C
        out, err = child.communicate(timeout=60)
    finally:
        holder.close()
        if child.poll() is None:
            child.kill()
    assert out.strip() == "interrupted", out + err[-3000:]
    with portmanager.PortManager(REGISTRY) as pm:
        assert pm.reservations(state_dir=tmp_path) == []
