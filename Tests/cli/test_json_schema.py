"""Every `--json` output matches its documented schema (docs/json.md, docs/schema/*.schema.json).

Each test runs a command for real and validates what it printed; the schemas
refuse keys they do not document (additionalProperties: false), so a new key
fails here until docs/ describes it. The first test checks that every
subcommand whose --help offers --json has a schema and is run below.
"""
from __future__ import annotations

import json
import re
import socket
import sys
from pathlib import Path

import pytest

from conftest import FINDINGS, OK, REPO, SCHEMAS, USAGE, assert_matches_schema

PROTOCOLS = REPO / "Tests" / "fixtures" / "protocols" / "udp_and_host_ip.yaml"
SEED_TABLE = REPO / "Tests" / "fixtures" / "seed_table.yaml"
LINUX = ("--ephemeral-range", "32768-60999")

# The commands whose --json this file runs, each validated against docs/schema/NAME.schema.json.
COVERED = {"summary", "list", "get", "names", "env", "compose", "docker-args", "check", "reserve", "status",
           "reconcile", "probe"}

ENVIRONMENTS = """\
_environments:
  ci: 20000
svc:
  a_port: 42200
  r_port: "42250-42251"
  web_port: {host: 42260, container: 80}
  max_instances: 2
other-svc:
  port: 42210
"""


def document(run, command: str, *args: str, status: int = OK):
    result = run(command, *args, "--json")
    assert result.returncode == status, result.stderr
    data = json.loads(result.stdout)
    assert_matches_schema(command, data)
    return data


def test_every_json_command_has_a_schema_and_is_checked(run) -> None:
    top = run("--help")
    assert top.returncode == OK
    listed = top.stdout.split("SUBCOMMANDS:")[1]
    commands = re.findall(r"^  ([a-z][a-z-]*)\s", listed, flags=re.MULTILINE)
    assert "summary" in commands and "probe" in commands, commands
    with_json = {c for c in commands if "--json" in run(c, "--help").stdout}
    assert with_json == COVERED
    assert {p.name.removesuffix(".schema.json") for p in SCHEMAS.glob("*.schema.json")} == COVERED | {"common"}
    documented = (REPO / "docs" / "json.md").read_text(encoding="utf-8")
    for command in COVERED:
        assert f"`portmanager {command}" in documented and f"schema/{command}.schema.json" in documented, command


def test_summary_and_list(run, registry_file) -> None:
    document(run, "summary")
    document(run, "summary", "kafka", "traefik")
    path = str(registry_file(ENVIRONMENTS))
    data = document(run, "summary", "--registry", path, "--env", "ci")
    assert data["environment"] == {"name": "ci", "offset": 20000}
    document(run, "list")
    data = document(run, "list", "--registry", path)
    assert data["environments"] == [{"name": "ci", "offset": 20000}]
    assert data["services"][0]["ports"][2]["container"] == 80


def test_get_names_env_compose(run, registry_file) -> None:
    path = str(registry_file(ENVIRONMENTS))
    for registry in (["--registry", path, "--env", "ci"], ["--registry", str(PROTOCOLS)], []):
        services = json.loads(run("list", "--json", *registry).stdout)["services"]
        for service in services:
            name, last = service["name"], service["max_instances"] - 1
            document(run, "get", name, "--instance", str(last), *registry)
            document(run, "get", name, "--port", service["ports"][0]["name"], *registry)
            document(run, "names", name, "--instance", str(last), *registry)
            document(run, "env", name, "--instance", str(last), *registry)
            document(run, "compose", name, "--instance", str(last), *registry)
            document(run, "docker-args", name, "--instance", str(last), *registry)
    assert document(run, "env", "svc", "-i", "1", "--prefix", "S", "--registry", path)["S_R_PORT_LAST"] == "42351"


