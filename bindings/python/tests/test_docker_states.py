"""pm.status(), pm.reconcile(), reserve(adopt=True) and probe()'s container names
through ctypes, against a fake Docker engine (Tests/cli/fake_docker.py) named by
$DOCKER_HOST; and without an engine (a socket that does not exist)."""

from __future__ import annotations

import ctypes
import json
import socket
import sys
from pathlib import Path
from typing import Iterator, Tuple

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "Tests" / "cli"))
from fake_docker import FakeDockerEngine, container, labels  # noqa: E402

import portmanager  # noqa: E402
from portmanager import _lib  # noqa: E402

NO_ENGINE = "unix:///nonexistent/portmanager-python/docker.sock"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("", 0))
        return int(probe.getsockname()[1])


@pytest.fixture()
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDockerEngine]:
    with FakeDockerEngine(tmp_path) as fake:
        monkeypatch.setenv("DOCKER_HOST", fake.host)
        yield fake


@pytest.fixture()
def manager(tmp_path: Path) -> Iterator[Tuple[portmanager.PortManager, Path, int]]:
    base = free_port()
    registry = tmp_path / "registry.yaml"
    registry.write_text(f"svc:\n  port: {base}\n  instance_increment: 1\n  max_instances: 4\n")
    with portmanager.PortManager(registry) as pm:
        yield pm, tmp_path / "state", base


def test_status_rows_and_the_engine(engine: FakeDockerEngine, manager, monkeypatch) -> None:
    pm, state, base = manager
    pm.reserve("svc", 0, owner="wf", probe=False, state_dir=state)
    engine.containers = [container("svc-1", state="exited"),
                         container("squatter", ports=[("0.0.0.0", base + 2, 80, "tcp")])]
    rows = pm.status(state_dir=state)
    assert rows.docker_error is None
    assert [(r.instance, r.state, r.container, r.container_state, r.owner) for r in rows] == [
        (0, "reserved", None, None, "wf"), (1, "stopped", "svc-1", "exited", None),
        (2, "in_use", "squatter", "running", None)]
    assert rows[2].port_in_use == base + 2 and rows[2].probe["holders"][0]["container"] == "squatter"
    assert [r.state for r in pm.status("svc", all=True, state_dir=state)][-1] == "free"
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    blind = pm.status(state_dir=state)
    assert blind.docker_error is not None and "no socket at /nonexistent/portmanager-python/docker.sock" in blind.docker_error
    assert [(r.instance, r.state, r.container_state) for r in blind] == [(0, "reserved", "unknown")]


def test_reserve_refuses_and_adopts_a_container(engine: FakeDockerEngine, manager) -> None:
    pm, state, _ = manager
    engine.containers = [container("labelled_1", labels=labels("svc", 1))]
    with pytest.raises(portmanager.ReservedError, match="instance 1 has container 'labelled_1'"):
        pm.reserve("svc", 1, owner="wf", probe=False, state_dir=state)
    adopted = pm.reserve("svc", 1, owner="wf", probe=False, adopt=True, state_dir=state)
    assert adopted.fresh and adopted.owner == portmanager.Container("labelled_1")
    assert adopted.release() is True  # released as the container it became
    with pytest.raises(portmanager.InvalidArgumentError, match="adopting a container needs an instance"):
        pm.reserve("svc", adopt=True, state_dir=state)


def test_reconcile_and_its_refusal_without_an_engine(engine: FakeDockerEngine, manager, monkeypatch) -> None:
    pm, state, _ = manager
    engine.containers = [container("svc-3")]
    assert pm.reconcile(dry_run=True, state_dir=state) == [
        portmanager.ReconcileAction("adopt", "svc", "", 3, "svc-3", "running", "found by its name")]
    assert pm.reservations(state_dir=state) == []
    # The array does not fit: nothing changes (the C output protocol), then it does.
    needed = ctypes.c_size_t(0)
    with pytest.raises(portmanager.BufferTooSmallError):
        pm._call(_lib.lib.pm_reconcile, str(state).encode(), 0, None, 0, ctypes.byref(needed))
    assert needed.value > 2 and pm.reservations(state_dir=state) == []
    buffer = ctypes.create_string_buffer(needed.value)
    pm._call(_lib.lib.pm_reconcile, str(state).encode(), 0, buffer, needed.value, ctypes.byref(needed))
    assert json.loads(buffer.value)[0]["action"] == "adopt"
    assert [(r.instance, r.owner_kind, r.owner) for r in pm.reservations(state_dir=state)] == [(3, "container", "svc-3")]
    engine.containers = []
    assert [a.action for a in pm.reconcile(state_dir=state)] == ["reap"]
    engine.reply = (500, '{"message": "boom"}')
    with pytest.raises(portmanager.DockerError, match="cannot reconcile: .*500"):
        pm.reconcile(state_dir=state)
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    with pytest.raises(portmanager.DockerError, match="no socket at"):
        pm.reconcile(dry_run=True, state_dir=state)


def test_probe_names_the_container_of_a_published_port(engine: FakeDockerEngine) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        engine.containers = [container("web", ports=[("127.0.0.1", port, 80, "tcp")])]
        # A visible process that is not docker-proxy keeps its name: the engine is not asked.
        holders = portmanager.probe(port).holders
        assert holders and all(h.container is None for h in holders) and engine.requests == []
