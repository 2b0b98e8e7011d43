"""Usage errors, unknown names, instance ranges and registry resolution: exit 2, message on stderr."""
from __future__ import annotations

import pytest

from conftest import OK, SHIPPED, USAGE


@pytest.mark.parametrize(
    "args",
    [
        ("summary", "--bogus"),
        ("--bogus",),
        ("frobnicate",),
        ("get",),
        ("get", "kafka", "--instance", "one"),
        ("get", "kafka", "--instance"),
        ("names", "kafka", "extra"),
        ("env", "kafka"),
        ("compose", "kafka"),
        ("summary", "--registry", ""),
        ("summary", "--env", ""),
        ("get", "kafka", "--port", ""),
        ("env", "kafka", "-i", "1", "--export", "--json"),
        ("compose", "kafka", "-i", "1", "--prefix", "X"),
    ],
)
def test_bad_flags_exit_2_with_usage(run, args):
    result = run(*args)
    assert result.returncode == USAGE, (args, result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert "Usage: portmanager" in result.stderr


def test_help_is_for_newcomers_and_exits_0(run):
    result = run("--help")
    assert result.returncode == OK
    for text in ("summary", "check", "final_port = base_port + instance_id * instance_increment",
                 "$PORTMANAGER_REGISTRY", "Exit status", "Examples:"):
        assert text in result.stdout
    sub = run("env", "--help")
    assert sub.returncode == OK
    assert "KAFKA_BROKER_PORT=9192" in sub.stdout and "--instance" in sub.stdout


@pytest.mark.parametrize("command", ["summary", "list", "get", "names", "env", "compose", "check"])
def test_every_subcommand_has_help_and_takes_registry(run, command):
    result = run(command, "--help")
    assert result.returncode == OK
    assert "--registry" in result.stdout and "--env" in result.stdout
    assert "Examples:" in result.stdout


def test_unknown_service_suggests_the_near_miss(run):
    result = run("get", "kafak", "--port", "broker_port")
    assert result.returncode == USAGE
    assert result.stdout == ""
    assert result.stderr == "portmanager: error: unknown service 'kafak'; did you mean 'kafka'?\n"


@pytest.mark.parametrize("command", ["names", "env", "compose"])
def test_unknown_service_in_every_lookup(run, command):
    result = run(command, "mongdb", "--instance", "0")
    assert result.returncode == USAGE
    assert "unknown service 'mongdb'; did you mean 'mongodb'?" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("get", "kafka", "--instance", "10"),
         "instance 10 of service 'kafka' is out of range; allowed: 0..9 (max_instances=10)"),
        (("get", "kafka", "--instance", "-1"),
         "instance -1 of service 'kafka' is out of range; allowed: 0..9 (max_instances=10)"),
        (("names", "traefik", "-i", "3"),
         "instance 3 of service 'traefik' is out of range; allowed: 0..2 (max_instances=3)"),
        (("env", "temporal", "-i", "5"),
         "instance 5 of service 'temporal' is out of range; allowed: 0..2 (max_instances=3)"),
        (("compose", "grafana", "-i", "99"),
         "instance 99 of service 'grafana' is out of range; allowed: 0..4 (max_instances=5)"),
    ],
)
def test_instance_out_of_range_states_the_allowed_range(run, args, message):
    result = run(*args)
    assert result.returncode == USAGE
    assert result.stdout == ""
    assert result.stderr == f"portmanager: error: {message}\n"


def test_registry_from_environment_variable(run, tmp_path, registry_file):
    path = registry_file("solo:\n  port: 4000\n  instance_increment: 7\n")
    result = run("get", "solo", "--instance", "2", "--port", "port", env={"PORTMANAGER_REGISTRY": str(path)}, cwd=tmp_path)
    assert result.returncode == OK, result.stderr
    assert result.stdout == "4014\n"


