"""The example orchestrator (portmanager.examples.orchestrator) without a server and
without an engine: its activities in temporalio's ActivityEnvironment against a fake
Docker SDK client (FakeDocker, below), a private store and the shipped registry.

Crashes are staged: what a killed attempt leaves (a reservation without a container,
a container without its reservation bound, a container created but not started) is
made by hand, then the retry runs with the same workflow ID. The real thing (SIGKILLed
workers, a real engine and server) is Tests/e2e/test_orchestrator_crashes.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Set

import pytest

pytest.importorskip("temporalio", reason="temporalio is installed from Tests/requirements.txt")
pytest.importorskip("docker", reason="the Docker SDK is installed from Tests/requirements.txt")
import docker.errors  # noqa: E402
import requests  # noqa: E402
from temporalio.exceptions import ApplicationError  # noqa: E402
from temporalio.testing import ActivityEnvironment  # noqa: E402

import portmanager  # noqa: E402
from portmanager.examples import orchestrator as example  # noqa: E402
from portmanager.examples.orchestrator import WORKFLOW_LABEL, ServiceOrchestrator  # noqa: E402
from conftest import BINDING, REGISTRY  # noqa: E402


# ----------------------------------------------------------------------------- a fake engine


def api_error(status: int, message: str, kind: type = docker.errors.APIError) -> Exception:
    response = requests.Response()
    response.status_code = status
    return kind(message, response=response, explanation=message)  # type: ignore[no-any-return]


class FakeContainer:
    def __init__(self, engine: "FakeDocker", name: str, image: str, command: Any, labels: Dict[str, str],
                 ports: Dict[str, Any], volumes: Dict[str, Any], environment: Optional[Dict[str, str]]) -> None:
        self.engine, self.name, self.image, self.command = engine, name, image, command
        self.id = uuid.uuid4().hex + uuid.uuid4().hex
        self.labels, self.ports, self.volumes, self.environment = dict(labels), ports, volumes, environment
        self.status = "created"

    def start(self) -> None:
        if self.engine.fail_start is not None:
            raise self.engine.fail_start
        self.engine.starts.append(self.name)
        self.status = "running"

    def stop(self, timeout: int = 10) -> None:
        self.status = "exited"

    def remove(self, force: bool = False, v: bool = False) -> None:
        del self.engine.by_name[self.name]


class FakeContainers:
    def __init__(self, engine: "FakeDocker") -> None:
        self.engine = engine

    def run(self, image: str, command: Any = None, *, detach: bool, name: str, ports: Dict[str, Any],
            volumes: Dict[str, Any], labels: Dict[str, str], environment: Optional[Dict[str, str]] = None) -> Any:
        assert detach is True
        self.engine.runs.append(name)
        if self.engine.fail_run is not None:
            raise self.engine.fail_run
        if name in self.engine.by_name:
            raise api_error(409, f'Conflict. The container name "/{name}" is already in use')
        container = self.engine.by_name[name] = FakeContainer(self.engine, name, image, command, labels, ports,
                                                               volumes, environment)
        container.start()
        return container

    def list(self, all: bool, filters: Dict[str, str], ignore_removed: bool) -> List[FakeContainer]:
        key, _, value = filters["label"].partition("=")
        return [c for c in self.engine.by_name.values() if c.labels.get(key) == value]

    def get(self, name: str) -> FakeContainer:
        if name not in self.engine.by_name:
            raise api_error(404, f"No such container: {name}", docker.errors.NotFound)
        return self.engine.by_name[name]


class FakeVolumes:
    def __init__(self, engine: "FakeDocker") -> None:
        self.engine = engine

    def get(self, name: str) -> Any:
        if name not in self.engine.volume_names:
            raise api_error(404, f"get {name}: no such volume", docker.errors.NotFound)
        return FakeVolume(self.engine, name)


class FakeVolume:
    def __init__(self, engine: "FakeDocker", name: str) -> None:
        self.engine, self.name = engine, name

    def remove(self) -> None:
        self.engine.volume_names.discard(self.name)


class FakeDocker:
    """The part of the Docker SDK's client the orchestrator uses: containers.run/list/get, volumes.get."""

    def __init__(self) -> None:
        self.by_name: Dict[str, FakeContainer] = {}
        self.volume_names: Set[str] = set()
        self.runs: List[str] = []
        self.starts: List[str] = []
        self.fail_run: Optional[Exception] = None
        self.fail_start: Optional[Exception] = None
        self.containers = FakeContainers(self)
        self.volumes = FakeVolumes(self)


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture()
def engine(monkeypatch: pytest.MonkeyPatch) -> FakeDocker:
    # The library asks the Docker engine too (reaping, adoption): none here, so only the store decides.
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/portmanager-test/docker.sock")
    return FakeDocker()


