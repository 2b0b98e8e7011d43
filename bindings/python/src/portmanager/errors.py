"""The exception hierarchy: one class per ``pm_status`` of include/portmanager.h.

Every failure reported by the library is raised as a :class:`PortManagerError`
subclass that carries the status number and the library's message (which
names the culprit: service, port, instance, file:line:column). Subclasses also
derive from the builtin exceptions that callers of the seed's pure-Python
manager already catch:

* :class:`UnknownServiceError` and :class:`UnknownPortError` are ``KeyError``;
* :class:`InstanceOutOfRangeError` and :class:`InvalidArgumentError` are ``ValueError``.

Problems finding or loading the library itself are not statuses; they raise
:class:`LibraryLoadError` (an ``ImportError``) when ``portmanager`` is imported.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time (import cost)
if TYPE_CHECKING:
    from typing import ClassVar, Dict, Optional, Type

__all__ = [
    "PortManagerError",
    "InvalidArgumentError",
    "RegistryNotFoundError",
    "RegistryIOError",
    "RegistryParseError",
    "InvalidRegistryError",
    "UnknownServiceError",
    "UnknownPortError",
    "InstanceOutOfRangeError",
    "BufferTooSmallError",
    "ProbeFailedError",
    "UnknownEnvironmentError",
    "TooLargeError",
    "ReservedError",
    "NotOwnerError",
    "StateError",
    "LibraryLoadError",
    "error_for_status",
    "STATUS_NAMES",
]

#: ``pm_status`` values and their names, pinned by include/portmanager.h.
STATUS_NAMES: Dict[int, str] = {
    0: "PM_OK",
    1: "PM_ERR_INVALID_ARGUMENT",
    2: "PM_ERR_NOT_FOUND",
    3: "PM_ERR_IO",
    4: "PM_ERR_PARSE",
    5: "PM_ERR_INVALID_REGISTRY",
    6: "PM_ERR_UNKNOWN_SERVICE",
    7: "PM_ERR_UNKNOWN_PORT",
    8: "PM_ERR_INSTANCE_OUT_OF_RANGE",
    9: "PM_ERR_BUFFER_TOO_SMALL",
    10: "PM_ERR_PROBE_FAILED",
    11: "PM_ERR_UNKNOWN_ENVIRONMENT",
    12: "PM_ERR_LEASED",
    13: "PM_ERR_TOO_LARGE",
    14: "PM_ERR_RESERVED",
    15: "PM_ERR_NOT_OWNER",
    16: "PM_ERR_STATE",
}


class PortManagerError(Exception):
    """A failure reported by libportmanager.

    Attributes:
        status: the ``pm_status`` number (see :data:`STATUS_NAMES`).
        message: the library's message, naming the culprit.
    """

    #: The ``pm_status`` this class stands for; ``None`` on the root class.
    STATUS: ClassVar[Optional[int]] = None

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message)
        self.status: int = status
        self.message: str = message

    @property
    def status_name(self) -> str:
        """The status's name, such as ``"PM_ERR_UNKNOWN_PORT"``."""
        return STATUS_NAMES.get(self.status, "PM_ERR_UNKNOWN_STATUS")

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status}, {self.message!r})"

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # Exceptions cross process boundaries (Temporal, multiprocessing) by pickling.
        return (type(self), (self.status, self.message))


class InvalidArgumentError(PortManagerError, ValueError):
    """``PM_ERR_INVALID_ARGUMENT`` (1): a value out of range, a NUL in a string, a closed manager."""

    STATUS = 1


class RegistryNotFoundError(PortManagerError):
    """``PM_ERR_NOT_FOUND`` (2): no registry file; the message lists every place tried."""

    STATUS = 2


class RegistryIOError(PortManagerError):
    """``PM_ERR_IO`` (3): the registry file exists but cannot be read."""

    STATUS = 3


class RegistryParseError(PortManagerError):
    """``PM_ERR_PARSE`` (4): not a readable YAML document; the message gives file:line:column."""

    STATUS = 4


class InvalidRegistryError(PortManagerError):
    """``PM_ERR_INVALID_REGISTRY`` (5): well-formed YAML that breaks a registry rule."""

    STATUS = 5


class UnknownServiceError(PortManagerError, KeyError):
    """``PM_ERR_UNKNOWN_SERVICE`` (6): no such service. Also a ``KeyError``."""

    STATUS = 6


class UnknownPortError(PortManagerError, KeyError):
    """``PM_ERR_UNKNOWN_PORT`` (7): the service has no port of that name. Also a ``KeyError``."""

    STATUS = 7


class InstanceOutOfRangeError(PortManagerError, ValueError):
    """``PM_ERR_INSTANCE_OUT_OF_RANGE`` (8): instance_id outside 0..max_instances-1. Also a ``ValueError``."""

    STATUS = 8


class BufferTooSmallError(PortManagerError):
    """``PM_ERR_BUFFER_TOO_SMALL`` (9): an output buffer was too small.

    The binding sizes its buffers itself, so this reaches only callers of the
    raw functions in :mod:`portmanager._lib`.
    """

    STATUS = 9


class ProbeFailedError(PortManagerError):
    """``PM_ERR_PROBE_FAILED`` (10): whether the port is free cannot be known (permission, host, family)."""

    STATUS = 10


class UnknownEnvironmentError(PortManagerError):
    """``PM_ERR_UNKNOWN_ENVIRONMENT`` (11): the registry defines no environment of that name."""

    STATUS = 11


class ReservedError(PortManagerError):
    """``PM_ERR_RESERVED`` (14): the instance (or every instance) is reserved by another owner, or in use.

    The message names the owner (escaped and shortened) or the port in use.
    """

    STATUS = 14


class NotOwnerError(PortManagerError):
    """``PM_ERR_NOT_OWNER`` (15): a release or renewal by someone other than the owner (the message
    names it), or a renewal of an instance nobody reserved."""

    STATUS = 15


class StateError(PortManagerError):
    """``PM_ERR_STATE`` (16): the reservation store cannot be used safely (a refused directory or file,
    a corrupt database, a newer schema); the message names the file."""

    STATUS = 16


class TooLargeError(PortManagerError):
    """``PM_ERR_TOO_LARGE`` (13): the work asked for is past a documented limit.

    :meth:`PortManager.analyze` raises it for a registry whose lattice (every
    port of every instance in every environment) has more points than the
    analysis limit (docs/analysis.md); the message gives both numbers and the
    largest service.
    """

    STATUS = 13


class LibraryLoadError(ImportError):
    """libportmanager could not be found or loaded, or its ABI is not the one this package expects.

    The message names every path tried and why each failed.
    """


_BY_STATUS: Dict[int, Type[PortManagerError]] = {
    cls.STATUS: cls
    for cls in (
        InvalidArgumentError,
        RegistryNotFoundError,
        RegistryIOError,
        RegistryParseError,
        InvalidRegistryError,
        UnknownServiceError,
        UnknownPortError,
        InstanceOutOfRangeError,
        BufferTooSmallError,
        ProbeFailedError,
        UnknownEnvironmentError,
        TooLargeError,
        ReservedError,
        NotOwnerError,
        StateError,
    )
    if cls.STATUS is not None
}


def error_for_status(status: int, message: str) -> PortManagerError:
    """The exception for a failed ``pm_status``: its subclass, or the root class for a status this package does not know."""
    return _BY_STATUS.get(status, PortManagerError)(status, message)
