"""The orchestrator's workflows: each runs one activity of
:mod:`portmanager.examples.orchestrator` (by name) and returns its result.

* :class:`ServiceWorkflow`: ``start_service_activity(params)``, the instance's allocation;
* :class:`KafkaWorkflow`: the original spec's ``start_kafka_activity(params)``
  (``{"instance_id": 1}``, or ``{}`` for the lowest free instance);
* :class:`StopServiceWorkflow`: ``stop_service_activity(params)``.

The workflow's ID owns the instance until its container runs, so give each
workflow an ID of its own (``kafka-orders-42``), and start it again with the
same ID to resume it. ``params["start_to_close_seconds"]`` (default
:data:`START_TO_CLOSE_SECONDS`) bounds one attempt: an attempt whose worker
died is retried after that long. Activities are retried under temporalio's
default policy; the failures no retry mends fail at once.

This module imports only temporalio (the workflow sandbox imports it again
for every run); a worker that registers these workflows lets ``portmanager``
through the sandbox (:func:`portmanager.examples.worker.build_worker`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Dict, Tuple

from temporalio import workflow

__all__ = ["START_TO_CLOSE_SECONDS", "ServiceWorkflow", "KafkaWorkflow", "StopServiceWorkflow"]

#: The default bound of one activity attempt.
START_TO_CLOSE_SECONDS = 120


def _split(params: Dict[str, Any]) -> Tuple[Dict[str, Any], timedelta]:
    """The activity's params and the attempt's timeout."""
    params = dict(params)
    seconds = params.pop("start_to_close_seconds", START_TO_CLOSE_SECONDS)
    return params, timedelta(seconds=seconds)


async def _execute(activity: str, params: Dict[str, Any]) -> Dict[str, Any]:
    arguments, timeout = _split(params)
    result: Dict[str, Any] = await workflow.execute_activity(activity, arguments, start_to_close_timeout=timeout)
    return result


@workflow.defn
class ServiceWorkflow:
    """Starts one instance of a service; returns its allocation (``start_service_activity``)."""

    @workflow.run
    async def run(self, params: Dict[str, Any]) -> Dict[str, Any]:
        return await _execute("start_service_activity", params)


@workflow.defn
class KafkaWorkflow:
    """The original spec's "Running Multiple Instances": starts one Kafka (``start_kafka_activity``)."""

    @workflow.run
    async def run(self, params: Dict[str, Any]) -> Dict[str, Any]:
        return await _execute("start_kafka_activity", params)


@workflow.defn
class StopServiceWorkflow:
    """Removes an instance's container and releases it (``stop_service_activity``)."""

    @workflow.run
    async def run(self, params: Dict[str, Any]) -> Dict[str, Any]:
        return await _execute("stop_service_activity", params)