def test_explicit_registry_beats_environment_variable(run, tmp_path, registry_file):
    path = registry_file("solo:\n  port: 4000\n")
    result = run("get", "kafka", "--port", "broker_port", "--registry", str(SHIPPED),
                 env={"PORTMANAGER_REGISTRY": str(path)}, cwd=tmp_path)
    assert result.stdout == "9092\n"


def test_environment_variable_beats_working_directory(run, registry_file):
    path = registry_file("kafka:\n  broker_port: 1111\n")
    result = run("get", "kafka", "--port", "broker_port", env={"PORTMANAGER_REGISTRY": str(path)})
    assert result.stdout == "1111\n"


def test_working_directory_registry_is_the_last_resort(run, tmp_path):
    (tmp_path / "dynamicconfig").mkdir()
    (tmp_path / "dynamicconfig" / "port_registry.yaml").write_text("solo:\n  port: 5000\n")
    result = run("get", "solo", "-i", "1", "-p", "port", cwd=tmp_path)
    assert result.returncode == OK, result.stderr
    assert result.stdout == "5100\n"


def test_no_registry_found_lists_where_it_looked(run, tmp_path):
    # Every place is checked by test_registry_search.py; here, the first ones.
    result = run("summary", cwd=tmp_path, env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert result.returncode == USAGE
    assert result.stdout == ""
    assert result.stderr.startswith("portmanager: error: no port registry found; looked in: "
                                    "$PORTMANAGER_REGISTRY (not set), ./dynamicconfig/port_registry.yaml (no such file), ")


def test_missing_registry_named_by_environment_variable(run, tmp_path):
    missing = tmp_path / "gone.yaml"
    result = run("check", cwd=tmp_path, env={"PORTMANAGER_REGISTRY": str(missing)})
    assert result.returncode == USAGE
    assert result.stderr.startswith("portmanager: error: no port registry found; looked in: "
                                    f"$PORTMANAGER_REGISTRY={missing} (no such file), "
                                    "./dynamicconfig/port_registry.yaml (no such file), ")


def test_every_subcommand_states_its_exit_statuses(run):
    """Each subcommand's --help says which exit statuses it uses (README, "Exit statuses")."""
    import re

    listed = run("--help").stdout.split("SUBCOMMANDS:")[1]
    commands = re.findall(r"^  ([a-z]+)\s", listed, flags=re.MULTILINE)
    assert len(commands) >= 13, commands
    for command in commands:
        text = run(command, "--help").stdout
        assert "Exit status:" in text, command
    assert "127 when COMMAND cannot be run" in run("run", "--help", env={"COLUMNS": "200"}).stdout
    assert "  3: `reserve`, `run`: the instance is taken" in run("--help").stdout and "  127: " in run("--help").stdout


def test_exit_statuses_agree_between_root_and_subcommand_help(run):
    """The root --help lists each status with the commands that use it, each
    subcommand's --help the ones it uses: both are made from ExitStatus.table, whose
    command names must be real subcommands, and which no subcommand may contradict."""
    import re

    wide = {"COLUMNS": "100000"}
    root = run("--help", env=wide).stdout
    commands = re.findall(r"^  ([a-z]+)\s", root.split("SUBCOMMANDS:")[1], flags=re.MULTILINE)
    rows = re.findall(r"^  (\d+): .*\. Commands: (.*)\.$", root.split("Exit statuses")[1], flags=re.MULTILINE)
    assert [code for code, _ in rows] == ["0", "1", "2", "3", "127"], rows
    users = {}
    for code, named in rows:
        listed = re.findall(r"`([a-z]+)`", named)
        assert set(listed) <= set(commands), (code, named)
        if named.startswith("all"):
            users[code] = set(commands) - set(listed)  # "all but `run`"
        else:
            users[code] = set(listed)
    for command in commands:
        line = next(line for line in run(command, "--help", env=wide).stdout.splitlines()
                    if line.startswith("Exit status: "))
        stated = re.findall(r"(?:^Exit status: |; )(\d+) ", line)
        expected = [code for code, _ in rows if command in users[code]]
        assert stated == expected, (command, line)
