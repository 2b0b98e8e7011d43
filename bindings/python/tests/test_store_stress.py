"""Crash safety and contention of the reservation store, through ctypes in forked processes.

crash:      a process reserving and releasing in a loop is SIGKILLed at a random point, 200
            times; after each kill the database passes PRAGMA integrity_check, every
            reservation holds all its ports or none, and listing works; `status` at the end.
contention: 50 processes x 20 reserve/release cycles (make test; benchmarks/reservations/run.sh
            stress runs the full 50 x 200, which takes minutes on a busy 2-core machine) of random
            services from two registries that name the same ports differently; each holder takes
            an O_EXCL marker file per port while it believes it holds it, so two holders of one
            port are seen independently of the store. Sizes: $PORTMANAGER_STRESS_PROCESSES and
            $PORTMANAGER_STRESS_CYCLES.

The kill points come from a seeded generator; nothing waits on time: the parent kills after
reading a chosen number of progress bytes from the child.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

import portmanager
from conftest import REPO

# Two registries naming the same host ports differently: "aa" 44000.., "bb" 44000-44001 (a range), "cc" 44001..
REGISTRY_ONE = ("aa:\n  port: 44000\n  instance_increment: 10\n  max_instances: 4\n"
                "cc:\n  port: 44001\n  instance_increment: 10\n  max_instances: 4\n")
REGISTRY_TWO = "bb:\n  both_port: \"44000-44001\"\n  extra_port: 44500\n  instance_increment: 10\n  max_instances: 4\n"
PORTS_PER_SERVICE = {"aa": 1, "cc": 1, "bb": 3}


def managers() -> List[Tuple[portmanager.PortManager, str]]:
    one = portmanager.PortManager.from_yaml(REGISTRY_ONE)
    two = portmanager.PortManager.from_yaml(REGISTRY_TWO)
    return [(one, "aa"), (one, "cc"), (two, "bb")]


def check_store(state: Path) -> int:
    """Integrity and wholeness; returns the number of reservations."""
    with sqlite3.connect(state / "reservations.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        rows = db.execute(
            "SELECT r.service, r.instance, count(p.port) FROM reservation r LEFT JOIN port p ON p.reservation = r.id "
            "GROUP BY r.id").fetchall()
        orphans = db.execute(
            "SELECT count(*) FROM port WHERE reservation NOT IN (SELECT id FROM reservation)").fetchone()[0]
    assert orphans == 0
    for service, instance, count in rows:
        assert count == PORTS_PER_SERVICE[service], (service, instance, count)
    return len(rows)


def crash_worker(state: Path, seed: int, progress: int) -> None:
    """Child: reserve and release named reservations forever, one progress byte per call."""
    rng = random.Random(seed)
    pairs = managers()
    while True:
        manager, service = rng.choice(pairs)
        try:
            if rng.random() < 0.6:
                manager.reserve(service, owner=f"owner-{rng.randrange(8)}", probe=False, state_dir=state)
            else:
                manager.release(service, rng.randrange(4), force=True, state_dir=state)
        except (portmanager.ReservedError, portmanager.NotOwnerError):
            pass
        os.write(progress, b".")


def test_crash_safety_under_sigkill(tmp_path: Path) -> None:
    state = tmp_path / "state"
    rng = random.Random(20261129)
    one = portmanager.PortManager.from_yaml(REGISTRY_ONE)
    one.reservations(state_dir=state)  # creates the store
    for trial in range(200):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            os.close(read_end)
            try:
                crash_worker(state, trial, write_end)
            finally:
                os._exit(70)
        os.close(write_end)
        wanted = rng.randrange(1, 40)
        got = 0
        while got < wanted:
            chunk = os.read(read_end, wanted - got)
            assert chunk, f"trial {trial}: the worker died on its own"
            got += len(chunk)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read_end)
        check_store(state)
        one.reservations(state_dir=state)  # the library reads it too
    # After all that, `status` works from the CLI.
    cli = REPO / "build" / "bin" / "portmanager"
    if cli.exists():
        registry = tmp_path / "one.yaml"
        registry.write_text(REGISTRY_ONE)
        result = subprocess.run([str(cli), "status", "--json", "--registry", str(registry), "--state-dir", str(state)],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert {row["state"] for row in json.loads(result.stdout)} <= {"reserved", "in_use", "free"}


def contention_worker(state: Path, markers: Path, seed: int, cycles: int) -> int:
    """Child: `cycles` reserve/release cycles; returns the number of double holds seen."""
    rng = random.Random(seed)
    pairs = managers()
    doubles = 0
    done = 0
    while done < cycles:
        manager, service = rng.choice(pairs)
        try:
            reservation = manager.reserve(service, probe=False, state_dir=state)
        except portmanager.ReservedError:
            continue  # every instance taken at this moment: try again
        info = next(r for r in manager.reservations(service, state_dir=state) if r.instance == reservation.instance)
        taken = []
        for port in info.host_ports:
            try:
                os.close(os.open(markers / str(port), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
                taken.append(port)
            except FileExistsError:
                doubles += 1
        for port in taken:
            os.unlink(markers / str(port))
        reservation.release()
        done += 1
    return doubles


def test_contention_never_gives_one_port_to_two_owners(tmp_path: Path) -> None:
    processes = int(os.environ.get("PORTMANAGER_STRESS_PROCESSES", "50"))
    cycles = int(os.environ.get("PORTMANAGER_STRESS_CYCLES", "20"))
    state, markers = tmp_path / "state", tmp_path / "markers"
    markers.mkdir()
    portmanager.PortManager.from_yaml(REGISTRY_ONE).reservations(state_dir=state)
    children: Dict[int, int] = {}
    for index in range(processes):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            code = 70
            try:
                code = min(contention_worker(state, markers, index, cycles), 60)
            finally:
                os._exit(code)
        children[pid] = index
    failures = {}
    for pid, index in children.items():
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            failures[index] = os.waitstatus_to_exitcode(status)
    assert failures == {}, f"workers that saw a port held twice (count) or failed (70): {failures}"
    assert check_store(state) == 0  # every process released, or ended
    assert os.listdir(markers) == []
