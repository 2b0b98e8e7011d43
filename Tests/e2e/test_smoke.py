"""The ground the end-to-end scenarios stand on: the engine runs the suite's image with
a published port that answers on the host, the suite's sweep removes what it made,
and a Temporal workflow runs an activity on the dev server (the owner is the workflow
ID; a refused reservation fails the workflow at once instead of retrying for ever)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any, Dict, List

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import Worker

import engine
import portmanager
from conftest import REGISTRY, DockerEngine
from e2e_workflows import ReserveWorkflow
from portmanager.temporal import non_retryable_errors, owner_from_activity


def test_a_published_port_answers_on_the_host(docker_engine: DockerEngine) -> None:
    host_port = engine.free_port()
    container = docker_engine.client.containers.run(
        docker_engine.image, ["8080", "8081"], name=docker_engine.labelled.name("smoke"),
        labels=docker_engine.labelled.labels, ports={"8080/tcp": ("127.0.0.1", host_port)}, detach=True,
    )
    # The host port reaches container port 8080 of this container (its hostname is its short ID).
    assert engine.answer(host_port) == f"{container.id[:12]} 8080\n"
    container.stop(timeout=5)
    container.reload()
    assert container.status == "exited" and container.attrs["State"]["ExitCode"] == 0


def test_the_sweep_removes_what_a_session_made_and_nothing_else(docker_engine: DockerEngine) -> None:
    client, mine = docker_engine.client, docker_engine.labelled.child("sweep")
    other = docker_engine.labelled.child("other")
    volume = client.volumes.create(mine.claim_volume(f"pme2e-claimed-{uuid.uuid4().hex[:8]}"))
    network = client.networks.create(mine.name("net"), labels=mine.labels)
    container = client.containers.run(docker_engine.image, ["8080"], name=mine.name("box"), labels=mine.labels,
                                      volumes={volume.name: {"bind": "/data", "mode": "rw"}}, detach=True)
    kept = client.containers.create(docker_engine.image, ["8080"], name=other.name("kept"), labels=other.labels)
    try:
        removed = mine.sweep(client)
        assert sorted(removed) == sorted([f"container {container.name}", f"network {network.name}",
                                          f"volume {volume.name}"])
        names = engine.snapshot(client)
        assert container.name not in names["container"] and network.name not in names["network"]
        assert volume.name not in names["volume"] and kept.name in names["container"]
    finally:
        other.sweep(client)
    assert kept.name not in engine.snapshot(client)["container"]


#: The attempts the smoke activity saw, by workflow ID (the worker runs in this process).
ATTEMPTS: Dict[str, List[int]] = {}


@activity.defn(name="smoke_reserve_kafka")
@non_retryable_errors()
async def reserve_kafka(request: Dict[str, Any]) -> Dict[str, Any]:
    owner = owner_from_activity()
    ATTEMPTS.setdefault(owner, []).append(activity.info().attempt)
    with portmanager.PortManager(REGISTRY) as pm:
        reservation = pm.reserve("kafka", request["instance"], owner=owner, probe=False,
                                 state_dir=request["state_dir"])
        return {"owner": owner, "instance": reservation.instance, "broker_port": reservation.ports["broker_port"]}


async def run_workflow(server: engine.TemporalServer, workflow_id: str, request: Dict[str, Any]) -> Dict[str, Any]:
    client = await server.connect()
    queue = f"smoke-{uuid.uuid4().hex}"
    async with Worker(client, task_queue=queue, workflows=[ReserveWorkflow], activities=[reserve_kafka]):
        return await client.execute_workflow(  # type: ignore[no-any-return]
            ReserveWorkflow.run, args=["smoke_reserve_kafka", request], id=workflow_id, task_queue=queue,
            execution_timeout=timedelta(seconds=30),  # a retried refusal ends here instead of never
        )


def test_a_workflow_reserves_as_its_workflow_id(temporal_server: engine.TemporalServer, state_dir: Path) -> None:
    workflow_id = f"smoke-reserve-{uuid.uuid4().hex[:8]}"
    result = asyncio.run(run_workflow(temporal_server, workflow_id, {"instance": 1, "state_dir": str(state_dir)}))
    assert result == {"owner": workflow_id, "instance": 1, "broker_port": 9192}
    with portmanager.PortManager(REGISTRY) as pm:
        rows = pm.reservations("kafka", state_dir=state_dir)
    assert [(row.instance, row.owner) for row in rows] == [(1, workflow_id)]
    assert ATTEMPTS[workflow_id] == [1]


def test_a_refused_reservation_fails_the_workflow_at_once(
    temporal_server: engine.TemporalServer, state_dir: Path
) -> None:
    with portmanager.PortManager(REGISTRY) as pm:
        pm.reserve("kafka", 2, owner="someone-else", probe=False, state_dir=state_dir)
    workflow_id = f"smoke-refused-{uuid.uuid4().hex[:8]}"
    with pytest.raises(WorkflowFailureError) as raised:
        asyncio.run(run_workflow(temporal_server, workflow_id, {"instance": 2, "state_dir": str(state_dir)}))
    cause = raised.value.cause
    assert isinstance(cause, ActivityError) and isinstance(cause.cause, ApplicationError)
    assert cause.cause.type == "ReservedError" and cause.cause.non_retryable
    assert "someone-else" in cause.cause.message
    # Under the default retry policy (retry for ever), one attempt: the error said not to retry.
    assert ATTEMPTS[workflow_id] == [1]
