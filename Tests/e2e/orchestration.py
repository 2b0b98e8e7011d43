"""The example orchestrator (``portmanager.examples``) on the suite's engine and Temporal
server: what its scenarios share. Plain code; Tests/e2e/conftest.py's ``fleet`` fixture
makes a :class:`Fleet` per test and removes everything it made when the test ends.

The suite's image stands in for Kafka and Redis: its ``serve PORT...`` answers HTTP
with "CONTAINER_ID PORT" on each port *inside* the container, so :data:`COMMANDS`
names the container ports (``{broker_port}``: the orchestrator fills them in).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import engine
import portmanager
from portmanager.examples.orchestrator import WORKFLOW_LABEL, ServiceOrchestrator
from portmanager.examples.worker import build_worker

REPO = Path(__file__).resolve().parents[2]
REGISTRY = REPO / "dynamicconfig" / "port_registry.yaml"
CLI = REPO / "build" / "bin" / "portmanager"
#: The services the scenarios start (their names and volumes are claimed for the sweep).
SERVICES = ("kafka", "redis")
#: The image's command per service: serve on every container port.
COMMANDS = {"kafka": ["{broker_port}", "{controller_port}"], "redis": ["{port}"]}
#: One activity attempt's bound; an attempt whose worker died is retried after it.
ATTEMPT_SECONDS = 8

#: A workflow to start: (workflow class, workflow ID, params).
Start = Tuple[Any, str, Dict[str, Any]]


@dataclass
class Fleet:
    """One test's orchestrator setting: the engine, the server, a private store, the shipped registry."""

    client: Any
    image: str
    labelled: engine.Labelled
    server: engine.TemporalServer
    state_dir: Path
    manager: portmanager.PortManager

    def __post_init__(self) -> None:
        for service in SERVICES:
            for instance in range(self.manager.service_info(service).max_instances):
                self.labelled.claim_container(self.manager.container_name(service, instance))
                self.labelled.claim_volume(self.manager.volume_name(service, instance))

    @property
    def environment(self) -> Dict[str, str]:
        """What a worker process or the CLI needs to see this fleet's registry and store."""
        return {**os.environ, "PORTMANAGER_REGISTRY": str(REGISTRY), "PORTMANAGER_STATE_DIR": str(self.state_dir)}

    def orchestrator(self) -> ServiceOrchestrator:
        return ServiceOrchestrator(self.manager, self.client, state_dir=str(self.state_dir),
                                   labels=self.labelled.labels, stop_timeout=2)

    def params(self, service: str, instance: Optional[int] = None) -> Dict[str, Any]:
        """The params of the service's own activity (``start_kafka_activity``): the suite's image
        serving the service's ports, and the instance (none: the lowest free one)."""
        params: Dict[str, Any] = {"image": self.image, "command": COMMANDS[service],
                                  "start_to_close_seconds": ATTEMPT_SECONDS}
        if instance is not None:
            params["instance_id"] = instance
        return params

    def service_params(self, service: str, instance: Optional[int] = None) -> Dict[str, Any]:
        """:meth:`params` for ``start_service_activity`` (:class:`ServiceWorkflow`): with ``service``."""
        return {"service": service, **self.params(service, instance)}

    # ------------------------------------------------------------- what is there

    def cli(self, *arguments: str, check: bool = True) -> "subprocess.CompletedProcess[str]":
        result = subprocess.run([str(CLI), *arguments], capture_output=True, text=True, env=self.environment)
        if check and result.returncode != 0:
            raise AssertionError(f"portmanager {' '.join(arguments)}: exit {result.returncode}\n"
                                 f"{result.stdout}{result.stderr}")
        return result

    def status(self) -> Dict[Tuple[str, int], Dict[str, Any]]:
        """``portmanager status --json`` of the kafka and redis rows: (service, instance) -> row."""
        rows = json.loads(self.cli("status", "--json").stdout)
        return {(row["service"], row["instance"]): row for row in rows if row["service"] in SERVICES}

    def reservations(self) -> Dict[Tuple[str, int], Tuple[str, str]]:
        """(service, instance) -> (owner_kind, owner) of the store's reservations."""
        return {(row.service, row.instance): (row.owner_kind, row.owner)
                for row in self.manager.reservations(state_dir=self.state_dir)}

    def containers(self) -> Dict[str, Any]:
        """This session's containers (running or not) of the orchestrator, by name."""
        found = self.client.containers.list(all=True, filters={"label": f"{engine.LABEL}={self.labelled.session}"},
                                            ignore_removed=True)
        return {container.name: container for container in found if WORKFLOW_LABEL in container.labels}

    def check_started(self, result: Dict[str, Any]) -> None:
        """What a start returned is what runs: name, volume, labels, ports, and each host port answers."""
        service, instance = result["service"], result["instance_id"]
        described = self.manager.instance(service, instance)
        container = self.client.containers.get(result["container_name"])
        assert container.id == result["container_id"] and container.status == "running"
        assert (container.name, result["volume_name"]) == (described.container_name, described.volume_name)
        assert {**described.labels, WORKFLOW_LABEL: result["workflow_id"]}.items() <= container.labels.items()
        mounts = {mount["Name"]: mount["Destination"] for mount in container.attrs["Mounts"]}
        assert described.volume_name in mounts
        for port in described.ports:
            assert result["ports"][port.port_type] == port.host_port
            assert engine.answer(port.host_port) == f"{container.id[:12]} {port.container_port}\n"

    def check_consistent(self) -> None:
        """Every reservation is a container's that exists, and every container of the orchestrator has
        its reservation: no instance reserved without a container, no container without a reservation."""
        reserved = self.reservations()
        containers = self.containers()
        owners = {owner for kind, owner in reserved.values() if kind == "container"}
        assert all(kind == "container" for kind, _ in reserved.values()), reserved
        assert owners == set(containers), (reserved, sorted(containers))

    # ------------------------------------------------------------- workflows

    async def run_workflows(self, starts: Sequence[Start], *, first: Sequence[Start] = ()) -> List[Union[Dict[str, Any], BaseException]]:
        """Runs workflows on one in-process worker of :meth:`orchestrator`; returns each one's result or failure.

        ``first`` are started before ``starts`` and ``starts`` only once each of them has
        reserved its instance (its workflow ID owns a reservation, or its container one),
        while their containers may still be starting."""
        client = await self.server.connect()
        queue = f"e2e-{uuid.uuid4().hex}"
        async with build_worker(client, queue, self.orchestrator()):
            handles = [await self._start(client, queue, start) for start in first]
            await self._until_reserved(len(first))
            handles += [await self._start(client, queue, start) for start in starts]
            return await asyncio.gather(*(handle.result() for handle in handles), return_exceptions=True)

    @staticmethod
    async def _start(client: Any, queue: str, start: Start) -> Any:
        workflow, workflow_id, params = start
        return await client.start_workflow(workflow.run, params, id=workflow_id, task_queue=queue,
                                           execution_timeout=timedelta(seconds=90))

    async def _until_reserved(self, count: int, seconds: float = 30) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while len(self.reservations()) < count:
            assert loop.time() < deadline, f"fewer than {count} reservations after {seconds} s: {self.reservations()}"
            await asyncio.sleep(0.05)


