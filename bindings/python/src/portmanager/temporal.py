"""What every Temporal activity that reserves ports needs.

Importable only where temporalio is installed (``pip install 'portmanager[temporal]'``);
``import portmanager`` never imports this module nor temporalio.

* :func:`owner_from_activity`: the owner of the running activity's reservations,
  its workflow's ID, so that a retry of the activity (after a crash, on
  another worker) is the same owner and finds its own reservation again.
* :func:`non_retryable_errors`: turns the failures a retry cannot mend (the
  instance is reserved by someone else, a missing or broken registry, an unknown
  service, port, instance or environment, a refused store: :data:`NON_RETRYABLE`)
  into :class:`temporalio.exceptions.ApplicationError` with ``non_retryable=True``,
  so the workflow sees them at once instead of after every retry its policy
  allows. Any other exception passes unchanged and stays retryable::

      from temporalio import activity
      from portmanager.temporal import non_retryable_errors, owner_from_activity

      @activity.defn
      @non_retryable_errors()
      async def start_service_activity(params: dict) -> dict:
          owner = owner_from_activity()
          ...

  or ``with non_retryable_errors(): ...`` around part of an activity.
"""

from __future__ import annotations

import functools
import inspect
from types import TracebackType
from typing import Any, Callable, Optional, Tuple, Type, TypeVar

try:
    from temporalio import activity
    from temporalio.exceptions import ApplicationError
except ImportError as error:  # pragma: no cover - exercised where temporalio is absent
    raise ImportError(
        "portmanager.temporal needs temporalio (pip install 'portmanager[temporal]')"
    ) from error

from .errors import (
    InstanceOutOfRangeError,
    InvalidArgumentError,
    InvalidRegistryError,
    NotOwnerError,
    PortManagerError,
    RegistryIOError,
    RegistryNotFoundError,
    RegistryParseError,
    ReservedError,
    StateError,
    TooLargeError,
    UnknownEnvironmentError,
    UnknownPortError,
    UnknownServiceError,
)

__all__ = ["NON_RETRYABLE", "owner_from_activity", "non_retryable_errors", "application_error"]

#: The library's failures that no retry can mend: another owner holds the
#: instance, the registry is missing, unreadable or invalid, the request names
#: what the registry does not have, the store refuses to be used. The other
#: statuses (and any the library adds later) stay retryable.
NON_RETRYABLE: Tuple[Type[PortManagerError], ...] = (
    ReservedError,
    NotOwnerError,
    RegistryNotFoundError,
    RegistryIOError,
    RegistryParseError,
    InvalidRegistryError,
    UnknownServiceError,
    UnknownPortError,
    InstanceOutOfRangeError,
    UnknownEnvironmentError,
    InvalidArgumentError,
    TooLargeError,
    StateError,
)

F = TypeVar("F", bound=Callable[..., Any])


def owner_from_activity() -> str:
    """The owner for the running activity's reservations: its workflow's ID.

    Every attempt of the activity, and every activity of one workflow, gets the
    same owner, so a retry after a crash reserves idempotently what the crashed
    attempt reserved. Raises ``RuntimeError`` outside an activity (temporalio's
    own error) and when the activity was not started by a workflow.
    """
    info = activity.info()
    if not info.workflow_id:
        raise RuntimeError(
            f"activity {info.activity_type!r} ({info.activity_id!r}) was not started by a workflow: "
            "it has no workflow ID to own reservations by"
        )
    return info.workflow_id


def application_error(error: PortManagerError) -> ApplicationError:
    """The non-retryable ``ApplicationError`` for `error`: its message, the exception
    class's name as ``type`` (``"ReservedError"``), and the status name as detail."""
    return ApplicationError(error.message, error.status_name, type=type(error).__name__, non_retryable=True)


class non_retryable_errors:  # noqa: N801 (used like a function: `with non_retryable_errors():`)
    """A context manager and a decorator (of plain and ``async`` functions) that
    raises every :data:`NON_RETRYABLE` failure inside it as
    :func:`application_error`'s ``ApplicationError``, chained to the original."""

    def __enter__(self) -> "non_retryable_errors":
        return self

    def __exit__(
        self,
        kind: Optional[Type[BaseException]],
        error: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        if isinstance(error, NON_RETRYABLE):
            raise application_error(error) from error

    def __call__(self, function: F) -> F:
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with self:
                    return await function(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self:
                return function(*args, **kwargs)

        return run  # type: ignore[return-value]
