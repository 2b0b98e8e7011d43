"""`portmanager run`: leases across processes, end to end.

Two orchestrators that start the same service at the same time must get
different instances; a lease lasts exactly as long as the command it runs.
"""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

from conftest import USAGE, clean_environment

UNAVAILABLE = 3

REGISTRY = """\
svc:
  a_port: 42000
  r_port: "42050-42051"
  max_instances: 2
"""


def start_holder(binary: Path, registry: Path, lease_dir: Path, *extra: str) -> subprocess.Popen:
    """Starts `run` with a command that prints its variables and waits for stdin to close."""
    process = subprocess.Popen(
        [str(binary), "run", "svc", "--no-probe", "--registry", str(registry), "--lease-dir", str(lease_dir), *extra,
         "--", "sh", "-c", 'echo "$PORTMANAGER_INSTANCE $SVC_A_PORT $SVC_R_PORT $SVC_CONTAINER_NAME"; exec cat >/dev/null'],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=clean_environment(),
    )
    return process


def test_concurrent_runs_get_different_instances(binary, run, registry_file, tmp_path):
    registry = registry_file(REGISTRY)
    leases = tmp_path / "leases"
    first = start_holder(binary, registry, leases)
    try:
        assert first.stdout.readline().split() == ["0", "42000", "42050-42051", "svc"]
        second = start_holder(binary, registry, leases)
        try:
            assert second.stdout.readline().split() == ["1", "42100", "42150-42151", "svc-1"]
            # Both instances are held: a third run is refused with the holder named.
            third = run("run", "svc", "--registry", str(registry), "--lease-dir", str(leases), "--", "true")
            assert third.returncode == UNAVAILABLE
            assert "cannot lease service 'svc': all 2 instances are taken" in third.stderr
            assert "is leased by pid=" in third.stderr
            # An explicit instance that is held is refused too.
            held = run("run", "svc", "-i", "1", "--registry", str(registry), "--lease-dir", str(leases), "--", "true")
            assert held.returncode == UNAVAILABLE
            assert f"port 42100 is leased by pid={second.pid} service=svc instance=1" in held.stderr
        finally:
            second.stdin.close()
            second.wait(timeout=30)
    finally:
        first.stdin.close()
        first.wait(timeout=30)
    # The commands have exited, so the kernel has dropped their locks.
    again = run("run", "svc", "--no-probe", "--registry", str(registry), "--lease-dir", str(leases), "--", "sh", "-c", "echo $PORTMANAGER_INSTANCE")
    assert again.returncode == 0, again.stderr
    assert again.stdout == "0\n"


def test_the_commands_exit_status_is_kept(run, registry_file, tmp_path):
    registry = registry_file(REGISTRY)
    result = run("run", "svc", "--no-probe", "--registry", str(registry), "--lease-dir", str(tmp_path / "l"), "--", "sh", "-c", "exit 7")
    assert result.returncode == 7


def test_a_command_that_cannot_start(run, registry_file, tmp_path):
    registry = registry_file(REGISTRY)
    result = run("run", "svc", "--no-probe", "--registry", str(registry), "--lease-dir", str(tmp_path / "l"), "--", "/nonexistent/cmd")
    assert result.returncode == 127
    assert result.stderr == "portmanager: error: cannot run /nonexistent/cmd: No such file or directory\n"


def test_usage_errors(run, registry_file, tmp_path):
    registry = registry_file(REGISTRY)
    missing = run("run", "svc", "--registry", str(registry))
    assert missing.returncode == USAGE
    assert "Give the command to run after `--`" in missing.stderr
    unknown = run("run", "svc2", "--registry", str(registry), "--lease-dir", str(tmp_path / "l"), "--", "true")
    assert unknown.returncode == USAGE
    assert "unknown service 'svc2'; did you mean 'svc'?" in unknown.stderr
    out_of_range = run("run", "svc", "-i", "2", "--registry", str(registry), "--lease-dir", str(tmp_path / "l"), "--", "true")
    assert out_of_range.returncode == USAGE
    assert "allowed: 0..1" in out_of_range.stderr
    empty_dir = run("run", "svc", "--registry", str(registry), "--lease-dir", "", "--", "true")
    assert empty_dir.returncode == USAGE