@pytest.fixture()
def orchestrator(engine: FakeDocker, tmp_path: Path) -> Iterator[ServiceOrchestrator]:
    with portmanager.PortManager(REGISTRY) as pm:
        yield ServiceOrchestrator(pm, engine, state_dir=str(tmp_path / "state"))


def in_activity(function: Any, params: Any, workflow_id: str = "wf-1", attempt: int = 1) -> Any:
    async def run() -> Any:
        environment = ActivityEnvironment()  # made inside the loop (Python 3.9)
        environment.info = dataclasses.replace(environment.info, workflow_id=workflow_id, attempt=attempt)
        return environment.run(function, params)

    return asyncio.run(run())


def held(orchestrator: ServiceOrchestrator, service: str) -> Dict[int, tuple]:  # type: ignore[type-arg]
    """instance -> (owner_kind, owner) of the store's reservations of a service."""
    rows = orchestrator.manager.reservations(service, state_dir=orchestrator.state_dir)
    return {row.instance: (row.owner_kind, row.owner) for row in rows}


def redis(**params: Any) -> Dict[str, Any]:
    return {"service": "redis", "image": "busybox", "command": ["serve", "{port}"], "probe": False, **params}


# ----------------------------------------------------------------------------- starting


def test_a_start_runs_the_instance_and_binds_its_reservation(orchestrator: ServiceOrchestrator,
                                                             engine: FakeDocker) -> None:
    result = in_activity(orchestrator.start_service_activity, redis(instance_id=1), workflow_id="orders-7")
    assert result == {
        "service": "redis", "instance_id": 1, "environment": None, "container_name": "redis-1",
        "container_id": engine.by_name["redis-1"].id, "volume_name": "redis-data-1",
        "ports": {"port": 6479}, "container_ports": {"port": 6379}, "owner": "redis-1",
        "workflow_id": "orders-7", "fresh": True, "started": True,
    }
    container = engine.by_name["redis-1"]
    assert container.image == "busybox" and container.command == ["serve", "6379"]
    assert container.ports == {"6379/tcp": 6479}
    assert container.volumes == {"redis-data-1": {"bind": "/data", "mode": "rw"}}
    assert container.labels == {**orchestrator.manager.instance("redis", 1).labels, WORKFLOW_LABEL: "orders-7"}
    assert held(orchestrator, "redis") == {1: ("container", "redis-1")}


