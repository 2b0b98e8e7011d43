"""`portmanager check`: 0 valid, 1 findings as FILE:LINE:COLUMN lines, 2 unreadable."""
from __future__ import annotations

import re

import pytest

from conftest import FINDINGS, OK, USAGE

FINDING = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): (?P<severity>error|warning|note): (?P<message>.+)$")


def findings(stdout: str) -> list[tuple[str, int, int, str, str]]:
    """Parses every stdout line as a finding; fails on a line that is not one."""
    result = []
    for line in stdout.splitlines():
        match = FINDING.match(line)
        assert match, f"not a FILE:LINE:COLUMN finding: {line!r}"
        result.append((match["file"], int(match["line"]), int(match["column"]), match["severity"], match["message"]))
    return result


def test_shipped_registry_is_valid(run):
    result = run("check")
    assert result.returncode == OK, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    # Warnings (say, a privileged port) may precede the OK line; errors may not.
    assert lines[-1].startswith("OK: dynamicconfig/port_registry.yaml: 15 services, 22 named ports, 89 instances")
    assert not any(": error: " in line for line in lines)
    assert result.stderr == ""


def test_explicit_registry_path(run, registry_file):
    path = registry_file("redis:\n  port: 6379\n")
    result = run("check", "--registry", str(path))
    assert result.returncode == OK
    assert result.stdout == f"OK: {path}: 1 service, 1 named port, 10 instances, 0 environments; no problems found\n"


def test_unknown_key_with_did_you_mean(run, registry_file):
    path = registry_file("kafka:\n  broker_port: 9092\n  instance_incremnet: 100\n")
    result = run("check", "--registry", str(path))
    assert result.returncode == FINDINGS
    [(file, line, column, severity, message)] = findings(result.stdout)
    assert (file, line, column, severity) == (str(path), 3, 3, "error")
    assert "unknown key 'instance_incremnet'" in message
    assert "did you mean 'instance_increment'" in message
    assert result.stderr == f"portmanager: {path}: 1 problem found\n"


def test_port_out_of_range(run, registry_file):
    path = registry_file("kafka:\n  broker_port: 70000\n")
    result = run("check", "--registry", str(path))
    assert result.returncode == FINDINGS
    [(file, line, column, _, message)] = findings(result.stdout)
    assert (file, line, column) == (str(path), 2, 16)
    assert "broker_port" in message and "70000" in message and "1..65535" in message


def test_duplicate_key_names_both_lines(run, registry_file):
    path = registry_file("kafka:\n  broker_port: 9092\n  broker_port: 9093\n")
    result = run("check", "--registry", str(path))
    assert result.returncode == FINDINGS
    [(_, line, column, _, message)] = findings(result.stdout)
    assert (line, column) == (3, 3)
    assert "duplicate key 'broker_port'" in message and "line 2" in message


def test_string_port_and_every_problem_reported_in_order(run, registry_file):
    path = registry_file("kafka:\n  broker_port: \"abc\"\n  controller_port: 1.5\nredis:\n  port: 0\n")
    result = run("check", "--registry", str(path))
    assert result.returncode == FINDINGS
    found = findings(result.stdout)
    assert [(line, column) for _, line, column, _, _ in found] == [(2, 16), (3, 20), (5, 9)]
    assert "'broker_port'" in found[0][4] and "string" in found[0][4]
    assert "'controller_port'" in found[1][4] and "float" in found[1][4]
    assert "'port'" in found[2][4] and "redis" in found[2][4]
    assert result.stderr == f"portmanager: {path}: 3 problems found\n"


def test_last_instance_past_65535(run, registry_file):
    path = registry_file("big:\n  port: 65000\n  max_instances: 10\n")
    result = run("check", "--registry", str(path))
    assert result.returncode == FINDINGS
    [(_, line, _, _, message)] = findings(result.stdout)
    assert line in (2, 3)
    assert "65900" in message or "65535" in message


def test_environment_offset_past_65535_is_a_finding(run, registry_file):
    path = registry_file("_environments:\n  ci: 20000\n  huge: 60000\nkafka:\n  broker_port: 9092\n")
    result = run("check", "--registry", str(path))
    assert result.returncode == FINDINGS
    [(_, line, column, _, message)] = findings(result.stdout)
    assert (line, column) == (3, 3)
    assert "environment 'huge'" in message and "broker_port" in message and "69992" in message


