"""The example orchestrator survives its worker's death: a worker process SIGKILLed on
the first attempt of a start right after reserving, or right after `docker run`
(Tests/e2e/crash_worker.py), then started again. Every retried workflow completes,
no instance stays reserved without a container, no container runs without a
reservation, and no workflow's container is started twice."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any, List

from orchestration import CrashingWorker, Fleet, Start, first_attempt_of
from portmanager.examples.orchestrator import WORKFLOW_LABEL
from portmanager.examples.workflows import KafkaWorkflow, ServiceWorkflow
from test_orchestrator import check_running

#: SIGKILL, as subprocess reports a process it ended.
KILLED = -9


async def drive(fleet: Fleet, worker: CrashingWorker, starts: List[Start], seconds: float = 120) -> List[Any]:
    """Starts the workflows and restarts the worker whenever it died, until every workflow ended;
    returns each one's result or failure."""
    client = await fleet.server.connect()
    handles = [await client.start_workflow(workflow.run, params, id=workflow_id, task_queue=worker.queue,
                                           execution_timeout=timedelta(seconds=seconds))
               for workflow, workflow_id, params in starts]
    results = asyncio.gather(*(handle.result() for handle in handles), return_exceptions=True)
    deadline = asyncio.get_running_loop().time() + seconds
    while not results.done():
        if asyncio.get_running_loop().time() > deadline:
            results.cancel()
            raise AssertionError(f"workflows still running after {seconds} s; see {worker.log}")
        worker.restart_if_dead()
        await asyncio.wait([results], timeout=0.2)
    return results.result()


def test_workers_killed_after_reserve_and_after_run(fleet: Fleet) -> None:
    run = uuid.uuid4().hex[:8]
    starts: List[Start] = [
        (KafkaWorkflow, f"crash-after-reserve-kafka-any-{run}", fleet.params("kafka")),
        (ServiceWorkflow, f"crash-after-reserve-redis-2-{run}", fleet.service_params("redis", 2)),
        (ServiceWorkflow, f"crash-after-run-redis-any-{run}", fleet.service_params("redis")),
        (KafkaWorkflow, f"crash-after-run-kafka-1-{run}", fleet.params("kafka", 1)),
    ]
    worker = CrashingWorker(fleet, f"e2e-crash-{run}")
    worker.start()
    try:
        results = asyncio.run(drive(fleet, worker, starts))
    finally:
        worker.stop()
    log = worker.log.read_text(errors="replace")
    assert all(isinstance(result, dict) for result in results), (results, log)
    # Each start's first attempt killed its worker: four deaths, each by SIGKILL at its step.
    assert worker.exits == [KILLED] * 4, log
    for _, workflow_id, _ in starts:
        assert f"SIGKILL after {workflow_id.split('-')[2]} in {workflow_id}" in log
    by_id = {workflow_id: result for (_, workflow_id, _), result in zip(starts, results)}
    for workflow_id, result in by_id.items():
        assert asyncio.run(first_attempt_of(fleet.server, workflow_id)) == [2]  # completed by the retry
        if "after-reserve" in workflow_id:  # the retry took the instance its dead attempt reserved
            assert (result["fresh"], result["started"]) == (False, True), result
        else:  # the retry resumed the container its dead attempt ran
            assert (result["fresh"], result["started"]) == (False, False), result
    assert by_id[starts[1][1]]["instance_id"] == 2 and by_id[starts[3][1]]["instance_id"] == 1
    for service in ("kafka", "redis"):
        instances = [r["instance_id"] for r in results if r["service"] == service]
        assert len(set(instances)) == 2, results
    # Not one reservation per attempt: one per workflow, each its container's.
    assert sorted(fleet.reservations()) == sorted((r["service"], r["instance_id"]) for r in results)
    # One container per workflow, never a second: counted by the workflow label.
    containers = fleet.containers().values()
    for workflow_id in by_id:
        assert [c.name for c in containers if c.labels[WORKFLOW_LABEL] == workflow_id] == [
            by_id[workflow_id]["container_name"]]
        assert fleet.client.containers.get(by_id[workflow_id]["container_name"]).attrs["RestartCount"] == 0
    check_running(fleet, results)
