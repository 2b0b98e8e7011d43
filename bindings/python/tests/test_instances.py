"""One instance as the library resolves it: instance(), docker_run_kwargs(), env() and the Allocation fields."""

from __future__ import annotations

import copy
import logging
import subprocess
from pathlib import Path

import pytest

import portmanager
from conftest import REGISTRY, REPO

PROTOCOLS = REPO / "Tests" / "fixtures" / "protocols" / "udp_and_host_ip.yaml"
CLI = REPO / "build" / "bin" / "portmanager"


def test_instance_resolves_names_labels_and_ports(pm: portmanager.PortManager) -> None:
    kafka = pm.instance("kafka", 1)
    assert (kafka.container_name, kafka.volume_name, kafka.image) == ("kafka-development-1", "kafka-data-1", "apache/kafka")
    assert kafka.environment is None
    assert kafka.labels == {"io.portmanager.service": "kafka", "io.portmanager.instance": "1",
                            "io.portmanager.environment": ""}
    assert kafka.ports[0] == portmanager.Allocation("kafka", 1, "broker_port", 9192, 9192, 9192, 9192, 9092, 100,
                                                    "tcp", None)
    redis = pm.instance("redis", 2).ports[0]
    assert (redis.host_port, redis.container_port) == (6579, 6379)  # the stock image's port inside


def test_allocations_carry_protocol_and_host_ip() -> None:
    with portmanager.PortManager(PROTOCOLS) as pm:
        dns = pm.instance("coredns", 1).ports
        assert [(a.port_type, a.protocol, a.host_ip, a.host_port, a.container_port) for a in dns] == [
            ("dns_port", "tcp+udp", "127.0.0.1", 1153, 53), ("metrics_port", "tcp", "127.0.0.1", 9253, 9153)]
        assert {a.protocol for a in pm.allocations() if a.service == "jaeger" and a.port_type == "agent_port"} == {"udp"}
        assert pm.instance("kafka_local", 0).ports[0].host_ip == "::1"


