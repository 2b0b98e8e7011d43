"""`get`, `names`, `env` and `compose` on the shipped registry."""
from __future__ import annotations

import shlex
import subprocess

import pytest

from conftest import OK, USAGE


@pytest.mark.parametrize(
    ("service", "instance", "port", "expected"),
    [
        ("kafka", "0", "broker_port", "9092"),
        ("kafka", "1", "broker_port", "9192"),
        ("kafka", "2", "broker_port", "9292"),
        ("kafka", "0", "controller_port", "19093"),
        ("kafka", "1", "controller_port", "19193"),
        ("mongodb", "0", "port", "27017"),
        ("mongodb", "1", "port", "27117"),
        ("mongodb", "2", "port", "27217"),
        ("traefik", "1", "entrypoint_port", "31101-31103"),
        ("argocd", "1", "server_port", "8190"),
    ],
)
def test_get_one_port_prints_just_the_number(run, service, instance, port, expected):
    result = run("get", service, "--instance", instance, "--port", port)
    assert result.returncode == OK, result.stderr
    assert result.stdout == expected + "\n"
    assert result.stderr == ""


def test_get_defaults_to_instance_zero_and_short_options(run):
    assert run("get", "kafka", "-p", "broker_port").stdout == "9092\n"
    assert run("get", "kafka", "-i", "1", "-p", "broker_port").stdout == "9192\n"
    assert run("get", "mongodb", "--port", "port").stdout == "27017\n"


def test_get_every_port_of_an_instance(run):
    result = run("get", "kafka", "--instance", "1")
    assert result.returncode == OK, result.stderr
    assert [line.split() for line in result.stdout.splitlines()] == [
        ["PORT", "HOST"], ["broker_port", "9192"], ["controller_port", "19193"],
    ]


def test_get_every_port_shows_container_side_when_it_differs(run):
    result = run("get", "argocd", "--instance", "2")
    assert [line.split() for line in result.stdout.splitlines()] == [
        ["PORT", "HOST", "CONTAINER"], ["server_port", "8290", "8080"], ["repo_server_port", "8291", "8081"],
    ]


def test_get_verbose_logs_allocations_to_stderr_only(run):
    result = run("get", "kafka", "--instance", "1", "--port", "broker_port", "-v")
    assert result.returncode == OK
    assert result.stdout == "9192\n"
    assert ("port_manager_port_allocated service=kafka instance=1 type=broker_port port=9192 base=9092 increment=100"
            in result.stderr)


def test_portmanager_log_environment_variable_also_logs(run):
    result = run("get", "kafka", "--port", "broker_port", env={"PORTMANAGER_LOG": "info"})
    assert result.stdout == "9092\n"
    assert "port_manager_port_allocated service=kafka instance=0" in result.stderr


def test_only_get_logs_allocations_reading_commands_do_not(run, tmp_path):
    """Allocation is logged where a caller allocates (get); reading an instance is not allocating."""
    info = {"PORTMANAGER_LOG": "info"}
    result = run("get", "kafka", "--instance", "2", env=info)
    assert result.returncode == OK, result.stderr
    logged = [line[line.index("port_manager"):] for line in result.stderr.splitlines() if "port_manager" in line]
    assert logged == [
        "port_manager_port_allocated service=kafka instance=2 type=broker_port port=9292 base=9092 increment=100",
        "port_manager_port_allocated service=kafka instance=2 type=controller_port port=19293 base=19093 increment=100",
    ]
    for args in (["env", "kafka", "-i", "2"], ["names", "kafka", "-i", "2"], ["compose", "kafka", "-i", "2"],
                 ["summary"], ["list"], ["status", "--all", "--state-dir", str(tmp_path / "state")]):
        result = run(*args, env=info)
        assert result.returncode == OK, (args, result.stderr)
        assert "port_manager_port_allocated" not in result.stderr, args


def test_get_unknown_port_names_the_ports_it_has(run):
    result = run("get", "kafka", "--port", "brokerport")
    assert result.returncode == USAGE
    assert result.stdout == ""
    assert result.stderr == ("portmanager: error: service 'kafka' has no port named 'brokerport'; "
                             "it has: broker_port, controller_port\n")


@pytest.mark.parametrize(
    ("instance", "expected"),
    [("0", ("kafka-development", "kafka-data")),
     ("1", ("kafka-development-1", "kafka-data-1")),
     ("2", ("kafka-development-2", "kafka-data-2"))],
)
def test_names_follow_the_original_spec(run, instance, expected):
    result = run("names", "kafka", "--instance", instance)
    assert result.returncode == OK, result.stderr
    assert [line.split() for line in result.stdout.splitlines()] == [
        ["container", expected[0]], ["volume", expected[1]],
    ]


def test_names_derive_from_the_service_name_when_not_set(run):
    result = run("names", "mongo_express", "-i", "3")
    assert [line.split() for line in result.stdout.splitlines()] == [
        ["container", "mongo-express-3"], ["volume", "mongo-express-data-3"],
    ]


def test_env_prints_shell_assignments(run):
    result = run("env", "kafka", "--instance", "1")
    assert result.returncode == OK, result.stderr
    assert result.stdout.splitlines() == [
        "KAFKA_BROKER_PORT=9192",
        "KAFKA_CONTROLLER_PORT=19193",
        "KAFKA_CONTAINER_NAME=kafka-development-1",
        "KAFKA_VOLUME_NAME=kafka-data-1",
    ]


