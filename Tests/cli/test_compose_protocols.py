"""`compose` and `env` with `protocol` and `host_ip` (Tests/fixtures/protocols)."""
from __future__ import annotations

import json

from conftest import OK, REPO, USAGE, Run

FIXTURE = REPO / "Tests" / "fixtures" / "protocols" / "udp_and_host_ip.yaml"


def test_compose_writes_udp_and_host_ip(run: Run) -> None:
    result = run("compose", "jaeger", "-i", "1", "--registry", str(FIXTURE))
    assert result.returncode == OK, result.stderr
    assert result.stdout.splitlines() == ['- "6841:6831/udp"', '- "16696:16686"']
    result = run("compose", "coredns", "-i", "0", "--registry", str(FIXTURE), "--json")
    assert json.loads(result.stdout)["ports"] == ["127.0.0.1:1053:53", "127.0.0.1:1053:53/udp", "127.0.0.1:9153:9153"]
    result = run("compose", "kafka_local", "-i", "0", "--registry", str(FIXTURE))
    assert result.stdout.splitlines() == ['- "[::1]:9192:9092"']


def test_env_is_unchanged_by_protocol_and_host_ip(run: Run) -> None:
    result = run("env", "coredns", "-i", "0", "--registry", str(FIXTURE))
    assert result.returncode == OK, result.stderr
    assert result.stdout.splitlines()[:3] == ["COREDNS_DNS_PORT=1053", "COREDNS_DNS_PORT_CONTAINER=53",
                                              "COREDNS_METRICS_PORT=9153"]


def test_check_sees_no_collision_between_tcp_and_udp(run: Run) -> None:
    result = run("check", "--registry", str(FIXTURE), "--json")
    assert json.loads(result.stdout)["errors"] == 0, result.stdout


def test_bad_protocol_names_the_place(run: Run, registry_file) -> None:  # type: ignore[no-untyped-def]
    path = registry_file("jaeger:\n  agent_port: {host: 6831, protocol: UDP}\n")
    result = run("get", "jaeger", "--registry", str(path))
    assert result.returncode == USAGE
    assert f"{path}:2:38: protocol of port 'agent_port' of service 'jaeger' is 'UDP'" in result.stderr
    assert "did you mean 'udp'?" in result.stderr
