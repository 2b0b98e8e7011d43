"""A worker of the example orchestrator that dies by SIGKILL at a chosen point, for
Tests/e2e/test_orchestrator_crashes.py (run by orchestration.CrashingWorker):

    python crash_worker.py TEMPORAL_ADDRESS TASK_QUEUE

On the first attempt of a start whose workflow ID contains ``crash-after-reserve`` it
kills itself right after the reservation is made; with ``crash-after-run`` right after
``docker run`` returned (the container runs, its reservation not yet bound to it).
Later attempts run normally. The registry and the store come from
$PORTMANAGER_REGISTRY and $PORTMANAGER_STATE_DIR, the containers' extra labels from
$E2E_LABELS (JSON). One activity at a time, so each crash kills only its own attempt.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from typing import Any

import docker.models.containers
from temporalio import activity
from temporalio.client import Client

import portmanager
from portmanager.examples import worker
from portmanager.examples.orchestrator import ServiceOrchestrator


def crash_after(step: str) -> None:
    info = activity.info()
    if info.attempt == 1 and f"crash-after-{step}" in (info.workflow_id or ""):
        print(f"crash_worker: SIGKILL after {step} in {info.workflow_id}", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)


def reserve(self: portmanager.PortManager, *args: Any, **kwargs: Any) -> Any:
    reservation = original_reserve(self, *args, **kwargs)
    crash_after("reserve")
    return reservation


def run(self: Any, *args: Any, **kwargs: Any) -> Any:
    container = original_run(self, *args, **kwargs)
    crash_after("run")
    return container


original_reserve = portmanager.PortManager.reserve
original_run = docker.models.containers.ContainerCollection.run
portmanager.PortManager.reserve = reserve  # type: ignore[method-assign]
docker.models.containers.ContainerCollection.run = run


async def main(address: str, queue: str) -> None:
    client = await Client.connect(address)
    orchestrator = ServiceOrchestrator(labels=json.loads(os.environ["E2E_LABELS"]), stop_timeout=2)
    async with worker.build_worker(client, queue, orchestrator, threads=1):
        print(f"crash_worker: polling {queue}", flush=True)
        await asyncio.Event().wait()  # until killed: by itself, or by the test (SIGTERM)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
