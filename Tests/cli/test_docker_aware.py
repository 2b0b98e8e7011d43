"""The CLI's Docker-aware commands against a fake engine (Tests/cli/fake_docker.py):
`status` (every state, and an engine that cannot be reached), `reconcile` (and
its refusal without an engine), `reserve` refusing and adopting a container
without a reservation, and `probe` naming the container of a port published
without a local socket. Every --json output is validated against its schema.
The real engine's turn is Tests/e2e/test_docker_reservations.py."""
from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any, Iterator, List

import pytest

from conftest import FINDINGS, OK, USAGE, Run, assert_matches_schema
from fake_docker import FakeDockerEngine, container, labels

UNAVAILABLE = 3


def free_tcp_port() -> int:
    with socket.socket() as probe:
        probe.bind(("", 0))
        return int(probe.getsockname()[1])


@pytest.fixture()
def engine(tmp_path: Path) -> Iterator[FakeDockerEngine]:
    with FakeDockerEngine(tmp_path) as fake:
        yield fake


@pytest.fixture()
def setup(run: Run, engine: FakeDockerEngine, registry_file, tmp_path: Path):
    """A registry of `svc` (instance_increment 1, 6 instances) on a free range, a store, and run(...) with the engine."""
    base = free_tcp_port()
    registry = registry_file(f"svc:\n  port: {base}\n  instance_increment: 1\n  max_instances: 6\n")
    common = ["--registry", str(registry), "--state-dir", str(tmp_path / "state")]

    def cli(*args: str, host: str = engine.host) -> Any:
        return run(*args, *common, env={"DOCKER_HOST": host})

    return base, cli


def rows(result: Any) -> List[dict]:
    assert result.returncode == OK, result.stderr
    data = json.loads(result.stdout)
    assert_matches_schema("status", data)
    return data


def test_status_shows_every_state_from_the_engine(setup, engine: FakeDockerEngine) -> None:
    base, cli = setup
    # 0: reserved by a name, no container; 1: its container runs (labels, named apart);
    # 2: its container exited, not reserved; 3: another container publishes its port;
    # 4: reserved by a name while another container publishes its port (iptables only: no socket);
    # 5: free.
    assert cli("reserve", "svc", "-i", "0", "--owner", "wf", "--no-probe").returncode == OK
    assert cli("reserve", "svc", "-i", "4", "--owner", "wf-4", "--no-probe", host="unix:///nonexistent").returncode == OK
    assert cli("reserve", "svc", "-i", "1", "--container", "custom_1", "--no-probe").returncode == OK
    engine.containers = [
        container("custom_1", labels=labels("svc", 1)),
        container("svc-2", state="exited"),
        container("squatter", ports=[("0.0.0.0", base + 3, 80, "tcp")]),
        container("thief", ports=[("0.0.0.0", base + 4, 80, "tcp")]),
    ]
    listed = {r["instance"]: r for r in rows(cli("status", "--all", "--json"))}
    assert {i: (r["state"], r["container"], r["container_state"]) for i, r in listed.items()} == {
        0: ("reserved", None, None), 1: ("running", "custom_1", "running"), 2: ("stopped", "svc-2", "exited"),
        3: ("in_use", "squatter", "running"), 4: ("conflict", None, None), 5: ("free", None, None)}
    assert listed[1]["owner_kind"] == "container" and listed[2]["owner"] is None
    assert listed[3]["port_in_use"] == base + 3 and listed[3]["probe"]["holders"][0]["container"] == "squatter"
    holder = listed[4]["probe"]["holders"][0]
    assert (holder["pid"], holder["uid"], holder["container"]) == (None, 0, "thief")
    table = cli("status")
    assert table.returncode == OK and table.stderr == ""
    lines = {tuple(line.split()[:4]) for line in table.stdout.splitlines()[1:]}
    assert ("svc", "4", "conflict", "-") in lines and ("svc", "2", "stopped", "svc-2") in lines
    assert "container 'thief' (the Docker engine's port map, no local socket)" in table.stdout
    assert "free" not in table.stdout


def test_without_the_engine_status_says_so_and_a_reserved_instance_stays_reserved(setup, engine) -> None:
    _, cli = setup
    assert cli("reserve", "svc", "-i", "1", "--container", "svc-1", "--no-probe").returncode == OK
    for host in ("unix:///nonexistent/docker.sock", engine.host):
        engine.reply = (500, '{"message": "boom"}')
        result = cli("status", "--json", host=host)
        listed = rows(result)
        assert [(r["instance"], r["state"], r["container_state"]) for r in listed] == [(1, "reserved", "unknown")]
        assert result.stderr.startswith("portmanager: warning: the Docker engine cannot be reached"), result.stderr
    table = cli("status", host="unix:///nonexistent/docker.sock")
    assert table.stdout.splitlines()[1].split()[:4] == ["svc", "1", "reserved", "?"]