def test_check(run, registry_file, tmp_path: Path) -> None:
    document(run, "check", *LINUX)
    document(run, "check", "--registry", str(registry_file(ENVIRONMENTS)), *LINUX)
    seed = document(run, "check", "--registry", str(SEED_TABLE), *LINUX, status=FINDINGS)
    assert {f["kind"] for f in seed["findings"]} >= {"collision", "privileged"}
    document(run, "check", "--registry", str(SEED_TABLE), "--ephemeral-range", "none", status=FINDINGS)
    invalid = document(run, "check", "--registry", str(registry_file("svc:\n  port: 70000\n", "bad.yaml")), *LINUX,
                       status=FINDINGS)
    assert invalid["findings"][0]["kind"] == "invalid"
    not_yaml = document(run, "check", "--registry", str(registry_file("svc: [\n", "broken.yaml")), *LINUX,
                        status=USAGE)
    assert not_yaml["findings"][0]["kind"] == "invalid"
    names = document(run, "check", "--registry", str(registry_file("web:\n  port: 5000\nweb_1:\n  port: 6000\n",
                                                                   "names.yaml")), *LINUX, status=FINDINGS)
    assert [f["kind"] for f in names["findings"]] == ["name"] and names["findings"][0]["names"][0]["name"] == "web-1"
    # A dense chain of overlapping ranges: the finding carries "chain".
    chained = registry_file("".join(f"s{i:03d}:\n  r_port: \"{1024 + i}-{1033 + i}\"\n  instance_increment: 10\n"
                                    f"  max_instances: 50\n" for i in range(12)), "chained.yaml")
    report = document(run, "check", "--registry", str(chained), "--ephemeral-range", "none", status=FINDINGS)
    assert "chain" in report["findings"][0]


def test_reserve_and_every_status_state(run, binary: Path, registry_file, tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        path = str(registry_file(f"held:\n  port: {port + 100}\n  max_instances: 1\n"
                                 f"busy:\n  port: {port}\n  instance_increment: 1\n  max_instances: 2\n"
                                 f"named:\n  port: {port + 200}\n  max_instances: 1\n"))
        common = ["--registry", path, "--state-dir", str(tmp_path / "state")]
        named = document(run, "reserve", "named", "--no-probe", "--owner", "wf-1", "--ttl", "600", *common)
        assert named["owner_kind"] == "name" and named["expires"] is not None
        # `run` reserves `held` for the process that becomes `status`: the status it prints holds every state.
        held = run("run", "held", "--no-probe", *common, "--", str(binary), "status", "--all", "--json", *common)
        assert held.returncode == OK, held.stderr
        rows = json.loads(held.stdout)
        assert_matches_schema("status", rows)
        states = {(r["service"], r["instance"]): r["state"] for r in rows}
        assert states.pop(("busy", 1)) in ("free", "in_use")  # port + 1: another process may hold it
        assert states == {("held", 0): "reserved", ("busy", 0): "in_use", ("named", 0): "reserved"}
        # A reservation holding another instance's ports: reserved_as.
        overlap = str(registry_file(f"first:\n  port: {port + 300}\n  max_instances: 1\n"
                                    f"second:\n  port: {port + 300}\n  max_instances: 1\n", "overlap.yaml"))
        state = ["--state-dir", str(tmp_path / "state2")]
        document(run, "reserve", "first", "--no-probe", "--registry", overlap, *state)
        rows = document(run, "status", "--registry", overlap, *state)
        assert any(row["reserved_as"] for row in rows), rows


def test_probe(run) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        busy = document(run, "probe", str(port), status=FINDINGS)
        assert busy["verdict"] == "in use" and busy["holders"], busy
        document(run, "probe", str(port), "--both", "--host", "127.0.0.1", status=FINDINGS)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        document(run, "probe", str(udp.getsockname()[1]), "--udp", status=FINDINGS)


@pytest.mark.parametrize("command", sorted(COVERED))
def test_a_schema_refuses_an_undocumented_key(command: str) -> None:
    """The schemas are strict: an extra top-level key (or row key) fails validation."""
    from conftest import schema_validator

    validator = schema_validator(command)
    if command == "env":
        bad: object = {"not a name": "1", "A_CONTAINER_NAME": "a"}
    elif command == "status":
        bad = [{"service": "s", "instance": 0, "state": "free", "owner": None, "ports": {}, "extra": 1}]
    elif command == "reconcile":
        bad = [{"action": "reap", "service": "s", "environment": "", "instance": 0, "container": "c",
                "container_state": None, "reason": "r", "extra": 1}]
    else:
        bad = {"surprise": True}
    assert not validator.is_valid(bad)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
