"""`portmanager docker-args`: the `docker run` arguments of one instance, from the core."""
from __future__ import annotations

import json
import shlex
import subprocess

from conftest import OK, REPO, USAGE, Run

PROTOCOLS = REPO / "Tests" / "fixtures" / "protocols" / "udp_and_host_ip.yaml"
LABELS = ["io.portmanager.service", "io.portmanager.instance", "io.portmanager.environment"]


def words(run: Run, *args: str) -> list[str]:
    result = run("docker-args", *args)
    assert result.returncode == OK, result.stderr
    assert result.stdout.count("\n") == 1
    return shlex.split(result.stdout)


def test_kafka_instance_one_keeps_the_original_specs_mapping(run: Run) -> None:
    assert words(run, "kafka", "-i", "1") == [
        "--name", "kafka-development-1", "-p", "9192:9192/tcp", "-p", "19193:19193/tcp",
        "--label", "io.portmanager.service=kafka", "--label", "io.portmanager.instance=1",
        "--label", "io.portmanager.environment=",
    ]


def test_container_ports_ranges_and_the_volume(run: Run) -> None:
    assert words(run, "traefik", "-i", "2", "--volume-path", "/var/lib/traefik") == [
        "--name", "traefik-2", "-p", "280:80/tcp", "-p", "31201-31203:31001-31003/tcp",
        "-v", "traefik-data-2:/var/lib/traefik",
        "--label", "io.portmanager.service=traefik", "--label", "io.portmanager.instance=2",
        "--label", "io.portmanager.environment=",
    ]


def test_protocols_and_host_ips(run: Run) -> None:
    got = words(run, "coredns", "-i", "1", "--registry", str(PROTOCOLS))
    assert [got[i + 1] for i, w in enumerate(got) if w == "-p"] == [
        "127.0.0.1:1153:53/tcp", "127.0.0.1:1153:53/udp", "127.0.0.1:9253:9153/tcp"]
    got = words(run, "kafka_local", "-i", "0", "--registry", str(PROTOCOLS))
    assert got[got.index("-p") + 1] == "[::1]:9192:9092/tcp"


def test_the_environment_is_in_the_names_and_the_label(run: Run, registry_file) -> None:
    path = registry_file("_environments:\n  ci: 20000\nweb:\n  port: 8080\n")
    got = words(run, "web", "-i", "3", "--registry", str(path), "--env", "ci", "--volume-path", "/srv")
    assert got[:6] == ["--name", "web-ci-3", "-p", "28380:8080/tcp", "-v", "web-data-ci-3:/srv"]
    assert got[-1] == "io.portmanager.environment=ci"


def test_the_line_splits_into_the_same_words_unquoted(run: Run) -> None:
    """Every word is plain, so `docker run $(portmanager docker-args ...) IMAGE` gets exactly these arguments."""
    line = run("docker-args", "kafka", "-i", "1", "--volume-path", "/data").stdout
    split = subprocess.run(["sh", "-c", 'for w in $1; do printf "%s\\n" "$w"; done', "sh", line],
                           capture_output=True, text=True, check=True).stdout.splitlines()
    assert split == shlex.split(line)


def test_json_is_the_instance_document(run: Run) -> None:
    result = run("docker-args", "coredns", "-i", "0", "--registry", str(PROTOCOLS), "--json")
    assert result.returncode == OK, result.stderr
    data = json.loads(result.stdout)
    assert data["name"] == "coredns" and data["volume"] == "coredns-data" and data["image"] is None
    assert list(data["labels"]) == LABELS
    assert [(p["name"], p["protocol"], p["host_ip"], p["host_port"], p["container_port"]) for p in data["ports"]] == [
        ("dns_port", "tcp", "127.0.0.1", 1053, 53), ("dns_port", "udp", "127.0.0.1", 1053, 53),
        ("metrics_port", "tcp", "127.0.0.1", 9153, 9153)]


def test_bad_input_exits_2_naming_the_culprit(run: Run) -> None:
    for args, message in [
        (["kafak", "-i", "0"], "did you mean 'kafka'"),
        (["kafka", "-i", "10"], "allowed: 0..9"),
        (["kafka", "-i", "1", "--volume-path", "data"], "--volume-path 'data' is not an absolute path"),
        (["kafka", "-i", "1", "--volume-path", "/a:b"], "--volume-path '/a:b' is not an absolute path"),
        (["kafka"], "--instance"),
    ]:
        result = run("docker-args", *args)
        assert result.returncode == USAGE and result.stdout == "", args
        assert message in result.stderr, (args, result.stderr)
