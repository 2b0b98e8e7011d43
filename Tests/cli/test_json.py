"""Every `--json` output parses and holds the right values."""
from __future__ import annotations

import json

from conftest import OK, SHIPPED


def parsed(run, *args):
    result = run(*args, "--json")
    assert result.returncode == OK, result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout)


def test_summary_json(run):
    data = parsed(run, "summary")
    assert data["registry"] == "dynamicconfig/port_registry.yaml"
    assert data["environment"] is None
    services = {s["name"]: s for s in data["services"]}
    assert len(services) == 15
    kafka = services["kafka"]
    assert kafka["instance_increment"] == 100 and kafka["max_instances"] == 10
    assert len(kafka["instances"]) == 10
    one = kafka["instances"][1]
    assert one["instance"] == 1
    assert one["container_name"] == "kafka-development-1"
    assert one["volume_name"] == "kafka-data-1"
    assert [(p["name"], p["host"], p["container"]) for p in one["ports"]] == [
        ("broker_port", 9192, 9192), ("controller_port", 19193, 19193),
    ]
    assert [i["ports"][0]["host"] for i in services["mongodb"]["instances"][:2]] == [27017, 27117]
    entry = services["traefik"]["instances"][1]["ports"][1]
    assert entry == {"name": "entrypoint_port", "host": 31101, "host_last": 31103, "container": 31001,
                     "container_last": 31003, "host_text": "31101-31103", "mapping": "31101-31103:31001-31003"}
    assert services["argocd"]["instances"][0]["ports"][0]["mapping"] == "8090:8080"


def test_list_json(run):
    data = parsed(run, "list")
    kafka = data["services"][0]
    assert kafka["name"] == "kafka"
    assert kafka["ports"] == [
        {"name": "broker_port", "base": 9092, "base_last": 9092, "count": 1, "container": None},
        {"name": "controller_port", "base": 19093, "base_last": 19093, "count": 1, "container": None},
    ]
    assert (kafka["container_name"], kafka["volume_name"]) == ("kafka-development", "kafka-data")
    assert kafka["location"].startswith("dynamicconfig/port_registry.yaml:")
    argocd = next(s for s in data["services"] if s["name"] == "argocd")
    assert argocd["ports"][0]["container"] == 8080
    assert data["environments"] == []


def test_get_one_port_json(run):
    data = parsed(run, "get", "kafka", "--instance", "1", "--port", "broker_port")
    assert data["service"] == "kafka" and data["instance"] == 1
    assert data["port"]["host"] == 9192
    assert data["port"]["mapping"] == "9192:9192"


def test_get_all_ports_json(run):
    data = parsed(run, "get", "kafka", "--instance", "2")
    assert [(p["name"], p["host"]) for p in data["ports"]] == [("broker_port", 9292), ("controller_port", 19293)]


def test_names_json(run):
    assert parsed(run, "names", "kafka", "--instance", "1") == {
        "service": "kafka", "instance": 1,
        "container_name": "kafka-development-1", "volume_name": "kafka-data-1",
    }


def test_env_json(run):
    data = parsed(run, "env", "kafka", "--instance", "1")
    assert data == {
        "KAFKA_BROKER_PORT": "9192", "KAFKA_CONTROLLER_PORT": "19193",
        "KAFKA_CONTAINER_NAME": "kafka-development-1", "KAFKA_VOLUME_NAME": "kafka-data-1",
    }
    assert list(data) == ["KAFKA_BROKER_PORT", "KAFKA_CONTROLLER_PORT", "KAFKA_CONTAINER_NAME", "KAFKA_VOLUME_NAME"]


def test_compose_json(run):
    data = parsed(run, "compose", "traefik", "--instance", "1")
    assert data["ports"] == ["180:80", "31101-31103:31001-31003"]
    assert data["container_name"] == "traefik-1"


def test_json_strings_are_escaped(run, tmp_path):
    # A registry path with a quote, a backslash and a tab lands in the JSON verbatim.
    odd = tmp_path / 'we"ird\\ di\tr'
    odd.mkdir()
    path = odd / "reg.yaml"
    path.write_text(SHIPPED.read_text())
    data = parsed(run, "summary", "kafka", "--registry", str(path))
    assert data["registry"] == str(path)