def test_environment_names_and_label(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("_environments:\n  ci: 20000\nweb:\n  port: 8080\n")
    with portmanager.PortManager(path, environment="ci") as pm:
        web = pm.instance("web", 2)
        assert (web.container_name, web.volume_name, web.environment) == ("web-ci-2", "web-data-ci-2", "ci")
        assert web.labels["io.portmanager.environment"] == "ci"
        assert pm.env("web", 2)["WEB_CONTAINER_NAME"] == "web-ci-2"
        assert pm.docker_run_kwargs("web", 2)["ports"] == {"8080/tcp": 28280}


def test_docker_run_kwargs(pm: portmanager.PortManager) -> None:
    kwargs = pm.docker_run_kwargs("kafka", 1, volume_path="/var/lib/kafka/data")
    assert kwargs == {
        "name": "kafka-development-1",
        "ports": {"9192/tcp": 9192, "19193/tcp": 19193},
        "volumes": {"kafka-data-1": {"bind": "/var/lib/kafka/data", "mode": "rw"}},
        "labels": {"io.portmanager.service": "kafka", "io.portmanager.instance": "1",
                   "io.portmanager.environment": ""},
    }
    assert "image" not in kwargs  # image=None: the image goes to containers.run itself
    assert pm.docker_run_kwargs("redis", 0, image="redis:7")["image"] == "redis:7"
    assert pm.docker_run_kwargs("redis", 1)["volumes"] == {}
    # A range: one key per port inside the container.
    assert pm.docker_run_kwargs("traefik", 1)["ports"] == {
        "80/tcp": 180, "31001/tcp": 31101, "31002/tcp": 31102, "31003/tcp": 31103}
    # Answers are fresh: changing one does not change the next.
    kwargs["labels"]["x"] = "y"
    assert "x" not in pm.docker_run_kwargs("kafka", 1)["labels"]


def test_docker_run_kwargs_protocols_host_ips_and_shared_container_ports(tmp_path: Path) -> None:
    with portmanager.PortManager(PROTOCOLS) as pm:
        assert pm.docker_run_kwargs("coredns", 0)["ports"] == {
            "53/tcp": ("127.0.0.1", 1053), "53/udp": ("127.0.0.1", 1053), "9153/tcp": ("127.0.0.1", 9153)}
        assert pm.docker_run_kwargs("kafka_local", 0)["ports"] == {"9092/tcp": ("::1", 9192)}
    path = tmp_path / "r.yaml"
    path.write_text("web:\n  a_port: {host: 8090, container: 80}\n  b_port: {host: 8095, container: 80}\n")
    with portmanager.PortManager(path) as pm:
        assert pm.docker_run_kwargs("web", 1)["ports"] == {"80/tcp": [8190, 8195]}


def test_docker_run_kwargs_are_what_the_docker_sdk_sends() -> None:
    """The Docker SDK's own conversion of run() arguments (no engine needed) accepts them as they are."""
    from docker.models import containers  # Tests/requirements.txt
    with portmanager.PortManager(PROTOCOLS) as pm:
        kwargs = pm.docker_run_kwargs("coredns", 1, image="coredns/coredns", volume_path="/data")
    created = containers._create_container_args(dict(copy.deepcopy(kwargs), version="1.41"))
    assert created["image"] == "coredns/coredns" and created["name"] == "coredns-1"
    assert created["labels"] == kwargs["labels"]
    assert created["host_config"]["PortBindings"] == {
        "53/tcp": [{"HostIp": "127.0.0.1", "HostPort": "1153"}],
        "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "1153"}],
        "9153/tcp": [{"HostIp": "127.0.0.1", "HostPort": "9253"}],
    }
    assert created["host_config"]["Binds"] == ["coredns-data-1:/data:rw"]


def test_docker_run_kwargs_refuse_bad_input(pm: portmanager.PortManager) -> None:
    for path in ("data", "/a:b", "/a\0b"):
        with pytest.raises(portmanager.InvalidArgumentError, match="volume_path"):
            pm.docker_run_kwargs("kafka", 1, volume_path=path)
    with pytest.raises(TypeError, match="volume_path"):
        pm.docker_run_kwargs("kafka", 1, volume_path=Path("/data"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="image"):
        pm.docker_run_kwargs("kafka", 1, image=b"x")  # type: ignore[arg-type]
    with pytest.raises(portmanager.UnknownServiceError, match="did you mean 'kafka'"):
        pm.docker_run_kwargs("kafak", 1)
    with pytest.raises(portmanager.InstanceOutOfRangeError, match="allowed: 0..9"):
        pm.instance("kafka", 10)
    with pytest.raises(portmanager.InstanceOutOfRangeError, match="outside int64_t"):
        pm.env("kafka", 2**70)
    pm.close()
    with pytest.raises(portmanager.InvalidArgumentError, match="closed"):
        pm.instance("kafka", 1)


def test_env_is_what_portmanager_env_prints(pm: portmanager.PortManager) -> None:
    if not CLI.is_file():
        pytest.fail(f"{CLI} is missing; run `make cli`")
    for service, instance, extra in (("kafka", 1, []), ("traefik", 2, []), ("argocd", 1, ["--prefix", "ARGO"])):
        printed = subprocess.run([str(CLI), "env", service, "-i", str(instance), "--registry", str(REGISTRY), *extra],
                                 capture_output=True, text=True, check=True).stdout
        got = pm.env(service, instance, prefix=extra[1] if extra else None)
        assert [f"{k}={v}" for k, v in got.items()] == printed.splitlines()
    assert list(pm.env("kafka", 1)) == ["KAFKA_BROKER_PORT", "KAFKA_CONTROLLER_PORT", "KAFKA_CONTAINER_NAME",
                                        "KAFKA_VOLUME_NAME"]


def test_env_refuses_a_bad_prefix_and_two_ports_with_one_name(pm: portmanager.PortManager, tmp_path: Path) -> None:
    with pytest.raises(portmanager.InvalidArgumentError, match="not a shell variable name"):
        pm.env("kafka", 1, prefix="1X")
    path = tmp_path / "r.yaml"
    path.write_text("svc:\n  A_port: 42000\n  a_port: 42001\n")
    with portmanager.PortManager(path) as twice:
        with pytest.raises(portmanager.InvalidArgumentError, match="gives the variable SVC_A_PORT twice"):
            twice.env("svc", 0)


def test_reading_an_instance_logs_nothing(pm: portmanager.PortManager, caplog: pytest.LogCaptureFixture,
                                          restore_logging: None) -> None:
    with caplog.at_level(logging.INFO, logger="portmanager"):
        pm.instance("kafka", 3)
        pm.docker_run_kwargs("kafka", 3)
        pm.env("kafka", 3)
        list(pm.allocations())
        assert not [r for r in caplog.records if "port_manager_port_allocated" in r.getMessage()]
        pm.get_port("kafka", 3, "broker_port")  # allocating for a caller does
        assert [r for r in caplog.records if "port_manager_port_allocated" in r.getMessage()]
