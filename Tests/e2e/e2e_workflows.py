"""Workflows of the end-to-end suite. Kept apart from the tests: temporalio's sandbox
imports this module again for every run, so it imports only temporalio and calls
activities by name (the activities live in the tests, run by the tests' workers)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Dict

from temporalio import workflow


@workflow.defn
class ReserveWorkflow:
    """Runs the activity named ``activity`` with ``request`` under temporalio's default
    retry policy (retry for ever), so only a non-retryable error ends it early."""

    @workflow.run
    async def run(self, activity: str, request: Dict[str, Any]) -> Dict[str, Any]:
        return await workflow.execute_activity(activity, request, start_to_close_timeout=timedelta(seconds=20))
