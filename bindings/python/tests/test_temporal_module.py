"""portmanager.temporal without a server: the owner from temporalio's activity info, and
the library's failures that no retry mends raised as non-retryable ApplicationErrors
(checked down to the failure temporalio would send to the server)."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

pytest.importorskip("temporalio", reason="temporalio is installed from Tests/requirements.txt")
from temporalio import activity  # noqa: E402
from temporalio.api.failure.v1 import Failure  # noqa: E402
from temporalio.converter import DataConverter  # noqa: E402
from temporalio.exceptions import ApplicationError  # noqa: E402
from temporalio.testing import ActivityEnvironment  # noqa: E402

import portmanager  # noqa: E402
from portmanager.temporal import NON_RETRYABLE, non_retryable_errors, owner_from_activity  # noqa: E402
from conftest import BINDING, REGISTRY  # noqa: E402


def in_activity(function: Callable[..., Any], *args: Any, workflow_id: Any = "orders-42") -> Any:
    """Runs `function` in temporalio's activity environment, its workflow ID set."""

    async def run() -> Any:
        environment = ActivityEnvironment()  # made inside the loop (Python 3.9)
        environment.info = dataclasses.replace(environment.info, workflow_id=workflow_id)
        result = environment.run(function, *args)  # a plain function's result, or a coroutine's
        return await result if inspect.isawaitable(result) else result

    return asyncio.run(run())


def test_import_portmanager_leaves_temporalio_alone() -> None:
    code = ("import sys, portmanager; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'temporalio' or m == 'portmanager.temporal'))")
    environment = {**os.environ, "PYTHONPATH": str(BINDING / "src")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=True)
    assert result.stdout.strip() == "[]"


def test_without_temporalio_the_import_says_what_to_install() -> None:
    code = ("import sys; sys.modules['temporalio'] = None\n"  # as if not installed
            "try:\n    import portmanager.temporal\nexcept ImportError as error:\n    print(error)")
    environment = {**os.environ, "PYTHONPATH": str(BINDING / "src")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=True)
    assert result.stdout.strip() == "portmanager.temporal needs temporalio (pip install 'portmanager[temporal]')"


def test_the_owner_is_the_workflow_id() -> None:
    assert in_activity(owner_from_activity) == "orders-42"


def test_an_activity_without_a_workflow_has_no_owner() -> None:
    with pytest.raises(RuntimeError, match="was not started by a workflow"):
        in_activity(owner_from_activity, workflow_id=None)


def test_outside_an_activity_temporalio_says_so() -> None:
    with pytest.raises(RuntimeError, match="activity context"):
        owner_from_activity()


def reserved_twice(tmp_path: Path) -> None:
    with portmanager.PortManager(REGISTRY) as pm:
        pm.reserve("mongodb", 1, owner="first", probe=False, state_dir=tmp_path / "state")
        pm.reserve("mongodb", 1, owner="second", probe=False, state_dir=tmp_path / "state")


def missing_registry(tmp_path: Path) -> None:
    portmanager.PortManager(tmp_path / "absent.yaml")


def unparsable_registry(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("services: [unclosed\n")
    portmanager.PortManager(tmp_path / "bad.yaml")


def unknown_service(tmp_path: Path) -> None:
    with portmanager.PortManager(REGISTRY) as pm:
        pm.get_port("no-such-service", 0, "port")


def instance_out_of_range(tmp_path: Path) -> None:
    with portmanager.PortManager(REGISTRY) as pm:
        pm.get_port("kafka", 10, "broker_port")


@pytest.mark.parametrize(
    "failure, kind, culprit",
    [
        (reserved_twice, portmanager.ReservedError, "first"),
        (missing_registry, portmanager.RegistryNotFoundError, "absent.yaml"),
        (unparsable_registry, portmanager.RegistryParseError, "bad.yaml"),
        (unknown_service, portmanager.UnknownServiceError, "no-such-service"),
        (instance_out_of_range, portmanager.InstanceOutOfRangeError, "instance 10"),
    ],
)
def test_failures_no_retry_mends_become_non_retryable(
    tmp_path: Path, failure: Callable[[Path], None], kind: type, culprit: str
) -> None:
    with pytest.raises(ApplicationError) as raised:
        with non_retryable_errors():
            failure(tmp_path)
    error = raised.value
    assert error.non_retryable is True
    assert error.type == kind.__name__
    assert isinstance(error.__cause__, kind)
    assert str(error.__cause__) in str(error) and culprit in str(error)
    assert error.details == (error.__cause__.status_name,)


def test_what_the_server_is_told_is_non_retryable(tmp_path: Path) -> None:
    with pytest.raises(ApplicationError) as raised:
        with non_retryable_errors():
            reserved_twice(tmp_path)
    failure = Failure()
    DataConverter.default.failure_converter.to_failure(raised.value, DataConverter.default.payload_converter, failure)
    assert failure.application_failure_info.non_retryable is True
    assert failure.application_failure_info.type == "ReservedError"
    assert "first" in failure.message


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("docker is not running"),
        portmanager.ProbeFailedError(9, "cannot probe port 9092"),
        portmanager.PortManagerError(99, "a status this package does not know"),
    ],
    ids=["not-the-library's", "probe-failed", "unknown-status"],
)
def test_other_failures_pass_unchanged_and_stay_retryable(error: Exception) -> None:
    assert not isinstance(error, NON_RETRYABLE)
    with pytest.raises(type(error)) as raised:
        with non_retryable_errors():
            raise error
    assert raised.value is error


@activity.defn(name="reserve_twice")
@non_retryable_errors()
async def reserve_twice_async(state: str) -> None:
    reserved_twice(Path(state))


@activity.defn(name="reserve_twice_sync")
@non_retryable_errors()
def reserve_twice_sync(state: str) -> None:
    reserved_twice(Path(state))


@pytest.mark.parametrize("function", [reserve_twice_async, reserve_twice_sync], ids=["async", "sync"])
def test_the_decorator_on_activities(tmp_path: Path, function: Callable[..., Any]) -> None:
    assert inspect_name(function) in ("reserve_twice_async", "reserve_twice_sync")
    with pytest.raises(ApplicationError) as raised:
        in_activity(function, str(tmp_path))
    assert raised.value.non_retryable and raised.value.type == "ReservedError"


def test_the_decorator_returns_what_the_function_returns() -> None:
    @non_retryable_errors()
    async def answer() -> int:
        return 42

    @non_retryable_errors()
    def plain(value: int) -> int:
        return value + 1

    assert asyncio.run(answer()) == 42 and plain(1) == 2


def inspect_name(function: Callable[..., Any]) -> str:
    """The wrapped function's name: functools.wraps kept it (temporalio reads the signature through it)."""
    return function.__name__
