"""A Temporal worker for the example orchestrator::

    python -m portmanager.examples.worker --address 127.0.0.1:7233 --task-queue orchestrator

It registers the workflows of :mod:`portmanager.examples.workflows` and the
activities of a :class:`~portmanager.examples.orchestrator.ServiceOrchestrator`
(the registry from ``$PORTMANAGER_REGISTRY``, the store from
``$PORTMANAGER_STATE_DIR``, the engine from ``$DOCKER_HOST``), runs the
activities on a thread pool, and stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from .orchestrator import ServiceOrchestrator
from .workflows import KafkaWorkflow, ServiceWorkflow, StopServiceWorkflow

__all__ = ["WORKFLOWS", "build_worker", "run", "main"]

#: Every workflow of the example.
WORKFLOWS = [ServiceWorkflow, KafkaWorkflow, StopServiceWorkflow]


def build_worker(
    client: Client, task_queue: str, orchestrator: Optional[ServiceOrchestrator] = None, *, threads: int = 16,
) -> Worker:
    """A worker of the example's workflows and of `orchestrator`'s activities (a
    default :class:`ServiceOrchestrator` when ``None``). The activities are
    synchronous: they run on a pool of `threads` threads, as many as run at once.
    ``portmanager`` passes through the workflow sandbox (its library is loaded
    once, not again for every workflow run)."""
    runner = SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules("portmanager"))
    return Worker(
        client, task_queue=task_queue, workflows=WORKFLOWS,
        activities=(orchestrator or ServiceOrchestrator()).activities(),
        activity_executor=ThreadPoolExecutor(max_workers=threads, thread_name_prefix="activity"),
        max_concurrent_activities=threads, workflow_runner=runner,
    )


async def run(address: str, namespace: str, task_queue: str, orchestrator: Optional[ServiceOrchestrator] = None) -> None:
    """Runs a worker (:func:`build_worker`) until SIGTERM or SIGINT."""
    client = await Client.connect(address, namespace=namespace)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stopping.set)
    async with build_worker(client, task_queue, orchestrator):
        print(f"worker: polling task queue {task_queue!r} of {address} ({namespace})", flush=True)
        await stopping.wait()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portmanager.examples.worker", description=__doc__.split("::")[0])
    parser.add_argument("--address", default="127.0.0.1:7233", help="the Temporal server (default: %(default)s)")
    parser.add_argument("--namespace", default="default", help="(default: %(default)s)")
    parser.add_argument("--task-queue", default="orchestrator", help="(default: %(default)s)")
    options = parser.parse_args(argv)
    asyncio.run(run(options.address, options.namespace, options.task_queue))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
