"""Two instances' compose documents (`portmanager compose --document`) in one folder, each
its own project (`--project`), up and down independently with Debian's docker-compose."""

from __future__ import annotations

import subprocess
from pathlib import Path

import engine
from orchestration import Fleet


def compose(folder: Path, project: str, *arguments: str) -> None:
    result = subprocess.run(["docker-compose", "-p", project, "-f", f"{project}.yaml", *arguments],
                            cwd=folder, capture_output=True, text=True)
    assert result.returncode == 0, f"docker-compose -p {project} {' '.join(arguments)}:\n{result.stderr}"


def test_two_instances_documents_run_side_by_side_and_go_down_alone(fleet: Fleet, tmp_path: Path) -> None:
    projects = {}
    for instance in (1, 2):
        project = fleet.cli("compose", "redis", "-i", str(instance), "--project").stdout.strip()
        assert project == f"redis-{instance}"
        projects[instance] = fleet.labelled.claim_compose_project(project)
        document = fleet.cli("compose", "redis", "-i", str(instance), "--document", "--image", fleet.image,
                             "--command", "6379", "--env", f"INSTANCE={instance}").stdout
        (tmp_path / f"{project}.yaml").write_text(document)
    for project in projects.values():
        compose(tmp_path, project, "up", "-d")

    def check(instance: int) -> None:
        described = fleet.manager.instance("redis", instance)
        container = fleet.client.containers.get(described.container_name)
        assert container.status == "running" and described.labels.items() <= container.labels.items()
        assert container.labels["com.docker.compose.project"] == projects[instance]
        assert f"INSTANCE={instance}" in container.attrs["Config"]["Env"]
        assert {m["Name"]: m["Destination"] for m in container.attrs["Mounts"]} == {described.volume_name: "/data"}
        [port] = described.ports
        assert engine.answer(port.host_port) == f"{container.id[:12]} 6379\n"  # HOST:CONTAINER, 6479:6379
        row = fleet.status()[("redis", instance)]
        assert (row["state"], row.get("container")) == ("running", described.container_name), row

    check(1)
    check(2)
    compose(tmp_path, projects[1], "down")
    names = {container.name for container in fleet.client.containers.list(all=True)}
    assert "redis-1" not in names and ("redis", 1) not in fleet.status()
    check(2)
    compose(tmp_path, projects[2], "down")
    assert fleet.status() == {}