async def first_attempt_of(server: engine.TemporalServer, workflow_id: str) -> List[int]:
    """The attempts of each activity of a workflow that ended (ActivityTaskStarted's ``attempt``)."""
    client = await server.connect()
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return [event.activity_task_started_event_attributes.attempt for event in history.events
            if event.HasField("activity_task_started_event_attributes")]


class CrashingWorker:
    """``Tests/e2e/crash_worker.py`` as a subprocess: a worker of the example that SIGKILLs
    itself on the first attempt of a start right after reserving (workflow ID containing
    ``crash-after-reserve``) or after ``docker run`` (``crash-after-run``)."""

    SCRIPT = Path(__file__).resolve().parent / "crash_worker.py"

    def __init__(self, fleet: Fleet, queue: str) -> None:
        self.fleet, self.queue = fleet, queue
        self.process: Optional["subprocess.Popen[bytes]"] = None
        self.exits: List[int] = []
        self.log = fleet.state_dir.parent / "worker.log"

    def start(self) -> None:
        environment = {**self.fleet.environment, "E2E_LABELS": json.dumps(self.fleet.labelled.labels),
                       "PYTHONPATH": os.pathsep.join(sys.path)}
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(self.SCRIPT), self.fleet.server.address, self.queue],
                env=environment, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=engine._die_with_parent,
            )

    def restart_if_dead(self) -> None:
        assert self.process is not None
        code = self.process.poll()
        if code is not None:
            self.exits.append(code)
            self.start()

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