def test_the_original_spec_kafka_activity(orchestrator: ServiceOrchestrator, engine: FakeDocker) -> None:
    result = in_activity(orchestrator.start_kafka_activity, {"instance_id": 2, "probe": False})
    assert (result["container_name"], result["volume_name"]) == ("kafka-development-2", "kafka-data-2")
    assert (result["broker_port"], result["controller_port"], result["bootstrap"]) == (9292, 19293, "localhost:9292")
    container = engine.by_name["kafka-development-2"]
    assert container.image == "apache/kafka"  # the registry's image:
    assert container.ports == {"9292/tcp": 9292, "19293/tcp": 19293}  # the original spec's 9292:9292
    assert container.volumes == {"kafka-data-2": {"bind": "/var/lib/kafka/data", "mode": "rw"}}
    assert container.environment is not None
    assert container.environment["KAFKA_LISTENERS"] == "PLAINTEXT://:9292,CONTROLLER://:19293"
    assert container.environment["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://localhost:9292"
    with pytest.raises(ApplicationError, match="unknown params 'service'") as raised:
        in_activity(orchestrator.start_kafka_activity, {"service": "redis"})
    assert raised.value.non_retryable


def test_workflows_without_an_instance_get_distinct_ones(orchestrator: ServiceOrchestrator) -> None:
    first = in_activity(orchestrator.start_service_activity, redis(), workflow_id="a")
    second = in_activity(orchestrator.start_service_activity, redis(), workflow_id="b")
    assert (first["instance_id"], second["instance_id"]) == (0, 1)
    assert held(orchestrator, "redis") == {0: ("container", "redis"), 1: ("container", "redis-1")}


def test_a_running_instance_refuses_another_workflow_at_once(orchestrator: ServiceOrchestrator,
                                                             engine: FakeDocker) -> None:
    in_activity(orchestrator.start_service_activity, redis(instance_id=1), workflow_id="first")
    with pytest.raises(ApplicationError) as raised:
        in_activity(orchestrator.start_service_activity, redis(instance_id=1), workflow_id="second")
    assert raised.value.non_retryable and raised.value.type == "ReservedError"
    assert "redis-1" in raised.value.message
    assert engine.runs == ["redis-1"]  # the second never ran a container
    assert held(orchestrator, "redis") == {1: ("container", "redis-1")}


def test_the_same_workflow_asking_again_gets_its_running_instance(orchestrator: ServiceOrchestrator,
                                                                  engine: FakeDocker) -> None:
    first = in_activity(orchestrator.start_service_activity, redis(instance_id=1), workflow_id="wf")
    again = in_activity(orchestrator.start_service_activity, redis(instance_id=1), workflow_id="wf", attempt=2)
    assert (again["container_id"], again["started"], again["fresh"]) == (first["container_id"], False, False)
    assert engine.runs == ["redis-1"] and engine.starts == ["redis-1"]


# ----------------------------------------------------------------------------- retries after crashes


def test_a_retry_after_a_crash_between_reserve_and_run_takes_the_same_instance(
    orchestrator: ServiceOrchestrator, engine: FakeDocker
) -> None:
    orchestrator.manager.reserve("redis", 0, owner="someone", probe=False, state_dir=orchestrator.state_dir)
    # Attempt 1 auto-picked instance 1, reserved it, and died.
    orchestrator.manager.reserve("redis", None, owner="wf", probe=False, state_dir=orchestrator.state_dir)
    result = in_activity(orchestrator.start_service_activity, redis(), workflow_id="wf", attempt=2)
    assert (result["instance_id"], result["fresh"], result["started"]) == (1, False, True)
    assert held(orchestrator, "redis") == {0: ("name", "someone"), 1: ("container", "redis-1")}
    assert engine.runs == ["redis-1"]


def stage_a_crash_after_run(orchestrator: ServiceOrchestrator, engine: FakeDocker, status: str) -> FakeContainer:
    """What an attempt of workflow "wf" that died after `docker run` (before bind) leaves for instance 1."""
    orchestrator.manager.reserve("redis", 1, owner="wf", probe=False, state_dir=orchestrator.state_dir)
    kwargs = orchestrator.manager.docker_run_kwargs("redis", 1)
    kwargs["labels"] = {**kwargs["labels"], WORKFLOW_LABEL: "wf"}
    container = engine.containers.run("busybox", ["serve", "6379"], detach=True, **kwargs)
    container.status = status
    engine.runs.clear()
    engine.starts.clear()
    return container  # type: ignore[no-any-return]


@pytest.mark.parametrize("params", [redis(), redis(instance_id=1)], ids=["auto-picked", "explicit"])
def test_a_retry_after_a_crash_after_run_resumes_the_container(
    orchestrator: ServiceOrchestrator, engine: FakeDocker, params: Dict[str, Any]
) -> None:
    container = stage_a_crash_after_run(orchestrator, engine, "running")
    result = in_activity(orchestrator.start_service_activity, params, workflow_id="wf", attempt=2)
    assert (result["instance_id"], result["container_id"], result["started"]) == (1, container.id, False)
    assert engine.runs == [] and engine.starts == []  # never a second container, nor a restart
    assert held(orchestrator, "redis") == {1: ("container", "redis-1")}


def test_a_retry_starts_the_container_a_crash_left_created(orchestrator: ServiceOrchestrator,
                                                           engine: FakeDocker) -> None:
    container = stage_a_crash_after_run(orchestrator, engine, "created")
    in_activity(orchestrator.start_service_activity, redis(), workflow_id="wf", attempt=2)
    assert engine.runs == [] and engine.starts == ["redis-1"] and container.status == "running"


def test_a_retry_adopts_its_container_when_it_has_no_reservation(orchestrator: ServiceOrchestrator,
                                                                  engine: FakeDocker) -> None:
    container = stage_a_crash_after_run(orchestrator, engine, "running")
    orchestrator.manager.release("redis", 1, owner="wf", state_dir=orchestrator.state_dir)  # by hand, say
    result = in_activity(orchestrator.start_service_activity, redis(), workflow_id="wf", attempt=2)
    assert (result["instance_id"], result["container_id"], result["started"]) == (1, container.id, False)
    assert engine.runs == [] and held(orchestrator, "redis") == {1: ("container", "redis-1")}


def test_another_workflows_container_is_not_resumed(orchestrator: ServiceOrchestrator, engine: FakeDocker) -> None:
    stage_a_crash_after_run(orchestrator, engine, "running")
    with pytest.raises(ApplicationError) as raised:
        in_activity(orchestrator.start_service_activity, redis(instance_id=1), workflow_id="other")
    assert raised.value.type == "ReservedError" and "'wf'" in raised.value.message
    assert engine.runs == [] and held(orchestrator, "redis") == {1: ("name", "wf")}


# ----------------------------------------------------------------------------- failures


def test_a_failed_run_releases_a_fresh_reservation_only(orchestrator: ServiceOrchestrator,
                                                        engine: FakeDocker) -> None:
    engine.fail_run = api_error(500, "driver failed programming external connectivity")
    with pytest.raises(docker.errors.APIError):
        in_activity(orchestrator.start_service_activity, redis(instance_id=2), workflow_id="wf")
    assert held(orchestrator, "redis") == {}  # fresh: released, and the error stays retryable
    orchestrator.manager.reserve("redis", 2, owner="wf", probe=False, state_dir=orchestrator.state_dir)
    with pytest.raises(docker.errors.APIError):
        in_activity(orchestrator.start_service_activity, redis(instance_id=2), workflow_id="wf", attempt=2)
    assert held(orchestrator, "redis") == {2: ("name", "wf")}  # not fresh: the workflow's before this attempt


def test_a_failed_start_removes_the_container_it_created(orchestrator: ServiceOrchestrator,
                                                         engine: FakeDocker) -> None:
    engine.fail_start = api_error(500, "Bind for 0.0.0.0:6479 failed: port is already allocated")
    with pytest.raises(docker.errors.APIError, match="already allocated"):
        in_activity(orchestrator.start_service_activity, redis(instance_id=1))
    assert engine.by_name == {} and held(orchestrator, "redis") == {}


def test_a_missing_image_fails_at_once(orchestrator: ServiceOrchestrator, engine: FakeDocker) -> None:
    engine.fail_run = api_error(404, "No such image: nope:1", docker.errors.ImageNotFound)
    with pytest.raises(ApplicationError) as raised:
        in_activity(orchestrator.start_service_activity, redis(image="nope:1"))
    assert raised.value.non_retryable and raised.value.type == "ImageNotFound"
    assert held(orchestrator, "redis") == {}


def test_a_stranger_holding_the_name_fails_at_once(orchestrator: ServiceOrchestrator, engine: FakeDocker) -> None:
    engine.by_name["redis-1"] = FakeContainer(engine, "redis-1", "x", None, {}, {}, {}, None)
    with pytest.raises(ApplicationError) as raised:
        in_activity(orchestrator.start_service_activity, redis(instance_id=1), workflow_id="wf")
    assert raised.value.non_retryable and raised.value.type == "ContainerConflict"
    assert "'redis-1'" in raised.value.message and "'wf'" in raised.value.message
    assert held(orchestrator, "redis") == {} and "redis-1" in engine.by_name


@pytest.mark.parametrize(
    "params, message",
    [
        ([], "params must be a dict, not list"),
        ({}, "params need 'service'"),
        ({"service": "redis", "instanse_id": 1}, "unknown params 'instanse_id'"),
        ({"service": "redis", "instance_id": "1"}, "params['instance_id'] must be an int or None, not str"),
        ({"service": "redis", "instance_id": True}, "params['instance_id'] must be an int or None, not bool"),
        ({"service": "redis", "command": ["serve", 6379]}, "params['command'] must be a str or a list of str"),
        ({"service": "redis", "environment": {"A": 1}}, "params['environment'] must be a dict of str to str"),
        ({"service": "redis", "probe": "no"}, "params['probe'] must be True or False, not str"),
        (redis(command="serve {porte}"), "names {porte}, which is not one of {port}, {instance}, {container_name}"),
        (redis(command="serve {"), "write {{ and }} for braces"),
        ({"service": "redis", "probe": False}, "service 'redis' has no image: in the registry"),
        (redis(service="nope"), "unknown service 'nope'"),
    ],
)
def test_bad_params_fail_at_once_naming_the_culprit(orchestrator: ServiceOrchestrator, engine: FakeDocker,
                                                     params: Any, message: str) -> None:
    with pytest.raises(ApplicationError) as raised:
        in_activity(orchestrator.start_service_activity, params)
    assert raised.value.non_retryable and message in raised.value.message
    assert engine.by_name == {} and held(orchestrator, "redis") == {}


def test_the_command_names_ports_inside_the_container(orchestrator: ServiceOrchestrator, engine: FakeDocker) -> None:
    in_activity(orchestrator.start_kafka_activity,
                {"instance_id": 1, "probe": False, "command": "serve {broker_port} {controller_port} #{instance} {{}}"})
    assert engine.by_name["kafka-development-1"].command == "serve 9192 19193 #1 {}"


# ----------------------------------------------------------------------------- stopping


def test_stop_removes_the_container_and_releases(orchestrator: ServiceOrchestrator, engine: FakeDocker) -> None:
    in_activity(orchestrator.start_service_activity, redis(instance_id=1), workflow_id="wf")
    engine.volume_names.add("redis-data-1")
    stopped = in_activity(orchestrator.stop_service_activity, {"service": "redis", "instance_id": 1,
                                                               "remove_volume": True}, workflow_id="stopper")
    assert stopped == {"service": "redis", "instance_id": 1, "container_name": "redis-1", "removed": True,
                       "released": True}
    assert engine.by_name == {} and engine.volume_names == set() and held(orchestrator, "redis") == {}
    again = in_activity(orchestrator.stop_service_activity, {"service": "redis", "instance_id": 1})
    assert (again["removed"], again["released"]) == (False, False)


def test_stop_releases_what_the_workflow_reserved_before_its_crash(orchestrator: ServiceOrchestrator) -> None:
    orchestrator.manager.reserve("kafka", 3, owner="wf", probe=False, state_dir=orchestrator.state_dir)
    stopped = in_activity(orchestrator.stop_kafka_activity, {"instance_id": 3}, workflow_id="wf")
    assert (stopped["removed"], stopped["released"]) == (False, True)


def test_stop_refuses_another_holder_before_removing_anything(orchestrator: ServiceOrchestrator,
                                                              engine: FakeDocker) -> None:
    stage_a_crash_after_run(orchestrator, engine, "running")  # held by workflow "wf", not yet its container
    with pytest.raises(ApplicationError) as raised:
        in_activity(orchestrator.stop_service_activity, {"service": "redis", "instance_id": 1}, workflow_id="x")
    assert raised.value.non_retryable and raised.value.type == "NotOwnerError"
    assert "name 'wf'" in raised.value.message and "redis-1" in engine.by_name


# ----------------------------------------------------------------------------- packaging


def test_the_module_level_activities_use_the_default_orchestrator(monkeypatch: pytest.MonkeyPatch,
                                                                  engine: FakeDocker, tmp_path: Path) -> None:
    with portmanager.PortManager(REGISTRY) as pm:
        monkeypatch.setattr(example, "_default", ServiceOrchestrator(pm, engine, state_dir=str(tmp_path)))
        result = in_activity(example.start_kafka_activity, {"probe": False, "image": "busybox"})
        assert result["container_name"] == "kafka-development" and result["broker_port"] == 9092
        assert in_activity(example.stop_kafka_activity, {"instance_id": 0})["released"] is True


def test_import_portmanager_imports_neither_docker_nor_temporalio() -> None:
    code = ("import sys, portmanager; print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'docker', 'temporalio', 'requests'}), 'portmanager.examples' in sys.modules)")
    environment = {**os.environ, "PYTHONPATH": str(BINDING / "src")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=True)
    assert result.stdout.strip() == "[] False"


def test_the_worker_registers_every_workflow_and_activity() -> None:
    from portmanager.examples import worker, workflows

    assert worker.WORKFLOWS == [workflows.ServiceWorkflow, workflows.KafkaWorkflow, workflows.StopServiceWorkflow]
    names = [function.__temporal_activity_definition.name  # type: ignore[attr-defined]
             for function in ServiceOrchestrator(docker_client=object()).activities()]
    assert names == ["start_service_activity", "stop_service_activity", "start_kafka_activity", "stop_kafka_activity"]