def test_reserve_refuses_a_container_without_a_reservation_and_adopts_it(setup, engine) -> None:
    _, cli = setup
    engine.containers = [container("svc-1", state="exited")]
    refused = cli("reserve", "svc", "-i", "1", "--owner", "wf")
    assert refused.returncode == UNAVAILABLE
    assert "instance 1 has container 'svc-1' (exited, found by its name) without a reservation" in refused.stderr
    picked = cli("reserve", "svc", "--owner", "wf", "--json")
    assert picked.returncode == OK and json.loads(picked.stdout)["instance"] == 0
    adopted = cli("reserve", "svc", "-i", "1", "--adopt", "--json")
    assert adopted.returncode == OK, adopted.stderr
    made = json.loads(adopted.stdout)
    assert (made["owner"], made["owner_kind"], made["fresh"]) == ("svc-1", "container", True)
    assert cli("reserve", "svc", "--adopt").returncode == USAGE


def test_reconcile_reaps_and_adopts_and_a_dry_run_changes_nothing(setup, engine) -> None:
    _, cli = setup
    assert cli("reserve", "svc", "-i", "0", "--container", "gone", "--no-probe", host="unix:///nonexistent").returncode == OK
    # Seen once, then removed: reaped at once.
    engine.containers = [container("gone")]
    assert [r["state"] for r in rows(cli("status", "--json"))] == ["running"]
    engine.containers = [container("svc-2", labels=labels("svc", 2))]
    dry = cli("reconcile", "--dry-run", "--json")
    assert dry.returncode == OK, dry.stderr
    actions = json.loads(dry.stdout)
    assert_matches_schema("reconcile", actions)
    assert [(a["action"], a["instance"], a["container"]) for a in actions] == [("reap", 0, "gone"), ("adopt", 2, "svc-2")]
    text = cli("reconcile", "--dry-run")
    assert text.stdout.splitlines() == [
        "would reap 'svc' instance 0: the reservation of container 'gone', the container is gone",
        "would adopt 'svc' instance 2: container 'svc-2' (running), found by its labels"]
    done = cli("reconcile")
    assert done.returncode == OK and done.stdout.startswith("reaped 'svc' instance 0")
    assert cli("reconcile", "--json").stdout == "[]\n"
    assert cli("reconcile").stdout.startswith("Nothing to reconcile")
    assert [(r["instance"], r["owner"]) for r in rows(cli("status", "--json"))] == [(2, "svc-2")]


@pytest.mark.parametrize("reply", [(500, '{"message": "boom"}'), (200, "not json")])
def test_reconcile_without_a_usable_engine_changes_nothing(setup, engine, reply) -> None:
    _, cli = setup
    assert cli("reserve", "svc", "-i", "0", "--container", "gone", "--no-probe", host="unix:///nonexistent").returncode == OK
    engine.reply = reply
    result = cli("reconcile")
    assert result.returncode == USAGE and result.stderr.startswith("portmanager: error: cannot reconcile: "), result.stderr
    missing = cli("reconcile", host="unix:///nonexistent/docker.sock")
    assert missing.returncode == USAGE
    assert "no socket at /nonexistent/docker.sock" in missing.stderr
    engine.reply = None
    assert [r["owner"] for r in rows(cli("status", "--json", host="unix:///nonexistent"))] == ["gone"]


def test_probe_names_a_container_publishing_without_a_socket(run: Run, engine: FakeDockerEngine) -> None:
    port = free_tcp_port()
    engine.containers = [container("published", ports=[("0.0.0.0", port, 80, "tcp"), ("::", port, 80, "tcp")])]
    result = run("probe", str(port), "--json", env={"DOCKER_HOST": engine.host})
    assert result.returncode == FINDINGS, result.stderr
    answer = json.loads(result.stdout)
    assert_matches_schema("probe", answer)
    assert [(h["address"], h["container"]) for h in answer["holders"]] == [
        (f"0.0.0.0:{port}", "published"), (f"[::]:{port}", "published")]
    text = run("probe", str(port), env={"DOCKER_HOST": engine.host})
    assert f"held by tcp 0.0.0.0:{port} container 'published'" in text.stdout
    assert run("probe", str(port), "--udp", env={"DOCKER_HOST": engine.host}).returncode == OK
    assert run("probe", str(port), env={"DOCKER_HOST": "unix:///nonexistent"}).returncode == OK
