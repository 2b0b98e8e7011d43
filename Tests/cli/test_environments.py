"""`--env NAME` and $PORTMANAGER_ENV: environment offsets from `_environments`."""
from __future__ import annotations

import json

import pytest

from conftest import OK, USAGE

REGISTRY = """\
_environments:
  dev: 0
  ci: 20000
kafka:
  broker_port: 9092
  controller_port: 19093
  container_name: kafka-development
  volume_name: kafka-data
web:
  port: {host: 8090, container: 8080}
  max_instances: 3
"""


@pytest.fixture()
def offsets(registry_file):
    return registry_file(REGISTRY)


def test_env_option_adds_the_offset(run, offsets):
    result = run("get", "kafka", "--instance", "1", "--port", "broker_port", "--registry", str(offsets), "--env", "ci")
    assert result.returncode == OK, result.stderr
    assert result.stdout == "29192\n"


def test_without_env_there_is_no_offset(run, offsets):
    assert run("get", "kafka", "-i", "1", "-p", "broker_port", "--registry", str(offsets)).stdout == "9192\n"


def test_portmanager_env_variable_selects_and_option_wins(run, offsets):
    by_variable = run("get", "kafka", "-p", "broker_port", "--registry", str(offsets), env={"PORTMANAGER_ENV": "ci"})
    assert by_variable.stdout == "29092\n"
    by_option = run("get", "kafka", "-p", "broker_port", "--registry", str(offsets), "--env", "dev",
                    env={"PORTMANAGER_ENV": "ci"})
    assert by_option.stdout == "9092\n"


def test_offset_moves_host_ports_not_container_ports_and_names_take_the_environment(run, offsets):
    out = run("env", "web", "-i", "1", "--registry", str(offsets), "--env", "ci").stdout.splitlines()
    assert out == ["WEB_PORT=28190", "WEB_PORT_CONTAINER=8080", "WEB_CONTAINER_NAME=web-ci-1",
                   "WEB_VOLUME_NAME=web-data-ci-1"]
    assert run("compose", "kafka", "-i", "1", "--registry", str(offsets), "--env", "ci").stdout.splitlines() == [
        '- "29192:9092"', '- "39193:19093"',
    ]


def test_summary_names_the_environment(run, offsets):
    result = run("summary", "--registry", str(offsets), "--env", "ci")
    assert "Environment: ci (offset +20000" in result.stdout
    kafka_row = next(line for line in result.stdout.splitlines() if "kafka-development-ci-1" in line)
    assert kafka_row.split() == ["1", "kafka-development-ci-1", "kafka-data-ci-1", "29192", "39193"]
    data = json.loads(run("summary", "--registry", str(offsets), "--env", "ci", "--json").stdout)
    assert data["environment"] == {"name": "ci", "offset": 20000}
    assert data["services"][0]["instances"][0]["ports"][0]["host"] == 29092


def test_list_shows_environments(run, offsets):
    lines = run("list", "--registry", str(offsets), "--env", "ci").stdout.splitlines()
    assert ["ci", "(selected)", "+20000"] in [line.split() for line in lines]
    data = json.loads(run("list", "--registry", str(offsets), "--json").stdout)
    assert data["environments"] == [{"name": "dev", "offset": 0}, {"name": "ci", "offset": 20000}]


def test_unknown_environment_lists_the_defined_ones(run, offsets):
    result = run("get", "kafka", "--registry", str(offsets), "--env", "prod")
    assert result.returncode == USAGE
    assert result.stdout == ""
    assert result.stderr == "portmanager: error: unknown environment 'prod'; the registry defines: dev, ci\n"


def test_check_refuses_unknown_environment_with_exit_2(run, offsets):
    result = run("check", "--registry", str(offsets), "--env", "prod")
    assert result.returncode == USAGE
    assert "unknown environment 'prod'" in result.stderr


def test_check_with_environments_is_valid(run, offsets):
    result = run("check", "--registry", str(offsets), "--env", "ci")
    assert result.returncode == OK, result.stdout + result.stderr
    assert "2 environments" in result.stdout


def test_environment_pushing_ports_past_65535_is_refused_on_use(run, registry_file):
    path = registry_file("_environments:\n  far: 60000\nkafka:\n  broker_port: 9092\n")
    result = run("get", "kafka", "--registry", str(path), "--env", "far")
    assert result.returncode == USAGE
    assert "environment 'far' (offset 60000) moves port 'broker_port'" in result.stderr


def test_names_include_the_environment_and_two_environments_never_share_one(run, offsets):
    """Instance 0 of no environment keeps the original spec's names; an environment's name follows the stem."""
    def names(instance: int, *env: str) -> tuple[str, str]:
        data = json.loads(run("names", "kafka", "-i", str(instance), "--json", "--registry", str(offsets), *env).stdout)
        return data["container_name"], data["volume_name"]

    assert names(0) == ("kafka-development", "kafka-data")
    assert names(1) == ("kafka-development-1", "kafka-data-1")
    assert names(0, "--env", "ci") == ("kafka-development-ci", "kafka-data-ci")
    assert names(2, "--env", "ci") == ("kafka-development-ci-2", "kafka-data-ci-2")
    assert names(2, "--env", "dev") == ("kafka-development-dev-2", "kafka-data-dev-2")
    every = {names(i, *env) for i in range(3) for env in ((), ("--env", "ci"), ("--env", "dev"))}
    assert len({c for c, _ in every}) == 9 and len({v for _, v in every}) == 9
    assert run("check", "--registry", str(offsets), "--ephemeral-range", "none").returncode == OK
