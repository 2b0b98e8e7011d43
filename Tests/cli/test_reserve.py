"""`portmanager reserve`, `release`, `renew` and `status`, end to end, each test with a private store."""
from __future__ import annotations

import json
import os
import re
import sqlite3
from pathlib import Path

import pytest

from conftest import USAGE

UNAVAILABLE = 3

# Ports below the kernel's ephemeral range (32768-60999 here): a connection's
# local port never lands on them, so the probe finds them free unless a test
# listens there (the status rows below rely on it).
REGISTRY = """\
svc:
  a_port: 22200
  r_port: "22250-22251"
  max_instances: 2
other:
  port: 22210
_environments:
  ci: 1000
"""


@pytest.fixture()
def cli(run, registry_file, tmp_path):
    """cli(*args, env=None): run with the test registry and a private --state-dir."""
    registry = registry_file(REGISTRY)
    state = tmp_path / "state"

    def _cli(*args: str, env: dict | None = None):
        return run(*args, "--registry", str(registry), "--state-dir", str(state), env=env)

    _cli.state = state  # type: ignore[attr-defined]
    return _cli


def test_reserve_json_and_text(cli):
    result = cli("reserve", "svc", "--no-probe", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    # Without --owner, the process that ran portmanager (here: this test) owns it.
    assert (data["service"], data["instance"], data["owner"]) == ("svc", 0, f"process {os.getpid()}")
    assert data["ports"] == {"a_port": 22200, "r_port": 22250}
    assert (data["owner_kind"], data["pid"]) == ("process", os.getpid())
    assert data["expires"] is None and data["container_name"] == "svc" and data["fresh"] is True
    text = cli("reserve", "svc", "--no-probe", "--owner", "wf-42", "--ttl", "600")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert re.fullmatch(r"reserved svc instance 1 for 'wf-42', expires \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", lines[0])
    assert [line.split() for line in lines[1:]] == [
        ["a_port", "22300"], ["r_port", "22350"], ["container", "svc-1"], ["volume", "svc-data-1"]]


def test_taken_instances_exit_3_naming_the_owner(cli):
    assert cli("reserve", "svc", "--no-probe", "--owner", "a").returncode == 0
    assert cli("reserve", "svc", "--no-probe", "--owner", "b").returncode == 0
    full = cli("reserve", "svc", "--no-probe")
    assert full.returncode == UNAVAILABLE
    assert "all 2 instances are taken (instance 0 is reserved by 'a'" in full.stderr
    taken = cli("reserve", "svc", "-i", "1", "--no-probe", "--owner", "c")
    assert taken.returncode == UNAVAILABLE and "instance 1 is reserved by 'b'" in taken.stderr
    again = cli("reserve", "svc", "-i", "1", "--no-probe", "--owner", "b")
    assert again.returncode == 0, again.stderr  # the owner reserving again


def test_release_is_idempotent_and_only_for_the_owner(cli):
    cli("reserve", "svc", "--no-probe", "--owner", "wf-1")
    refused = cli("release", "svc", "0")
    assert refused.returncode == UNAVAILABLE
    assert f"reserved by 'wf-1', not by process {os.getpid()};" in refused.stderr
    released = cli("release", "svc", "0", "--owner", "wf-1")
    assert (released.returncode, released.stdout) == (0, "released svc instance 0\n")
    again = cli("release", "svc", "0", "--owner", "wf-1")
    assert (again.returncode, again.stdout) == (0, "svc instance 0 was not reserved\n")
    cli("reserve", "svc", "--no-probe")
    forced = cli("release", "svc", "0", "--owner", "nobody-in-particular", "--force")
    assert forced.returncode == 0 and forced.stdout == "released svc instance 0\n"


def test_renew(cli):
    cli("reserve", "svc", "--no-probe", "--ttl", "5")
    renewed = cli("renew", "svc", "0", "--ttl", "3600")
    assert renewed.returncode == 0 and renewed.stdout.startswith("renewed svc instance 0, expires ")
    row = {r["instance"]: r for r in json.loads(cli("status", "svc", "--json").stdout)}[0]
    # Reserved by this test's process, which ran both commands (their default owner).
    assert row["state"] == "reserved" and row["pid"] == os.getpid() and row["expires"] - row["since"] >= 3600 - 5
    assert cli("renew", "svc", "1", "--ttl", "10").returncode == UNAVAILABLE
    assert cli("renew", "svc", "0", "--ttl", "10", "--owner", "x").returncode == UNAVAILABLE
    missing = cli("renew", "svc", "0")
    assert missing.returncode == USAGE and "--ttl" in missing.stderr


def test_status_states(cli):
    import socket

    cli("reserve", "svc", "--no-probe", "--owner", "wf\n1")
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind(("127.0.0.1", 22210))
        except OSError:
            pytest.skip("port 22210 is taken on this host")
        listener.listen()
        # Without a Docker engine (a socket that does not exist): no container is known.
        no_engine = {"DOCKER_HOST": "unix:///nonexistent/portmanager-test/docker.sock"}
        result = cli("status", "--all", "--json", env=no_engine)
        text = cli("status", "--all", env=no_engine)
    assert result.returncode == 0, result.stderr
    rows = {(r["service"], r["instance"]): r for r in json.loads(result.stdout)}
    assert rows[("svc", 0)]["state"] == "reserved" and rows[("svc", 0)]["owner"] == "wf\n1"
    unset = ("container", "owner", "owner_kind", "pid", "pid_namespace", "liveness", "command",
             "since", "expires", "reserved_as", "port_in_use", "probe")
    assert rows[("svc", 1)] == {"service": "svc", "environment": "", "instance": 1, "state": "free",
                                "container_state": "unknown", **{key: None for key in unset},
                                "ports": {"a_port": 22300, "r_port": 22350}}
    assert rows[("other", 0)]["state"] == "in_use" and rows[("other", 0)]["port_in_use"] == 22210
    assert "reserved by 'wf\\n1'" in text.stdout and "wf\n1" not in text.stdout
    assert len(text.stdout.splitlines()) == 1 + 2 + 10
    one = json.loads(cli("status", "svc", "--all", "--json").stdout)
    assert [r["instance"] for r in one] == [0, 1]
    # Without --all, the free instances are left out, in both outputs.
    assert [r["instance"] for r in json.loads(cli("status", "svc", "--json").stdout)] == [0]
    assert [line.split()[:3] for line in cli("status", "svc").stdout.splitlines()[1:]] == [["svc", "0", "reserved"]]


def test_environments_reserve_their_own_ports(cli):
    plain = json.loads(cli("reserve", "svc", "--no-probe", "--json").stdout)
    ci = json.loads(cli("reserve", "svc", "--no-probe", "--json", "--env", "ci").stdout)
    assert (plain["instance"], ci["instance"]) == (0, 0)
    assert ci["ports"] == {"a_port": 23200, "r_port": 23250} and ci["environment"] == "ci"


def test_bad_input_exits_2(cli):
    for args, message in [
        (["reserve", "svc", "--ttl", "0"], "--ttl takes a whole number of seconds from 1 to"),
        (["reserve", "svc", "--owner", ""], "--owner must not be empty"),
        (["reserve", "nope"], "unknown service 'nope'"),
        (["reserve", "svc", "-i", "2"], "allowed: 0..1"),
        (["release", "svc"], "Missing expected argument"),
        (["release", "svc", "5"], "allowed: 0..1"),
        (["status", "nope"], "unknown service 'nope'"),
    ]:
        result = cli(*args)
        assert result.returncode == USAGE, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)


