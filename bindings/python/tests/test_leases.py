"""Leases (pm_lease_*): one holder per instance, released explicitly, by `with`, or by collection."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

import portmanager
from conftest import BINDING, REGISTRY


def test_lease_holds_every_port_of_the_instance(pm: portmanager.PortManager, tmp_path: Path) -> None:
    with pm.lease("traefik", 2, directory=tmp_path, probe=False) as lease:
        assert (lease.service, lease.instance) == ("traefik", 2)
        assert lease.ports == (280, 31201, 31202, 31203)
        # One lock file per port ("port-N.lock"; whether N is zero-padded is the library's business).
        locked = sorted(int(p.name[len("port-"):-len(".lock")]) for p in tmp_path.glob("port-*.lock"))
        assert locked == [280, 31201, 31202, 31203]
        assert not lease.released
    assert lease.released
    lease.release()  # again: nothing


def test_the_lowest_free_instance_is_chosen(pm: portmanager.PortManager, tmp_path: Path) -> None:
    with portmanager.PortManager(REGISTRY) as other:
        first = pm.lease("kafka", directory=tmp_path, probe=False)
        second = other.lease("kafka", directory=tmp_path, probe=False)
        assert (first.instance, second.instance) == (0, 1)
        assert second.ports == tuple(sorted(pm.get_ports("kafka", 1).values()))
        first.release()
        third = other.lease("kafka", directory=tmp_path, probe=False)
        assert third.instance == 0
        second.release()
        third.release()


def test_every_instance_taken(tmp_path: Path) -> None:
    with portmanager.PortManager.from_yaml("solo:\n  port: 47000\n  max_instances: 2\n") as pm:
        held = [pm.lease("solo", directory=tmp_path, probe=False) for _ in range(2)]
        assert [lease.instance for lease in held] == [0, 1]
        with pytest.raises(portmanager.LeasedError, match="solo"):
            pm.lease("solo", directory=tmp_path, probe=False)
        for lease in held:
            lease.release()


def test_a_collected_lease_is_released(pm: portmanager.PortManager, tmp_path: Path) -> None:
    pm.lease("redis", 1, directory=tmp_path, probe=False)  # dropped at once
    gc.collect()
    with pm.lease("redis", 1, directory=tmp_path, probe=False) as again:
        assert again.instance == 1


def test_a_lease_outlives_closing_its_manager(tmp_path: Path) -> None:
    pm = portmanager.PortManager(REGISTRY)
    lease = pm.lease("loki", 1, directory=tmp_path, probe=False)
    pm.close()
    with pytest.raises(portmanager.InvalidArgumentError, match="closed"):
        pm.get_port("loki", 1)
    assert pm._handle._pointer is not None  # the registry stays until the lease goes
    lease.release()
    assert pm._handle._pointer is None


def test_another_process_is_refused_until_release(pm: portmanager.PortManager, tmp_path: Path) -> None:
    code = (
        "import sys, portmanager as p\n"
        "m = p.PortManager(sys.argv[1])\n"
        "try:\n"
        "    m.lease('jaeger', 2, directory=sys.argv[2], probe=False)\n"
        "    print('leased')\n"
        "except p.LeasedError as e:\n"
        "    print('refused', e)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(BINDING / "src"))
    command = [sys.executable, "-c", code, str(REGISTRY), str(tmp_path)]
    with pm.lease("jaeger", 2, directory=tmp_path, probe=False):
        out = subprocess.run(command, env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith("refused") and f"pid={os.getpid()}" in out.stdout
    out = subprocess.run(command, env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "leased", out.stderr


def test_lease_arguments(pm: portmanager.PortManager, tmp_path: Path) -> None:
    with pytest.raises(portmanager.UnknownServiceError):
        pm.lease("nope", directory=tmp_path)
    with pytest.raises(portmanager.InstanceOutOfRangeError, match="instance 2199023255552 "):
        pm.lease("kafka", 2**41, directory=tmp_path)
    with pytest.raises(TypeError, match="directory"):
        pm.lease("kafka", 0, directory=3.5)  # type: ignore[arg-type]
    with pytest.raises(portmanager.InvalidArgumentError, match="NUL"):
        pm.lease("kafka", 0, directory="a\0b")
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(portmanager.RegistryIOError, match=str(blocker)):
        pm.lease("kafka", 0, directory=blocker / "sub", probe=False)
