"""Reservations that follow the container, on the real Docker engine (issue 19):
exclusion between two owners, a retry that is not fresh, `docker rm -f` then
`status` and `reconcile` free the instance, stop and start keep it, a container
started without a reservation is refused then adopted (`reserve --adopt` and
`reconcile`), `probe` names the container, and two environments get distinct
container and volume names.

Every test has its own registry (a service whose container stem is a name of this
session, `e2e-PID-TICKS-...`, so the session's sweep removes every container and
volume it makes) on free host ports, and its own store."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import uuid
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

import portmanager
from conftest import REPO, DockerEngine

CLI = Path(os.environ.get("PORTMANAGER_CLI", REPO / "build" / "bin" / "portmanager"))
OK, USAGE, UNAVAILABLE = 0, 2, 3
#: The port the suite's image serves on inside the container (`serve 8080`).
INSIDE = 8080


def free_base(count: int) -> int:
    """A port P with P..P+count-1 all free on the host now (TCP, every address)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("", 0))
            base = int(probe.getsockname()[1])
        if base + count > 65535:
            continue
        sockets: List[socket.socket] = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                sockets.append(s)
                s.bind(("", port))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError(f"no {count} free consecutive ports")


class Setup:
    """A registry of one service `web` (3 instances, increment 1, environment `ci`
    at +10) whose container stem is this session's, a store, and the CLI and the
    binding over them."""

    def __init__(self, docker: DockerEngine, tmp_path: Path) -> None:
        self.docker = docker
        self.base = free_base(13)
        self.stem = docker.labelled.name("web", uuid.uuid4().hex[:6])
        self.registry = tmp_path / "registry.yaml"
        self.registry.write_text(
            "_environments:\n  ci: 10\n"
            f"web:\n  web_port: {{host: {self.base}, container: {INSIDE}}}\n"
            f"  instance_increment: 1\n  max_instances: 3\n  container_name: {self.stem}\n"
            f"  volume_name: {self.stem}-data\n")
        self.state = tmp_path / "state"

    def cli(self, *args: str, env: str | None = None, store: bool = True) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
        command = [str(CLI), *args, "--registry", str(self.registry)] + (["--state-dir", str(self.state)] if store else [])
        if env:
            command += ["--env", env]
        return subprocess.run(command, capture_output=True, text=True, timeout=60)

    def status(self, env: str | None = None) -> Dict[int, Dict[str, Any]]:
        result = self.cli("status", "--all", "--json", env=env)
        assert result.returncode == OK and result.stderr == "", result.stderr
        return {row["instance"]: row for row in json.loads(result.stdout)}

    def names(self, instance: int, env: str | None = None) -> Tuple[str, str]:
        result = self.cli("names", "web", "--instance", str(instance), "--json", env=env, store=False)
        assert result.returncode == OK, result.stderr
        names = json.loads(result.stdout)
        return names["container_name"], names["volume_name"]

    def port(self, instance: int, env: str | None = None) -> int:
        return self.base + instance + (10 if env == "ci" else 0)

    def run(self, instance: int, *, name: str | None = None, env: str | None = None, labelled: bool = False,
            volume: str | None = None) -> Any:
        """Starts the image as instance `instance`'s container (its registry name
        unless `name`), publishing its host port; with `labelled`, the
        io.portmanager.* labels too."""
        labels = dict(self.docker.labelled.labels)
        if labelled:
            labels.update({"io.portmanager.service": "web", "io.portmanager.instance": str(instance),
                           "io.portmanager.environment": env or ""})
        container_name = name or self.names(instance, env)[0]
        volumes = {volume: {"bind": "/data", "mode": "rw"}} if volume else None
        return self.docker.client.containers.run(
            self.docker.image, [str(INSIDE)], name=container_name, labels=labels, detach=True,
            ports={f"{INSIDE}/tcp": ("127.0.0.1", self.port(instance, env))}, volumes=volumes)

    def manager(self, env: str | None = None) -> portmanager.PortManager:
        return portmanager.PortManager(self.registry, environment=env)


@pytest.fixture()
def setup(docker_engine: DockerEngine, tmp_path: Path) -> Setup:
    return Setup(docker_engine, tmp_path)


def test_two_owners_exclude_each_other_and_a_retry_is_not_fresh(setup: Setup) -> None:
    with setup.manager() as pm:
        first = pm.reserve("web", 1, owner="wf-a", state_dir=setup.state)
        assert first.fresh
        with pytest.raises(portmanager.ReservedError, match="instance 1 is reserved by 'wf-a'"):
            pm.reserve("web", 1, owner="wf-b", state_dir=setup.state)
        again = pm.reserve("web", 1, owner="wf-a", state_dir=setup.state)
        assert not again.fresh
    refused = setup.cli("reserve", "web", "--instance", "1", "--owner", "wf-b")
    assert refused.returncode == UNAVAILABLE and "reserved by 'wf-a'" in refused.stderr
    retried = setup.cli("reserve", "web", "--instance", "1", "--owner", "wf-a", "--json")
    assert retried.returncode == OK and json.loads(retried.stdout)["fresh"] is False
    assert setup.status()[1]["state"] == "reserved"  # the engine answered: no container yet