def test_yaml_syntax_error_is_exit_2_with_location(run, registry_file):
    path = registry_file("kafka:\n  broker_port: [9092\n")
    result = run("check", "--registry", str(path))
    assert result.returncode == USAGE
    assert result.stdout == ""
    assert re.match(rf"^portmanager: error: {re.escape(str(path))}:\d+:\d+: .*YAML", result.stderr)


def test_empty_file_is_exit_2(run, registry_file):
    path = registry_file("")
    result = run("check", "--registry", str(path))
    assert result.returncode == USAGE
    assert result.stderr == f"portmanager: error: {path}:1:1: the registry file is empty\n"


def test_missing_file_is_exit_2(run, tmp_path):
    path = tmp_path / "absent.yaml"
    result = run("check", "--registry", str(path))
    assert result.returncode == USAGE
    assert result.stdout == ""
    assert result.stderr == f"portmanager: error: no port registry found; looked in: {path} (no such file)\n"


def test_directory_is_exit_2(run, tmp_path):
    result = run("check", "--registry", str(tmp_path))
    assert result.returncode == USAGE
    assert str(tmp_path) in result.stderr and "directory" in result.stderr


def test_two_documents_is_exit_2(run, registry_file):
    path = registry_file("redis:\n  port: 6379\n---\nloki:\n  port: 3100\n")
    result = run("check", "--registry", str(path))
    assert result.returncode == USAGE
    assert result.stderr.startswith(f"portmanager: error: {path}:")


def test_non_utf8_input_is_exit_2(run, tmp_path):
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"kafka:\n  broker_port: \xff\xfe9092\n")
    result = run("check", "--registry", str(path))
    assert result.returncode == USAGE
    assert result.stdout == ""
    assert result.stderr.startswith(f"portmanager: error: {path}:")


@pytest.mark.parametrize("command", [("summary",), ("get", "kafka"), ("list",)])
def test_other_commands_refuse_an_invalid_registry_with_exit_2(run, registry_file, command):
    path = registry_file("kafka:\n  broker_port: 9092\n  instance_incremnet: 100\nredis:\n  port: 70000\n")
    result = run(*command, "--registry", str(path))
    assert result.returncode == USAGE
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"portmanager: error: {path}:3:3: unknown key 'instance_incremnet'")
    assert lines[1].startswith(f"portmanager: error: {path}:5:9: ")


def test_two_instances_with_one_container_name_are_an_error_naming_both(run, registry_file):
    path = registry_file("web:\n  port: 5000\n  max_instances: 3\n  instance_increment: 10\n"
                         "web_1:\n  port: 6000\n  max_instances: 3\n  instance_increment: 10\n")
    result = run("check", "--registry", str(path), "--ephemeral-range", "none")
    assert result.returncode == FINDINGS, result.stdout + result.stderr
    assert findings(result.stdout) == [(
        str(path), 5, 1, "error",
        "web instance 1 and web_1 instance 0 both get the container name 'web-1' (container stem 'web' of web and "
        "container stem 'web-1' of web_1); Docker refuses a second container of one name; "
        "fix: give web_1 another container_name (a stem no other service's names begin with)",
    )]
    assert "1 problem found" in result.stderr


def test_an_environment_named_like_an_instance_collides_with_it(run, registry_file):
    path = registry_file("_environments:\n  '1': 1000\nweb:\n  port: 5000\n  max_instances: 2\n")
    result = run("check", "--registry", str(path), "--ephemeral-range", "none", "--json")
    assert result.returncode == FINDINGS
    import json
    data = json.loads(result.stdout)
    names = [f for f in data["findings"] if f["kind"] == "name"]
    assert [(f["line"], f["names"][0]["kind"], f["names"][0]["name"]) for f in names] == [
        (2, "container", "web-1"), (2, "volume", "web-data-1"), (2, "project", "web-1")]
    assert names[0]["names"][0]["members"] == [
        {"service": "web", "instance": 1, "environment": None}, {"service": "web", "instance": 0, "environment": "1"}]
