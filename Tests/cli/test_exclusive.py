"""Exclusive reservations end to end: the default owner is the process that ran `portmanager`
(its parent), `--container NAME` owners, `reserve --json`'s "fresh", and `bind`. Each test has
a private store."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import USAGE, clean_environment

UNAVAILABLE = 3

REGISTRY = """\
kafka:
  broker_port: 42700
  max_instances: 3
"""


@pytest.fixture()
def cli(binary, registry_file, tmp_path):
    """cli(*args) runs the tool with the test registry and a private --state-dir; cli.sh(script) runs
    `sh -c script` with $PM set to that command line, so the shell is the parent of each `$PM ...`."""
    registry = registry_file(REGISTRY)
    common = ["--registry", str(registry), "--state-dir", str(tmp_path / "state")]

    def _cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(binary), *args, *common], env=clean_environment(), capture_output=True,
                              text=True, timeout=60)

    def sh(script: str, **popen) -> subprocess.CompletedProcess | subprocess.Popen:
        env = clean_environment({"PM_BIN": str(binary), "PM_ARGS": " ".join(common)})
        argv = ["sh", "-c", 'PM() { "$PM_BIN" "$@" $PM_ARGS; }; ' + script]
        if popen:
            return subprocess.Popen(argv, env=env, text=True, **popen)
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)

    _cli.sh = sh  # type: ignore[attr-defined]
    return _cli


def test_a_second_owner_exits_3_naming_the_first(cli):
    assert cli("reserve", "kafka", "-i", "1", "--no-probe", "--owner", "wf-a").returncode == 0
    for other in (["--owner", "wf-b"], ["--container", "kafka-1"], []):
        taken = cli("reserve", "kafka", "-i", "1", "--no-probe", *other)
        assert taken.returncode == UNAVAILABLE, (other, taken.stderr)
        assert "instance 1 is reserved by 'wf-a' since " in taken.stderr, (other, taken.stderr)


def test_the_same_owner_again_is_not_fresh(cli):
    first = json.loads(cli("reserve", "kafka", "-i", "2", "--no-probe", "--owner", "wf-a", "--json").stdout)
    again = cli("reserve", "kafka", "-i", "2", "--no-probe", "--owner", "wf-a", "--json")
    assert again.returncode == 0, again.stderr
    second = json.loads(again.stdout)
    assert (first["fresh"], second["fresh"]) == (True, False)
    assert second["since"] == first["since"] and second["owner"] == "wf-a"
    text = cli("reserve", "kafka", "-i", "2", "--no-probe", "--owner", "wf-a")
    assert text.stdout.startswith("already reserved (not fresh): kafka instance 2 for 'wf-a', expires never\n")


def test_the_default_owner_is_the_parent_process(cli):
    """Two shells are two owners; one shell reserving twice is one owner (idempotent), and its
    reservation ends when the shell does."""
    holder = cli.sh('PM reserve kafka -i 1 --no-probe --json; echo "rc=$?"; read line',
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        output = []
        for line in holder.stdout:
            output.append(line)
            if line.startswith("rc="):
                break
        assert output[-1] == "rc=0\n", "".join(output) + holder.stderr.read()
        made = json.loads("".join(output[:-1]))
        assert (made["owner_kind"], made["pid"], made["command"], made["fresh"]) == ("process", holder.pid, "sh", True)
        other = cli.sh("PM reserve kafka -i 1 --no-probe; echo rc=$?")
        assert other.stdout == "rc=3\n", other.stderr
        assert f"instance 1 is reserved by process {holder.pid} ('sh') since " in other.stderr
        same = cli.sh("PM reserve kafka -i 0 --no-probe --json && PM reserve kafka -i 0 --no-probe --json"
                      " && PM release kafka 0")
        assert same.returncode == 0, same.stderr
        first, second, released = same.stdout.split("\n}\n")
        assert (json.loads(first + "}")["fresh"], json.loads(second + "}")["fresh"]) == (True, False)
        assert released == "released kafka instance 0\n"
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()
        holder.stderr.close()
    # The shell has ended: so has its reservation.
    after = cli("reserve", "kafka", "-i", "1", "--no-probe", "--owner", "next")
    assert after.returncode == 0, after.stderr


def test_bind_then_release_by_the_container(cli):
    script = ("PM reserve kafka -i 1 --no-probe --ttl 600 >/dev/null && PM bind kafka 1 --container kafka-1 -v"
              " && PM bind kafka 1 --container /kafka-1 && PM release kafka 1; echo rc=$?")
    result = cli.sh(script)
    assert result.stdout.startswith("bound kafka instance 1 to container 'kafka-1'\n" * 2), result.stdout + result.stderr
    assert result.stdout.endswith("rc=3\n"), result.stdout  # the shell no longer owns it
    assert "reserved by container 'kafka-1', not by process" in result.stderr
    bound = [line for line in result.stderr.splitlines() if "port_manager_bound" in line]
    assert len(bound) == 1 and bound[0].startswith("portmanager: info: port_manager_bound service=kafka instance=1 owner=")
    assert bound[0].endswith(" container=kafka-1")
    # The shell has ended; the container's reservation lives on, without its TTL.
    row = json.loads(cli("status", "--json").stdout)
    assert [(r["instance"], r["owner"], r["expires"]) for r in row] == [(1, "kafka-1", None)]
    taken = cli("bind", "kafka", "1", "--container", "kafka-other", "--owner", "wf")
    assert taken.returncode == UNAVAILABLE and "reserved by container 'kafka-1', not by 'wf'" in taken.stderr
    free = cli("bind", "kafka", "2", "--container", "kafka-2")
    assert free.returncode == UNAVAILABLE and "is not reserved" in free.stderr
    released = cli("release", "kafka", "1", "--container", "kafka-1")
    assert (released.returncode, released.stdout) == (0, "released kafka instance 1\n")


def test_container_owners_and_bad_input(cli):
    made = cli("reserve", "kafka", "--no-probe", "--container", "/kafka-x", "--json")
    assert made.returncode == 0, made.stderr
    data = json.loads(made.stdout)
    assert (data["owner"], data["owner_kind"], data["pid"], data["fresh"]) == ("kafka-x", "container", None, True)
    assert cli("renew", "kafka", "0", "--ttl", "60", "--container", "kafka-x").returncode == 0
    wrong = cli("release", "kafka", "0", "--owner", "kafka-x")
    assert wrong.returncode == UNAVAILABLE and "reserved by container 'kafka-x', not by 'kafka-x'" in wrong.stderr
    for args, message in [
        (["reserve", "kafka", "--owner", "a", "--container", "b"], "give --owner or --container, not both"),
        (["reserve", "kafka", "--container", ""], "--container must not be empty"),
        (["reserve", "kafka", "--container", "k"], "the container name 'k' is not a Docker container name"),
        (["reserve", "kafka", "--container", "bad\nname"], "the container name 'bad\\nname' is not a Docker"),
        (["bind", "kafka", "0", "--container", "no good"], "the container name 'no good' is not a Docker"),
        (["bind", "kafka", "3"], "allowed: 0..2"),
        (["bind", "kafka"], "Missing expected argument"),
        (["bind", "kafka", "0", "--owner", ""], "--owner must not be empty"),
    ]:
        result = cli(*args)
        assert result.returncode == USAGE, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)


def test_without_a_parent_in_its_pid_namespace_an_owner_must_be_given(binary, registry_file, tmp_path):
    """As the first process of a PID namespace (`docker exec`, `unshare --pid --fork`), portmanager's
    parent has pid 0 there: the default owner cannot be told, and it says what to give instead."""
    unshare = ("unshare", "--pid", "--fork", "--mount-proc")
    if os.geteuid() != 0:
        pytest.skip("unshare --pid needs root")
    if subprocess.run([*unshare, "true"], capture_output=True, timeout=30).returncode != 0:
        pytest.skip("unshare --pid does not work here")
    common = ["--registry", str(registry_file(REGISTRY)), "--state-dir", str(tmp_path / "state")]

    def inside(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*unshare, str(binary), *args, *common], env=clean_environment(), capture_output=True,
                              text=True, timeout=60)

    refused = inside("reserve", "kafka", "-i", "0", "--no-probe")
    assert refused.returncode == USAGE, refused.stderr
    assert "the parent process is outside this PID namespace (getppid() is 0)" in refused.stderr
    assert inside("reserve", "kafka", "-i", "0", "--no-probe", "--owner", "wf-ns").returncode == 0
    forced = inside("release", "kafka", "0", "--force")  # --force needs no owner
    assert (forced.returncode, forced.stdout) == (0, "released kafka instance 0\n"), forced.stderr
