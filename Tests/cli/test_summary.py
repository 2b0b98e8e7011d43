"""`portmanager summary` and `list` on the shipped registry."""
from __future__ import annotations

import re

from conftest import OK, USAGE


def rows_of(stdout: str, service: str) -> list[list[str]]:
    """The table rows (split on whitespace) under the `service` heading."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(service + "  ("))
    rows = []
    for line in lines[start + 2:]:
        if not line.strip():
            break
        rows.append(line.split())
    return rows


def test_summary_of_shipped_registry_lists_kafka_like_the_original_spec(run):
    result = run("summary")
    assert result.returncode == OK, result.stderr
    assert result.stderr == ""
    assert "dynamicconfig/port_registry.yaml" in result.stdout.splitlines()[0]
    kafka = rows_of(result.stdout, "kafka")
    assert len(kafka) == 10
    assert kafka[0] == ["0", "kafka-development", "kafka-data", "9092", "19093"]
    assert kafka[1] == ["1", "kafka-development-1", "kafka-data-1", "9192", "19193"]
    assert kafka[2] == ["2", "kafka-development-2", "kafka-data-2", "9292", "19293"]


def test_summary_header_names_the_ports_of_each_service(run):
    out = run("summary").stdout
    header = next(line for line in out.splitlines() if "broker_port" in line)
    assert header.split() == ["INSTANCE", "CONTAINER", "VOLUME", "broker_port", "controller_port"]


def test_summary_covers_every_service_and_instance(run):
    out = run("summary").stdout
    headings = [line.split()[0] for line in out.splitlines() if re.match(r"^\S+  \(instance_increment", line)]
    assert headings == [
        "kafka", "mongodb", "mongo_express", "redis", "alertmanager", "prometheus", "grafana", "loki",
        "jaeger", "neo4j", "qdrant", "traefik", "promtail", "temporal", "argocd",
    ]
    mongodb = rows_of(out, "mongodb")
    assert [row[3] for row in mongodb[:3]] == ["27017", "27117", "27217"]
    assert mongodb[1][1:3] == ["mongodb-1", "mongodb-data-1"]
    assert len(rows_of(out, "traefik")) == 3


def test_summary_shows_ranges_and_differing_container_ports(run):
    out = run("summary").stdout
    traefik = rows_of(out, "traefik")
    assert traefik[0][3:] == ["80", "31001-31003"]
    assert traefik[1][3:] == ["180", "31101-31103"]
    argocd = rows_of(out, "argocd")
    assert argocd[0][3:] == ["8090->8080", "8091->8081"]
    assert argocd[2][3:] == ["8290->8080", "8291->8081"]


def test_summary_can_select_services(run):
    result = run("summary", "mongodb", "kafka")
    assert result.returncode == OK
    assert "mongodb  (" in result.stdout and "kafka  (" in result.stdout
    assert "redis  (" not in result.stdout
    # In the order asked for.
    assert result.stdout.index("mongodb  (") < result.stdout.index("kafka  (")


def test_summary_of_unknown_service_is_an_input_error(run):
    result = run("summary", "mongo")
    assert result.returncode == USAGE
    assert result.stdout == ""
    assert result.stderr.startswith("portmanager: error: unknown service 'mongo'; did you mean")


def test_list_shows_definitions(run):
    result = run("list")
    assert result.returncode == OK, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:5] == ["SERVICE", "INCREMENT", "MAX", "CONTAINER", "VOLUME"]
    kafka = next(line for line in lines if line.startswith("kafka "))
    assert kafka.split() == ["kafka", "100", "10", "kafka-development", "kafka-data",
                             "broker_port=9092->host", "controller_port=19093->host"]
    traefik = next(line for line in lines if line.startswith("traefik "))
    assert "entrypoint_port=31001-31003" in traefik.split()
    argocd = next(line for line in lines if line.startswith("argocd "))
    assert "server_port=8090->8080" in argocd.split()
    assert len(lines) == 16


def test_summary_logs_nothing_even_when_verbose(run):
    result = run("summary", "--verbose")
    assert result.returncode == OK
    assert result.stderr == ""
