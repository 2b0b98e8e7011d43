"""`portmanager check`: the whole-lattice analysis (docs/analysis.md).

Collisions and bad environment offsets are errors (exit 1); privileged and
ephemeral ports are warnings (exit 0, or 1 with --strict). Every test passes
--ephemeral-range so the answer does not depend on this host's /proc.
"""
from __future__ import annotations

import json
import re

from conftest import FINDINGS, OK, REPO, USAGE

SEED = REPO / "Tests" / "fixtures" / "seed_table.yaml"
LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): (?P<severity>error|warning|note): (?P<message>.+)$")
LINUX = ("--ephemeral-range", "32768-60999")


def lines(stdout: str) -> list[re.Match]:
    """Every stdout line but a final OK line, each parsed as FILE:LINE:COLUMN: severity: message."""
    result = []
    for line in stdout.splitlines():
        if line.startswith("OK: "):
            continue
        match = LINE.match(line)
        assert match, f"not a FILE:LINE:COLUMN finding: {line!r}"
        result.append(match)
    return result


def test_seed_table_has_its_ten_colliding_ports(run):
    result = run("check", "--registry", str(SEED), *LINUX)
    assert result.returncode == FINDINGS, result.stdout + result.stderr
    found = lines(result.stdout)
    errors = [m for m in found if m["severity"] == "error"]
    warnings = [m for m in found if m["severity"] == "warning"]
    assert len(errors) == 3 and len(warnings) == 1
    ports = set()
    for m in errors:
        assert m["file"] == str(SEED)
        shared = re.search(r"share host ports? (\d+(?:, \d+)*)", m["message"])
        assert shared, m["message"]
        ports |= {int(p) for p in shared.group(1).split(", ")}
        assert "; fix: move the base of " in m["message"]
    assert ports == {3100, 3200, 3300, 3400, 8080, 8180, 8280, 8081, 8181, 8281}
    grafana = next(m for m in errors if "grafana" in m["message"])
    assert (int(grafana["line"]), int(grafana["column"])) == (50, 3)
    assert "grafana port 'port' instances 1-4 and loki port 'port' instances 0-3" in grafana["message"]
    assert "traefik port 'web_port'" in warnings[0]["message"] and "80, 180, 280" in warnings[0]["message"]
    assert result.stderr == f"portmanager: {SEED}: 3 problems found\n"


def test_seed_table_json(run):
    result = run("check", "--registry", str(SEED), "--json", *LINUX)
    assert result.returncode == FINDINGS
    data = json.loads(result.stdout)
    assert data["ephemeral_range"] == [32768, 60999]
    assert (data["errors"], data["warnings"]) == (3, 1)
    collisions = [f for f in data["findings"] if f["kind"] == "collision"]
    assert sorted(p for f in collisions for p in f["host_ports"]) == [3100, 3200, 3300, 3400, 8080, 8081, 8180, 8181, 8280, 8281]
    grafana = next(f for f in collisions if f["host_ports"][0] == 3100)
    assert [[(m["service"], m["instance"]) for m in o["members"]] for o in grafana["occurrences"]] == [
        [("grafana", 1), ("loki", 0)], [("grafana", 2), ("loki", 1)], [("grafana", 3), ("loki", 2)], [("grafana", 4), ("loki", 3)]]
    assert grafana["suggestion"].startswith("move the base of loki port 'port' to ")
    [privileged] = [f for f in data["findings"] if f["kind"] == "privileged"]
    assert privileged["severity"] == "warning" and privileged["host_ports"] == [80, 180, 280]


def test_shipped_registry_has_no_collision_and_strict_fails_on_its_warning(run):
    plain = run("check", *LINUX)
    assert plain.returncode == OK, plain.stdout + plain.stderr
    assert not any(m["severity"] == "error" for m in lines(plain.stdout))
    strict = run("check", "--strict", *LINUX)
    assert strict.returncode == FINDINGS
    assert strict.stderr == "portmanager: dynamicconfig/port_registry.yaml: 1 warning found (--strict)\n"
    data = json.loads(run("check", "--json", *LINUX).stdout)
    assert data["errors"] == 0
    assert not [f for f in data["findings"] if f["kind"] == "collision"]


def test_ephemeral_range_option_flags_and_none_skips(run, registry_file):
    path = registry_file("app:\n  port: 40000\n  max_instances: 2\n")
    flagged = run("check", "--registry", str(path), *LINUX)
    assert flagged.returncode == OK
    [m] = lines(flagged.stdout)
    assert (m["severity"], int(m["line"])) == ("warning", 2)
    assert "40000, 40100, inside the ephemeral range 32768-60999" in m["message"]
    assert "ip_local_reserved_ports=40000,40100" in m["message"]
    assert run("check", "--registry", str(path), *LINUX, "--strict").returncode == FINDINGS
    assert lines(run("check", "--registry", str(path), "--ephemeral-range", "41000-42000").stdout) == []
    assert lines(run("check", "--registry", str(path), "--ephemeral-range", "none").stdout) == []


def test_bad_ephemeral_range_is_a_usage_error(run):
    for bad in ("60999-32768", "abc", "0-10", "1-70000"):
        result = run("check", "--ephemeral-range", bad)
        assert result.returncode == USAGE, bad
        assert "--ephemeral-range" in result.stderr and "ephemeral range" in result.stderr


def test_cross_environment_collision_is_located_at_the_environment(run, registry_file):
    path = registry_file("_environments:\n  ci: 100\nkafka:\n  broker_port: 9092\n  max_instances: 3\n")
    result = run("check", "--registry", str(path), *LINUX)
    assert result.returncode == FINDINGS
    [m] = lines(result.stdout)
    assert (int(m["line"]), int(m["column"]), m["severity"]) == (2, 3, "error")
    assert "in environment 'ci'" in m["message"] and "9192, 9292" in m["message"]
    assert "fix: lower max_instances of kafka to 1" in m["message"]


def test_environment_into_ephemeral_range_is_a_warning_at_the_environment(run, registry_file):
    path = registry_file("_environments:\n  dev: 0\n  ci: 20000\nmongodb:\n  port: 27017\n")
    result = run("check", "--registry", str(path), *LINUX)
    assert result.returncode == OK, result.stdout
    [m] = lines(result.stdout)
    assert (int(m["line"]), m["severity"]) == (3, "warning")
    assert m["message"].startswith("environment 'ci' (offset +20000) moves mongodb port 'port' instances 0-9 to host ports 47017")


def test_invalid_registry_json_keeps_the_shape(run, registry_file):
    path = registry_file("kafka:\n  broker_port: 70000\n")
    result = run("check", "--registry", str(path), "--json", *LINUX)
    assert result.returncode == FINDINGS
    data = json.loads(result.stdout)
    assert data["errors"] == 1
    [finding] = data["findings"]
    assert (finding["kind"], finding["line"], finding["severity"]) == ("invalid", 2, "error")
    assert "70000" in finding["message"]