def test_env_output_evaluates_in_a_real_shell(run):
    out = run("env", "traefik", "--instance", "2", "--export").stdout
    assert all(line.startswith("export ") for line in out.splitlines())
    script = out + 'printf "%s|%s|%s|%s" "$TRAEFIK_WEB_PORT" "$TRAEFIK_ENTRYPOINT_PORT" ' \
                   '"$TRAEFIK_ENTRYPOINT_PORT_LAST" "$TRAEFIK_CONTAINER_NAME"\n'
    shell = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True)
    assert shell.stdout == "280|31201-31203|31203|traefik-2"


def test_env_keys_are_upper_case_with_underscores(run):
    out = run("env", "mongo_express", "--instance", "0").stdout
    assert out.splitlines() == [
        "MONGO_EXPRESS_PORT=8081",
        "MONGO_EXPRESS_CONTAINER_NAME=mongo-express",
        "MONGO_EXPRESS_VOLUME_NAME=mongo-express-data",
    ]


def test_env_adds_container_port_when_it_differs(run):
    out = run("env", "argocd", "-i", "1").stdout.splitlines()
    assert "ARGOCD_SERVER_PORT=8190" in out
    assert "ARGOCD_SERVER_PORT_CONTAINER=8080" in out


def test_env_prefix_replaces_the_service_name(run):
    out = run("env", "kafka", "-i", "1", "--prefix", "BROKER").stdout.splitlines()
    assert out[0] == "BROKER_BROKER_PORT=9192"
    assert out[-1] == "BROKER_VOLUME_NAME=kafka-data-1"


def test_env_refuses_a_prefix_that_is_not_a_shell_name(run):
    result = run("env", "kafka", "-i", "1", "--prefix", "9lives")
    assert result.returncode == USAGE
    assert "--prefix '9lives' is not a shell variable name" in result.stderr


def test_env_requires_an_instance(run):
    result = run("env", "kafka")
    assert result.returncode == USAGE
    assert "--instance" in result.stderr
    assert result.stdout == ""


def test_env_keys_turn_punctuation_into_underscores_and_read_back(run, registry_file):
    path = registry_file("web.app:\n  port: 8000\n  container_name: web.app\n")
    out = run("env", "web.app", "-i", "1", "--registry", str(path)).stdout
    assert out.splitlines() == ["WEB_APP_PORT=8100", "WEB_APP_PORT_CONTAINER=8000", "WEB_APP_CONTAINER_NAME=web.app-1",
                                "WEB_APP_VOLUME_NAME=web.app-data-1"]
    values = subprocess.run(["sh", "-c", out + 'printf %s "$WEB_APP_CONTAINER_NAME"'],
                            capture_output=True, text=True, check=True).stdout
    assert values == "web.app-1"


def test_env_refuses_two_ports_that_give_one_variable(run, registry_file):
    path = registry_file("svc:\n  A_port: 42000\n  a_port: 42001\n")
    for command in (["env", "svc", "-i", "0"], ["compose", "svc", "-i", "0", "--env-file"]):
        result = run(*command, "--registry", str(path))
        assert result.returncode == USAGE and result.stdout == ""
        assert result.stderr == ("portmanager: error: service 'svc' gives the variable SVC_A_PORT twice; "
                                 "its port names differ only in case or punctuation\n")


def test_compose_prints_port_mappings(run):
    result = run("compose", "kafka", "--instance", "1")
    assert result.returncode == OK, result.stderr
    assert result.stdout.splitlines() == ['- "9192:9192"', '- "19193:19193"']


def test_compose_maps_ranges_and_fixed_container_ports(run):
    # Inside the container: the base port (the default), a fixed one, or the host port (Kafka's `container: host`).
    assert run("compose", "traefik", "-i", "1").stdout.splitlines() == [
        '- "180:80"', '- "31101-31103:31001-31003"',
    ]
    assert run("compose", "kafka", "-i", "2").stdout.splitlines() == ['- "9292:9292"', '- "19293:19293"']
    assert run("compose", "argocd", "-i", "2").stdout.splitlines() == ['- "8290:8080"', '- "8291:8081"']


def test_compose_indent(run):
    assert run("compose", "mongodb", "-i", "1", "--indent", "6").stdout == '      - "27117:27017"\n'
    result = run("compose", "mongodb", "-i", "1", "--indent", "100")
    assert result.returncode == USAGE
    assert "--indent 100 is outside 0-64" in result.stderr


def test_compose_env_file(run):
    result = run("compose", "kafka", "--instance", "2", "--env-file")
    assert result.returncode == OK, result.stderr
    assert result.stdout.splitlines() == [
        "KAFKA_BROKER_PORT=9292",
        "KAFKA_CONTROLLER_PORT=19293",
        "KAFKA_CONTAINER_NAME=kafka-development-2",
        "KAFKA_VOLUME_NAME=kafka-data-2",
    ]


def test_compose_env_file_and_json_together_is_a_usage_error(run):
    result = run("compose", "kafka", "-i", "1", "--env-file", "--json")
    assert result.returncode == USAGE
    assert "--env-file and --json cannot be used together" in result.stderr
