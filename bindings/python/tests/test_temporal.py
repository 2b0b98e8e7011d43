"""The original spec's Temporal usage: start_kafka_activity in temporalio's in-process activity environment.

No Temporal server and no Docker: ActivityEnvironment runs the activity
function with a real activity context, and KafkaManager's default runner is a
dry run that returns the `docker run` command.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

pytest.importorskip("temporalio", reason="temporalio is installed from Tests/requirements.txt")
from temporalio.testing import ActivityEnvironment  # noqa: E402

import portmanager  # noqa: E402
from portmanager import manager as manager_module  # noqa: E402
from portmanager.examples.kafka_activity import (  # noqa: E402
    KafkaManager,
    start_kafka_activity,
    stop_kafka_activity,
)
from conftest import REGISTRY  # noqa: E402


@pytest.fixture()
def default_registry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """The process-wide manager, opened by the default resolution from $PORTMANAGER_REGISTRY,
    and a private reservation store through $PORTMANAGER_STATE_DIR."""
    monkeypatch.setenv("PORTMANAGER_REGISTRY", str(REGISTRY))
    monkeypatch.setenv("PORTMANAGER_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("PORTMANAGER_ENV", raising=False)
    monkeypatch.setattr(manager_module, "_default", None)
    yield
    if manager_module._default is not None:
        manager_module._default.close()


def run_activity(params: Dict[str, Any], function: Any = start_kafka_activity) -> Dict[str, Any]:
    async def run() -> Dict[str, Any]:
        # Made inside the loop: on Python 3.9 the environment needs a running one.
        return await ActivityEnvironment().run(function, {"probe": False, **params})

    return asyncio.run(run())


@pytest.mark.parametrize(
    "params, name, volume, broker, controller",
    [
        ({}, "kafka-development", "kafka-data", 9092, 19093),
        ({"instance_id": 0}, "kafka-development", "kafka-data", 9092, 19093),
        ({"instance_id": 1}, "kafka-development-1", "kafka-data-1", 9192, 19193),
        ({"instance_id": 2}, "kafka-development-2", "kafka-data-2", 9292, 19293),
    ],
)
def test_start_kafka_activity_per_instance(
    default_registry: None, params: Dict[str, Any], name: str, volume: str, broker: int, controller: int
) -> None:
    result = run_activity(params)
    assert result["container_name"] == name
    assert result["volume_name"] == volume
    assert (result["broker_port"], result["controller_port"]) == (broker, controller)
    assert result["bootstrap"] == f"localhost:{broker}"
    command: List[str] = result["command"]
    assert command[:5] == ["docker", "run", "-d", "--name", name]
    # The original spec's port maps: 9192:9192, 19193:19193 for instance 1.
    assert f"{broker}:{broker}" in command and f"{controller}:{controller}" in command
    assert f"{volume}:/var/lib/kafka/data" in command


def test_activity_logs_allocations_and_the_manager_line(
    default_registry: None, caplog: pytest.LogCaptureFixture, restore_logging: None
) -> None:
    with caplog.at_level(logging.INFO):
        run_activity({"instance_id": 1})
    messages = [r.getMessage() for r in caplog.records]
    assert ("port_manager_port_allocated service=kafka instance=1 type=broker_port port=9192 base=9092 "
            "increment=100") in messages
    assert ("kafka_manager_initialized instance=1 name=kafka-development-1 bootstrap=localhost:9192 "
            "broker_port=9192 controller_port=19193") in messages


def test_activity_rejects_an_instance_beyond_max_instances(default_registry: None) -> None:
    with pytest.raises(portmanager.InstanceOutOfRangeError, match="instance 10 of service 'kafka'"):
        run_activity({"instance_id": 10})


def test_the_runner_receives_the_command(default_registry: None) -> None:
    started: List[List[str]] = []
    KafkaManager(instance_id=2, runner=started.append).run()
    assert len(started) == 1 and started[0][4] == "kafka-development-2"


def test_activities_without_an_instance_get_distinct_instances(default_registry: None) -> None:
    first = run_activity({})
    second = run_activity({})
    assert (first["instance_id"], second["instance_id"]) == (0, 1)
    assert first["owner"] == "kafka-development" and second["owner"] == "kafka-development-1"
    assert first["broker_port"] != second["broker_port"]


def test_the_reservation_survives_the_activity_and_stop_frees_it(default_registry: None) -> None:
    started = run_activity({})
    # The activity has returned; the container (and its reservation) lives on.
    held = {(r.service, r.instance): r for r in portmanager.get_port_manager().reservations()}
    assert held[("kafka", started["instance_id"])].owner == started["container_name"]
    assert held[("kafka", started["instance_id"])].owner_kind == "container"
    with pytest.raises(portmanager.ReservedError, match="reserved by container 'kafka-development'"):
        portmanager.get_port_manager().reserve("kafka", started["instance_id"], owner="someone-else")
    stopped = run_activity({"instance_id": started["instance_id"]}, stop_kafka_activity)
    assert stopped["released"] is True and stopped["command"] == ["docker", "rm", "-f", "kafka-development"]
    assert portmanager.get_port_manager().reservations() == []
    # The freed instance is the one the next activity gets; stopping twice is harmless.
    assert run_activity({})["instance_id"] == started["instance_id"]
    assert run_activity({"instance_id": 5}, stop_kafka_activity)["released"] is False


def test_a_failed_start_releases_its_reservation(default_registry: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: KafkaManager) -> Dict[str, Any]:
        raise RuntimeError("docker is not running")

    monkeypatch.setattr(KafkaManager, "run", broken)
    with pytest.raises(RuntimeError, match="docker is not running"):
        run_activity({"instance_id": 3})
    assert portmanager.get_port_manager().reservations() == []


def test_a_failed_retry_leaves_the_running_containers_reservation(
    default_registry: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second start of a running instance (a retry, by the same container owner) is not fresh: its
    failure (docker run refused, the name taken) must not release the running container's reservation."""
    started = run_activity({"instance_id": 4})
    assert started["fresh"] is True

    def conflict(self: KafkaManager) -> Dict[str, Any]:
        raise RuntimeError("Conflict. The container name is already in use")

    monkeypatch.setattr(KafkaManager, "run", conflict)
    with pytest.raises(RuntimeError, match="Conflict"):
        run_activity({"instance_id": 4})
    held = [(r.instance, r.owner, r.owner_kind) for r in portmanager.get_port_manager().reservations()]
    assert held == [(4, "kafka-development-4", "container")]
