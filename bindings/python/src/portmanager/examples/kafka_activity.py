"""The original spec's Temporal usage: ``start_kafka_activity(params)``, ports and names from the manager.

As the original spec's "Running Multiple Instances" describes, a workflow starts one
Kafka per ``instance_id``::

    await workflow.execute_activity("start_kafka_activity", {"instance_id": 1},
                                    start_to_close_timeout=timeout)

and every instance gets its own ports, container and volume from the port
registry: instance 1 is ``kafka-development-1`` with volume ``kafka-data-1``
on 9192 (broker) and 19193 (controller).

The container is started detached and outlives the activity, so the activity
*reserves* its instance in the reservation store, owned by the container (by
its name): without ``instance_id`` it takes the lowest free instance, and two
activities never get the same one. The reservation stays after the activity returns, until
``stop_kafka_activity`` releases it (or, with ``ttl``, until it expires unless
renewed with ``pm.renew``).

``KafkaManager.run()`` builds the ``docker run`` command line and hands it to a
runner; the default runner only returns it (a dry run), so the example and its
test need no Docker. Pass ``runner=subprocess.run`` to start containers for real.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional

from temporalio import activity

from .. import CONTAINER_NAME, get_port_manager

__all__ = ["ContainerConfig", "KafkaManager", "start_kafka_activity", "stop_kafka_activity", "KAFKA_IMAGE"]

logger = logging.getLogger(__name__)

#: The image the original spec's orchestrator runs.
KAFKA_IMAGE = "apache/kafka:3.7.0"

Runner = Callable[[List[str]], Any]


@dataclass(frozen=True)
class ContainerConfig:
    """What a container needs: its name, image, port map, volumes and environment."""

    name: str
    image: str
    #: container port -> host port
    ports: Mapping[int, int]
    #: volume name -> mount point
    volumes: Mapping[str, str] = field(default_factory=dict)
    environment: Mapping[str, str] = field(default_factory=dict)

    def docker_run_command(self) -> List[str]:
        """``docker run -d --name NAME -p HOST:CONTAINER ... -v VOLUME:PATH ... -e K=V ... IMAGE``."""
        command = ["docker", "run", "-d", "--name", self.name]
        for container_port, host_port in self.ports.items():
            command += ["-p", f"{host_port}:{container_port}"]
        for volume, path in self.volumes.items():
            command += ["-v", f"{volume}:{path}"]
        for key, value in self.environment.items():
            command += ["-e", f"{key}={value}"]
        command.append(self.image)
        return command


def _dry_run(command: List[str]) -> List[str]:
    return command


class KafkaManager:
    """One Kafka instance (KRaft: broker and controller in one container), as in the original spec."""

    def __init__(self, instance_id: int = 0, runner: Optional[Runner] = None) -> None:
        self.instance_id = instance_id
        pm = get_port_manager()
        self.broker_port = pm.get_port("kafka", instance_id, "broker_port")
        self.controller_port = pm.get_port("kafka", instance_id, "controller_port")
        broker_inside = pm.container_port("kafka", instance_id, "broker_port")
        controller_inside = pm.container_port("kafka", instance_id, "controller_port")
        self.bootstrap = f"localhost:{self.broker_port}"
        self.config = ContainerConfig(
            name=pm.container_name("kafka", instance_id),
            image=KAFKA_IMAGE,
            ports={broker_inside: self.broker_port, controller_inside: self.controller_port},
            volumes={pm.volume_name("kafka", instance_id): "/var/lib/kafka/data"},
            environment={
                "KAFKA_NODE_ID": "1",
                "KAFKA_PROCESS_ROLES": "broker,controller",
                "KAFKA_LISTENERS": f"PLAINTEXT://:{broker_inside},CONTROLLER://:{controller_inside}",
                "KAFKA_ADVERTISED_LISTENERS": f"PLAINTEXT://{self.bootstrap}",
                "KAFKA_CONTROLLER_QUORUM_VOTERS": f"1@localhost:{controller_inside}",
                "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
            },
        )
        self._runner: Runner = runner or _dry_run
        logger.info(
            "kafka_manager_initialized instance=%d name=%s bootstrap=%s broker_port=%d controller_port=%d",
            instance_id, self.config.name, self.bootstrap, self.broker_port, self.controller_port,
        )

    def run(self) -> Dict[str, Any]:
        """Starts the container through the runner; returns what was started."""
        command = self.config.docker_run_command()
        self._runner(command)
        return {
            "instance_id": self.instance_id,
            "container_name": self.config.name,
            "volume_name": next(iter(self.config.volumes)),
            "broker_port": self.broker_port,
            "controller_port": self.controller_port,
            "bootstrap": self.bootstrap,
            "command": command,
        }


@activity.defn
async def start_kafka_activity(params: Dict[str, Any]) -> Dict[str, Any]:
    """The original spec's activity: reserves a Kafka instance and starts it.

    params: ``instance_id`` (default: the lowest free one), ``ttl`` (seconds
    until the reservation expires unless renewed; default never) and ``probe``
    (default True: skip instances whose ports are in use now).

    Returns the instance, container name (the reservation's owner), volume,
    ports, bootstrap address and the ``docker run`` command (dry run by default;
    see the module docstring). If starting fails, the reservation is released
    when this call made it (``fresh``): a retry's failure leaves the running
    container's reservation alone.
    """
    pm = get_port_manager()
    reservation = pm.reserve(
        "kafka", params.get("instance_id"), owner=CONTAINER_NAME, ttl=params.get("ttl"),
        probe=params.get("probe", True),
    )
    activity.logger.info("start_kafka_activity instance=%s owner=%s", reservation.instance, reservation.owner)
    try:
        result = KafkaManager(instance_id=reservation.instance).run()
    except BaseException:
        if reservation.fresh:
            reservation.release()
        raise
    result["owner"] = reservation.container_name
    result["fresh"] = reservation.fresh
    return result


@activity.defn
async def stop_kafka_activity(params: Dict[str, Any]) -> Dict[str, Any]:
    """Stops the Kafka of ``params["instance_id"]`` and releases its reservation.

    Returns the instance, container name, the ``docker rm -f`` command (a dry
    run) and whether a reservation was released (False when it was already free).
    """
    instance_id = params["instance_id"]
    pm = get_port_manager()
    name = pm.container_name("kafka", instance_id)
    command = _dry_run(["docker", "rm", "-f", name])
    released = pm.release("kafka", instance_id, owner=CONTAINER_NAME)
    activity.logger.info("stop_kafka_activity instance=%s released=%s", instance_id, released)
    return {"instance_id": instance_id, "container_name": name, "released": released, "command": command}
