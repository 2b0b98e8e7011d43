"""`compose SERVICE --instance N --document`: a whole compose file, validated by
Debian's docker-compose (`docker-compose -f FILE config`, no engine needed)."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from conftest import FINDINGS, OK, USAGE

KAFKA_1 = """services:
  "kafka-development-1":
    image: "apache/kafka"
    container_name: "kafka-development-1"
    labels:
      "io.portmanager.service": "kafka"
      "io.portmanager.instance": "1"
      "io.portmanager.environment": ""
    ports:
      - "9192:9192"
      - "19193:19193"
    volumes:
      - "kafka-data-1:/data"
volumes:
  "kafka-data-1":
    name: "kafka-data-1"
"""


def test_kafka_document_uses_the_registry_image(run):
    result = run("compose", "kafka", "--instance", "1", "--document")
    assert result.returncode == OK, result.stderr
    assert result.stdout == KAFKA_1


def test_image_option_overrides_and_is_required_without_the_key(run):
    result = run("compose", "redis", "-i", "2", "--document")
    assert result.returncode == USAGE and result.stdout == ""
    assert "service 'redis' has no image" in result.stderr and "--image" in result.stderr
    result = run("compose", "redis", "-i", "2", "--document", "--image", "redis:7", "--volume-path", "/var/lib/redis")
    assert result.returncode == OK, result.stderr
    assert '    image: "redis:7"\n' in result.stdout
    assert '      - "redis-data-2:/var/lib/redis"\n' in result.stdout
    assert '      - "6579:6379"\n' in result.stdout  # redis listens on its base port inside
    result = run("compose", "kafka", "-i", "1", "--document", "--image", "apache/kafka:3.7.0")
    assert '    image: "apache/kafka:3.7.0"\n' in result.stdout


@pytest.mark.parametrize("args, message", [
    (["--image", "x"], "--image, --command, --env KEY=VALUE, --volume-path and --format apply only with --document"),
    (["--command", "x"], "apply only with --document"),
    (["--env", "A=1"], "apply only with --document"),
    (["--format", "v2"], "apply only with --document"),
    (["--document", "--image", "bad image"], "--image 'bad image' is not a container image reference"),
    (["--document", "--volume-path", "relative"], "--volume-path 'relative' is not an absolute path"),
    (["--document", "--volume-target", "/a:b"], "--volume-path '/a:b' is not an absolute path"),
    (["--document", "--env-file"], "--document cannot be used with --env-file or --json"),
    (["--document", "--format", "v3"], "--format 'v3' is not one of: portable, v2"),
    (["--document", "--env", "1A=x"], "--env '1A=x' is not KEY=VALUE"),
    (["--document", "--env", "=x"], "--env '=x' is not KEY=VALUE"),
    (["--document", "--env", "a", "--env", "b"], "--env names one environment; got 'a', 'b'"),
    (["--project", "--document"], "--project cannot be used with --document, --env-file or --json"),
])
def test_bad_document_options(run, args, message):
    result = run("compose", "kafka", "-i", "1", *args)
    assert result.returncode == USAGE
    assert message in result.stderr, result.stderr


@pytest.mark.parametrize("command", [["get", "kafka", "-i", "1"], ["env", "kafka", "-i", "1"], ["summary"]])
def test_env_variables_only_for_compose_documents(run, command):
    """--env NAME selects an environment everywhere; --env KEY=VALUE is a container
    variable, which only `compose --document` takes: elsewhere it is refused, named."""
    result = run(*command, "--env", "TZ=UTC")
    assert result.returncode == 2 and result.stdout == ""
    assert "--env 'TZ=UTC': KEY=VALUE sets a container variable, which only `compose --document` takes" in result.stderr


def test_image_key_is_validated_like_other_keys(run, registry_file):
    path = registry_file("web:\n  port: 5000\n  image: 42\nweb2:\n  port: 6000\n  image: \"has space\"\n")
    result = run("check", "--registry", str(path))
    assert result.returncode == FINDINGS
    assert f"{path}:3:10: error: image of service 'web' must be a string, not an integer" in result.stdout, result.stdout
    assert f"{path}:6:10: error: image of service 'web2' 'has space' is not a container image reference" in result.stdout
    path = registry_file("web:\n  port: 5000\n  imag: nginx\n", name="typo.yaml")
    result = run("check", "--registry", str(path))
    assert "did you mean 'image'?" in result.stdout, result.stdout


def test_fragment_form_is_unchanged(run):
    result = run("compose", "kafka", "--instance", "1", "--indent", "2")
    assert result.stdout == '  - "9192:9192"\n  - "19193:19193"\n'


@pytest.mark.parametrize("service, instance, extra", [
    ("kafka", 1, []), ("traefik", 2, ["--image", "traefik:v3"]), ("argocd", 0, ["--image", "argoproj/argocd"]),
])
def test_docker_compose_accepts_the_document(run, tmp_path, service, instance, extra):
    compose = shutil.which("docker-compose")
    if compose is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose; .ci/run installs it)")
    result = run("compose", service, "-i", str(instance), "--document", *extra)
    assert result.returncode == OK, result.stderr
    path = tmp_path / "compose.yaml"
    path.write_text(result.stdout)
    checked = subprocess.run([compose, "-f", str(path), "config"], cwd=tmp_path, capture_output=True, text=True,
                             timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert checked.returncode == 0, checked.stdout + checked.stderr
    names = subprocess.run([compose, "-f", str(path), "config", "--volumes"], cwd=tmp_path, capture_output=True,
                           text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    container = json.loads(run("names", service, "-i", str(instance), "--json").stdout)["container_name"]
    assert f"container_name: {container}" in checked.stdout, checked.stdout
    assert names.returncode == 0 and names.stdout.split() != [], names.stderr


# Valid container and volume names that YAML reads as another type when bare:
# null, booleans (YAML 1.1's yes/on too), numbers in hex, octal, exponent or with
# underscores, and a date. Before the fix, compose refused these documents.
RETYPED_NAMES = ["null", "true", "yes", "on", "off", "no", "0x10", "0o17", "017", "1e3", "1_000", "12.5",
                 "2001-12-14", "NULL", "True"]


@pytest.mark.parametrize("name", RETYPED_NAMES)
def test_names_yaml_would_retype_are_quoted(run, registry_file, tmp_path, name):
    path = registry_file(f"web:\n  port: 5000\n  image: nginx\n  container_name: '{name}'\n  volume_name: '{name}'\n")
    result = run("compose", "web", "-i", "0", "--document", "--registry", str(path))
    assert result.returncode == OK, result.stderr
    assert f'  "{name}":\n' in result.stdout, result.stdout
    try:
        import yaml  # PyYAML reads YAML 1.1, as docker-compose v1 does
    except ImportError:
        yaml = None
    if yaml is not None:
        document = yaml.safe_load(result.stdout)
        assert list(document["services"]) == [name] and list(document["volumes"]) == [name], document
    compose = shutil.which("docker-compose")
    if compose is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose): the document was not validated")
    file = tmp_path / "compose.yaml"
    file.write_text(result.stdout)
    checked = subprocess.run([compose, "-f", str(file), "config"], cwd=tmp_path, capture_output=True, text=True,
                             timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert checked.returncode == 0, checked.stdout + checked.stderr


def compose_config(tmp_path, document: str, *args: str) -> subprocess.CompletedProcess:
    """`docker-compose [ARGS] -f FILE config` on `document` (Debian's docker-compose 1.29; no engine needed)."""
    compose = shutil.which("docker-compose")
    if compose is None:
        pytest.fail("docker-compose is not installed (apt-get install docker-compose; .ci/run installs it)")
    path = tmp_path / f"compose-{abs(hash(document))}.yaml"
    path.write_text(document)
    return subprocess.run([compose, *args, "-f", str(path), "config"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})


def test_project_names_one_project_per_instance(run, registry_file):
    assert run("compose", "kafka", "-i", "1", "--project").stdout == "kafka-1\n"
    assert run("compose", "kafka", "-i", "0", "--project").stdout == "kafka\n"
    assert run("compose", "mongo_express", "-i", "2", "--project").stdout == "mongo_express-2\n"
    path = registry_file("_environments:\n  CI.x: 1000\nWeb.App:\n  port: 5000\n")
    assert run("compose", "Web.App", "-i", "3", "--project", "--registry", str(path), "--env", "CI.x").stdout == "web-app-ci-x-3\n"


def test_document_carries_command_variables_labels_and_container_ports(run, tmp_path):
    result = run("compose", "redis", "-i", "1", "--document", "--image", "redis:7", "--command",
                 'redis-server --appendonly yes --dir "$HOME"', "--env", "TZ=UTC", "--env", "GREETING=a b=c $x",
                 "--volume-path", "/var/lib/redis")
    assert result.returncode == OK, result.stderr
    assert '    command: "redis-server --appendonly yes --dir \\"$$HOME\\""\n' in result.stdout
    assert '    environment:\n      "TZ": "UTC"\n      "GREETING": "a b=c $$x"\n' in result.stdout
    assert '      - "6479:6379"\n' in result.stdout
    project = run("compose", "redis", "-i", "1", "--project").stdout.strip()
    checked = compose_config(tmp_path, result.stdout, "-p", project)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "io.portmanager.service: redis" in checked.stdout and "io.portmanager.instance: '1'" in checked.stdout
    assert "TZ: UTC" in checked.stdout and "published: 6479" in checked.stdout and "target: 6379" in checked.stdout
    assert "redis-data-1:/var/lib/redis:rw" in checked.stdout


def test_two_instances_documents_are_two_projects(run, tmp_path):
    documents = {i: run("compose", "kafka", "-i", str(i), "--document").stdout for i in (1, 2)}
    projects = {i: run("compose", "kafka", "-i", str(i), "--project").stdout.strip() for i in (1, 2)}
    assert projects == {1: "kafka-1", 2: "kafka-2"}
    for i in (1, 2):
        checked = compose_config(tmp_path, documents[i], "-p", projects[i])
        assert checked.returncode == 0, checked.stderr
        assert f"container_name: kafka-development-{i}" in checked.stdout
        assert f"published: 9{i}92" in checked.stdout


def test_format_v2_names_the_project_and_compose_1_29_refuses_it(run, tmp_path):
    portable = run("compose", "kafka", "-i", "1", "--document").stdout
    v2 = run("compose", "kafka", "-i", "1", "--document", "--format", "v2").stdout
    assert v2 == 'name: "kafka-1"\n' + portable
    assert not portable.startswith("name:")
    version = subprocess.run(["docker-compose", "version", "--short"], capture_output=True, text=True).stdout
    if version.startswith("1."):
        refused = compose_config(tmp_path, v2)
        assert refused.returncode != 0 and "name" in refused.stderr, refused.stderr
