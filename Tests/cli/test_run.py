"""`portmanager run`: reservations owned by the command's process, end to end.

Two orchestrators that start the same service at the same time must get
different instances; the reservation lasts exactly as long as the command it
runs (the process `run` becomes), not as long as its background children.
"""
from __future__ import annotations

import json
import re
import os
import signal
import subprocess
from pathlib import Path

from conftest import USAGE, clean_environment

UNAVAILABLE = 3

REGISTRY = """\
svc:
  a_port: 42000
  r_port: "42050-42051"
  max_instances: 2
"""


def start_holder(binary: Path, registry: Path, state_dir: Path, *extra: str) -> subprocess.Popen:
    """Starts `run` with a command that prints its variables and waits for stdin to close."""
    process = subprocess.Popen(
        [str(binary), "run", "svc", "--no-probe", "--registry", str(registry), "--state-dir", str(state_dir), *extra,
         "--", "sh", "-c", 'echo "$PORTMANAGER_INSTANCE $SVC_A_PORT $SVC_R_PORT $SVC_CONTAINER_NAME"; exec cat >/dev/null'],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=clean_environment(),
    )
    return process


def test_concurrent_runs_get_different_instances(binary, run, registry_file, tmp_path):
    registry = registry_file(REGISTRY)
    leases = tmp_path / "state"
    first = start_holder(binary, registry, leases)
    try:
        assert first.stdout.readline().split() == ["0", "42000", "42050-42051", "svc"]
        second = start_holder(binary, registry, leases)
        try:
            assert second.stdout.readline().split() == ["1", "42100", "42150-42151", "svc-1"]
            # Both instances are held: a third run is refused with the holder named.
            third = run("run", "svc", "--registry", str(registry), "--state-dir", str(leases), "--", "true")
            assert third.returncode == UNAVAILABLE
            assert "cannot reserve service 'svc': all 2 instances are taken" in third.stderr
            assert f"instance 0 is reserved by process {first.pid}" in third.stderr
            # An explicit instance that is held is refused too.
            held = run("run", "svc", "-i", "1", "--registry", str(registry), "--state-dir", str(leases), "--", "true")
            assert held.returncode == UNAVAILABLE
            assert re.search(rf"instance 1 is reserved by process {second.pid} \('(sh|cat)'\)", held.stderr), held.stderr
        finally:
            second.stdin.close()
            second.wait(timeout=30)
    finally:
        first.stdin.close()
        first.wait(timeout=30)
    # The commands have exited, so their reservations are over.
    again = run("run", "svc", "--no-probe", "--registry", str(registry), "--state-dir", str(leases), "--", "sh", "-c", "echo $PORTMANAGER_INSTANCE")
    assert again.returncode == 0, again.stderr
    assert again.stdout == "0\n"


def test_the_commands_exit_status_is_kept(run, registry_file, tmp_path):
    registry = registry_file(REGISTRY)
    result = run("run", "svc", "--no-probe", "--registry", str(registry), "--state-dir", str(tmp_path / "l"), "--", "sh", "-c", "exit 7")
    assert result.returncode == 7


def test_a_command_that_cannot_start(run, registry_file, tmp_path):
    registry = registry_file(REGISTRY)
    result = run("run", "svc", "--no-probe", "--registry", str(registry), "--state-dir", str(tmp_path / "l"), "--", "/nonexistent/cmd")
    assert result.returncode == 127
    assert result.stderr == "portmanager: error: cannot run /nonexistent/cmd: No such file or directory\n"


def test_usage_errors(run, registry_file, tmp_path):
    registry = registry_file(REGISTRY)
    missing = run("run", "svc", "--registry", str(registry))
    assert missing.returncode == USAGE
    assert "Give the command to run after `--`" in missing.stderr
    unknown = run("run", "svc2", "--registry", str(registry), "--state-dir", str(tmp_path / "l"), "--", "true")
    assert unknown.returncode == USAGE
    assert "unknown service 'svc2'; did you mean 'svc'?" in unknown.stderr
    out_of_range = run("run", "svc", "-i", "2", "--registry", str(registry), "--state-dir", str(tmp_path / "l"), "--", "true")
    assert out_of_range.returncode == USAGE
    assert "allowed: 0..1" in out_of_range.stderr
    empty_dir = run("run", "svc", "--registry", str(registry), "--state-dir", "", "--", "true")
    assert empty_dir.returncode == USAGE
    assert "--state-dir must not be empty" in empty_dir.stderr
    gone = run("run", "svc", "--registry", str(registry), "--lease-dir", str(tmp_path / "l"), "--", "true")
    assert gone.returncode == USAGE and "--lease-dir" in gone.stderr


def status_of(run, registry: Path, state: Path) -> dict:
    result = run("status", "--all", "--registry", str(registry), "--state-dir", str(state), "--json")
    assert result.returncode == 0, result.stderr
    return {(row["service"], row["instance"]): row for row in json.loads(result.stdout)}


def test_the_reservation_ends_with_the_command_not_its_background_children(run, registry_file, tmp_path):
    registry = registry_file(REGISTRY)
    state = tmp_path / "state"
    child = tmp_path / "child.pid"
    # The command leaves a background child behind and exits at once.
    result = run("run", "svc", "--no-probe", "--registry", str(registry), "--state-dir", str(state), "--",
                 "sh", "-c", f"sleep 60 >/dev/null 2>&1 & echo $! > {child}; exit 0")
    assert result.returncode == 0, result.stderr
    try:
        assert status_of(run, registry, state)[("svc", 0)]["state"] == "free"
        again = run("run", "svc", "--no-probe", "--registry", str(registry), "--state-dir", str(state), "--",
                    "sh", "-c", "echo $PORTMANAGER_INSTANCE")
        assert again.stdout == "0\n", again.stderr
    finally:
        os.kill(int(child.read_text()), signal.SIGTERM)


def test_the_command_holds_its_reservation_while_it_runs(binary, run, registry_file, tmp_path):
    registry = registry_file(REGISTRY)
    state = tmp_path / "state"
    holder = start_holder(binary, registry, state, "--no-probe")
    try:
        assert holder.stdout.readline().split()[0] == "0"
        row = status_of(run, registry, state)[("svc", 0)]
        # `run` exec'd the command: the owner is the same process, now running `sh`.
        assert (row["state"], row["pid"], row["owner"]) == ("reserved", holder.pid, f"process {holder.pid}")
        assert row["command"] in ("sh", "cat")
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert status_of(run, registry, state)[("svc", 0)]["state"] == "free"


def test_a_command_that_cannot_start_gives_its_instance_back(run, registry_file, tmp_path):
    registry = registry_file(REGISTRY)
    state = tmp_path / "state"
    result = run("run", "svc", "--no-probe", "--registry", str(registry), "--state-dir", str(state), "--", "/nonexistent/cmd")
    assert result.returncode == 127
    assert status_of(run, registry, state)[("svc", 0)]["state"] == "free"
