"""The example orchestrator (portmanager.examples) on a real engine and a real Temporal
server: the original spec's workflow starting Kafka instances side by side, an auto-pick
racing explicit requests, a refused request failing at once, stop, and a container
removed behind the orchestrator's back (reconcile)."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any, Dict, List

from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError, RetryState

from orchestration import Fleet, first_attempt_of
from portmanager.examples.workflows import KafkaWorkflow, ServiceWorkflow, StopServiceWorkflow


def tag() -> str:
    return uuid.uuid4().hex[:8]


def refusal(failure: Any) -> ApplicationError:
    """The ApplicationError that failed a workflow, checked to have ended retrying at once."""
    assert isinstance(failure, WorkflowFailureError), failure
    assert isinstance(failure.cause, ActivityError), failure.cause
    assert failure.cause.retry_state == RetryState.NON_RETRYABLE_FAILURE
    error = failure.cause.cause
    assert isinstance(error, ApplicationError) and error.non_retryable
    return error


def check_running(fleet: Fleet, results: List[Dict[str, Any]]) -> None:
    """Each result runs as returned, has its status row, and nothing else is reserved or runs."""
    status = fleet.status()
    for result in results:
        fleet.check_started(result)
        row = status[(result["service"], result["instance_id"])]
        assert (row["state"], row.get("container"), row["owner"]) == ("running", result["container_name"],
                                                                      result["container_name"]), row
    assert len(status) == len(results), status
    fleet.check_consistent()


def test_the_original_spec_kafka_instances_run_side_by_side(fleet: Fleet) -> None:
    run = tag()
    explicit = [(KafkaWorkflow, f"kafka-{n}-{run}", fleet.params("kafka", n)) for n in (0, 1, 2)]
    # The one without instance_id starts once the three have reserved, while their containers start.
    results = asyncio.run(fleet.run_workflows([(KafkaWorkflow, f"kafka-any-{run}", fleet.params("kafka"))],
                                              first=explicit))
    assert all(isinstance(result, dict) for result in results), results
    assert [r["instance_id"] for r in results] == [0, 1, 2, 3]
    assert [r["container_name"] for r in results] == ["kafka-development", "kafka-development-1",
                                                      "kafka-development-2", "kafka-development-3"]
    assert [r["volume_name"] for r in results] == ["kafka-data", "kafka-data-1", "kafka-data-2", "kafka-data-3"]
    assert [(r["broker_port"], r["controller_port"]) for r in results] == [
        (9092, 19093), (9192, 19193), (9292, 19293), (9392, 19393)]
    assert [r["bootstrap"] for r in results] == ["localhost:9092", "localhost:9192", "localhost:9292", "localhost:9392"]
    assert all(r["fresh"] and r["started"] for r in results)
    check_running(fleet, results)  # type: ignore[arg-type]


def test_an_auto_pick_races_explicit_requests(fleet: Fleet) -> None:
    run = tag()
    starts = [(ServiceWorkflow, f"redis-{name}-{run}", fleet.service_params("redis", instance))
              for name, instance in (("any-a", None), ("0", 0), ("any-b", None), ("1", 1))]
    results = asyncio.run(fleet.run_workflows(starts))
    won = [result for result in results if isinstance(result, dict)]
    assert isinstance(results[0], dict) and isinstance(results[2], dict)  # an auto-pick always gets one
    instances = sorted(result["instance_id"] for result in won)
    assert len(set(instances)) == len(won) and set(instances) <= {0, 1, 2, 3}
    for (_, workflow_id, params), result in zip(starts, results):
        if isinstance(result, dict):
            assert result["container_name"] == fleet.manager.container_name("redis", result["instance_id"])
            continue
        # An explicit request that lost the race to an auto-pick fails on its first attempt, naming the
        # winner: its workflow, or its container once the reservation was handed to it.
        error = refusal(result)
        assert error.type == "ReservedError", error
        winner = next(r for r in won if r["instance_id"] == params["instance_id"])
        assert f"'{winner['workflow_id']}'" in error.message or f"'{winner['container_name']}'" in error.message
        assert asyncio.run(first_attempt_of(fleet.server, workflow_id)) == [1]
    check_running(fleet, won)


def test_a_running_instance_refuses_a_second_workflow_at_once(fleet: Fleet) -> None:
    run = tag()
    [first] = asyncio.run(fleet.run_workflows([(KafkaWorkflow, f"kafka-1-{run}", fleet.params("kafka", 1))]))
    assert isinstance(first, dict)
    [second] = asyncio.run(fleet.run_workflows([(KafkaWorkflow, f"kafka-1-again-{run}", fleet.params("kafka", 1))]))
    error = refusal(second)
    assert error.type == "ReservedError" and "kafka-development-1" in error.message, error
    assert asyncio.run(first_attempt_of(fleet.server, f"kafka-1-again-{run}")) == [1]
    # The running container keeps its reservation and its ports.
    assert fleet.reservations() == {("kafka", 1): ("container", "kafka-development-1")}
    check_running(fleet, [first])

    [stopped] = asyncio.run(fleet.run_workflows(
        [(StopServiceWorkflow, f"kafka-1-stop-{run}", {"service": "kafka", "instance_id": 1})]))
    assert stopped == {"service": "kafka", "instance_id": 1, "container_name": "kafka-development-1",
                       "removed": True, "released": True}
    assert fleet.reservations() == {} and fleet.containers() == {} and fleet.status() == {}


def test_stop_start_keeps_the_instance_and_reconcile_frees_a_removed_one(fleet: Fleet) -> None:
    run = tag()
    [started] = asyncio.run(fleet.run_workflows(
        [(ServiceWorkflow, f"redis-2-{run}", fleet.service_params("redis", 2))]))
    assert isinstance(started, dict) and started["container_name"] == "redis-2"
    container = fleet.client.containers.get("redis-2")

    container.stop(timeout=2)
    row = fleet.status()[("redis", 2)]
    assert (row["state"], row.get("container"), row.get("container_state")) == ("stopped", "redis-2", "exited"), row
    assert json.loads(fleet.cli("reconcile", "--dry-run", "--json").stdout) == []
    container.start()
    check_running(fleet, [started])  # the same container, its reservation, its port

    container.remove(force=True)  # docker rm -f, behind the orchestrator's back
    actions = json.loads(fleet.cli("reconcile", "--json").stdout)
    assert [(a["action"], a["service"], a["instance"], a["container"]) for a in actions] == [
        ("reap", "redis", 2, "redis-2")], actions
    assert fleet.reservations() == {} and fleet.status() == {}
    # The instance is free again: another workflow takes it.
    [again] = asyncio.run(fleet.run_workflows(
        [(ServiceWorkflow, f"redis-2-again-{run}", fleet.service_params("redis", 2))]))
    assert isinstance(again, dict) and again["fresh"] and again["container_id"] != started["container_id"]
    check_running(fleet, [again])