def test_the_state_directory_comes_from_the_environment(run, registry_file, tmp_path):
    registry = registry_file(REGISTRY)
    state = tmp_path / "from-env"
    result = run("reserve", "svc", "--no-probe", "--registry", str(registry), env={"PORTMANAGER_STATE_DIR": str(state)})
    assert result.returncode == 0, result.stderr
    assert (state / "reservations.db").is_file()
    assert os.stat(state).st_mode & 0o777 == 0o700 and os.stat(state / "reservations.db").st_mode & 0o777 == 0o600
    # --state-dir wins over the variable.
    other = tmp_path / "flag"
    run("reserve", "svc", "--no-probe", "--registry", str(registry), "--state-dir", str(other),
        env={"PORTMANAGER_STATE_DIR": str(state)})
    assert (other / "reservations.db").is_file()


def test_the_schema_version_is_kept(cli):
    cli("reserve", "svc", "--no-probe")
    with sqlite3.connect(cli.state / "reservations.db") as db:
        assert db.execute("PRAGMA user_version").fetchone() == (4,)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_reserve_and_release_are_logged_with_escaped_owners(cli):
    owner = "wf\n" + "x" * 100
    reserved = cli("reserve", "svc", "--no-probe", "--owner", owner, "-v")
    assert reserved.returncode == 0, reserved.stderr
    line = f'portmanager: info: port_manager_reserved service=svc instance=0 owner="wf\\n{"x" * 58}..." ports="22200,22250,22251"'
    assert line in reserved.stderr.splitlines(), reserved.stderr
    released = cli("release", "svc", "0", "--owner", owner, "-v")
    assert "port_manager_released service=svc instance=0 owner=" in released.stderr