def test_docker_rm_frees_the_instance_through_status_and_reconcile(setup: Setup) -> None:
    with setup.manager() as pm:
        for instance in (0, 1):
            assert pm.reserve("web", instance, owner=portmanager.CONTAINER_NAME, state_dir=setup.state).fresh
    zero, one = setup.run(0), setup.run(1)
    rows = setup.status()
    assert [(rows[i]["state"], rows[i]["container"], rows[i]["owner_kind"]) for i in (0, 1)] == [
        ("running", zero.name, "container"), ("running", one.name, "container")]
    zero.remove(force=True)
    rows = setup.status()  # seen running before: reaped at once
    assert rows[0]["state"] == "free" and rows[0]["owner"] is None
    one.remove(force=True)
    reconciled = setup.cli("reconcile", "--json")
    assert reconciled.returncode == OK, reconciled.stderr
    assert [(a["action"], a["instance"], a["container"]) for a in json.loads(reconciled.stdout)] == [("reap", 1, one.name)]
    assert setup.status()[1]["state"] == "free"


def test_stop_and_start_keep_the_reservation(setup: Setup) -> None:
    with setup.manager() as pm:
        pm.reserve("web", 2, owner=portmanager.CONTAINER_NAME, state_dir=setup.state)
    container = setup.run(2)
    assert setup.status()[2]["state"] == "running"
    container.stop(timeout=5)
    row = setup.status()[2]
    assert (row["state"], row["container"], row["container_state"], row["owner"]) == (
        "stopped", container.name, "exited", container.name)
    refused = setup.cli("reserve", "web", "--instance", "2", "--owner", "other")
    assert refused.returncode == UNAVAILABLE and f"reserved by container '{container.name}'" in refused.stderr
    container.start()
    assert setup.status()[2]["state"] == "running"


def test_a_container_without_a_reservation_is_refused_then_adopted(setup: Setup) -> None:
    labelled = setup.run(2, name=setup.docker.labelled.name("custom", uuid.uuid4().hex[:6]), labelled=True)
    by_name = setup.run(1)
    by_name.stop(timeout=5)
    assert {i: (r["state"], r["container"], r["owner"]) for i, r in setup.status().items()} == {
        0: ("free", None, None), 1: ("stopped", by_name.name, None), 2: ("running", labelled.name, None)}
    refused = setup.cli("reserve", "web", "--instance", "2", "--owner", "wf")
    assert refused.returncode == UNAVAILABLE
    assert f"instance 2 has container '{labelled.name}' (running, found by its labels) without a reservation" in refused.stderr
    picked = setup.cli("reserve", "web", "--owner", "wf", "--json")
    assert picked.returncode == OK and json.loads(picked.stdout)["instance"] == 0  # 1 and 2 are skipped
    adopted = setup.cli("reserve", "web", "--instance", "2", "--adopt", "--json")
    assert adopted.returncode == OK, adopted.stderr
    assert (json.loads(adopted.stdout)["owner"], json.loads(adopted.stdout)["owner_kind"]) == (labelled.name, "container")
    reconciled = setup.cli("reconcile")
    assert reconciled.returncode == OK, reconciled.stderr
    assert reconciled.stdout == (f"adopted 'web' instance 1: container '{by_name.name}' (exited), found by its name\n")
    rows = setup.status()
    assert [(rows[i]["state"], rows[i]["owner"]) for i in (1, 2)] == [("stopped", by_name.name), ("running", labelled.name)]


def test_probe_names_the_container_behind_docker_proxy(setup: Setup) -> None:
    container = setup.run(0)
    port = setup.port(0)
    result = subprocess.run([str(CLI), "probe", str(port), "--json"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    holders = json.loads(result.stdout)["holders"]
    assert holders and {h["container"] for h in holders} == {container.name}, holders
    text = subprocess.run([str(CLI), "probe", str(port)], capture_output=True, text=True, timeout=60).stdout
    assert f"for container '{container.name}'" in text
    # pm_probe (the binding) names a docker-proxy holder too.
    assert {h.container for h in portmanager.probe(port).holders} == {container.name}
    # `status` of the unreserved instance: in use? No: its own container runs.
    assert setup.status()[0]["state"] == "running"


def test_two_environments_get_distinct_names_and_volumes(setup: Setup) -> None:
    plain, ci = setup.names(1), setup.names(1, "ci")
    assert plain == (f"{setup.stem}-1", f"{setup.stem}-data-1")
    assert ci == (f"{setup.stem}-ci-1", f"{setup.stem}-data-ci-1")
    with setup.manager() as pm, setup.manager("ci") as pm_ci:
        pm.reserve("web", 1, owner=portmanager.CONTAINER_NAME, state_dir=setup.state)
        pm_ci.reserve("web", 1, owner=portmanager.CONTAINER_NAME, state_dir=setup.state)
    one = setup.run(1, volume=plain[1])
    one_ci = setup.run(1, env="ci", labelled=True, volume=ci[1])
    volumes = {v.name for v in setup.docker.client.volumes.list()}
    assert {plain[1], ci[1]} <= volumes
    rows, rows_ci = setup.status(), setup.status("ci")
    assert (rows[1]["state"], rows[1]["container"], rows[1]["environment"]) == ("running", one.name, "")
    assert (rows_ci[1]["state"], rows_ci[1]["container"], rows_ci[1]["environment"]) == ("running", one_ci.name, "ci")
    assert rows_ci[1]["ports"] == {"web_port": setup.port(1, "ci")}
