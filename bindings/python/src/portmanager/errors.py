"""The exception hierarchy: one class per ``pm_status`` of include/portmanager.h.

Every failure reported by the library is raised as a :class:`PortManagerError`
subclass that carries the status number and the library's message (which
names the culprit: service, port, instance, file:line:column). Subclasses also
derive from the builtin exceptions that callers of the original spec's pure-Python
manager already catch:

* :class:`UnknownServiceError` and :class:`UnknownPortError` are ``KeyError``;
* :class:`InstanceOutOfRangeError` and :class:`InvalidArgumentError` are ``ValueError``.

Problems finding or loading the library itself are not statuses; they raise
:class:`LibraryLoadError` (an ``ImportError``) when ``portmanager`` is imported.

The status numbers are written once, in include/portmanager.h. Each class here
names its status (``STATUS_NAME``, the header's enumerator); its number
(``STATUS``) and :data:`STATUS_NAMES` come from the loaded library
(``pm_status_str``), read on first use, so importing costs no library call.
"""

from __future__ import annotations

from _thread import allocate_lock  # built in: free
from collections.abc import Mapping  # loaded at interpreter start-up: free

TYPE_CHECKING = False  # typing is not imported at run time (import cost)
if TYPE_CHECKING:
    from typing import Callable, ClassVar, Dict, Iterator, Optional, Tuple, Type

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
    "DockerError",
    "LibraryLoadError",
    "error_for_status",
    "STATUS_NAMES",
]

#: ``pm_status_str``'s name for a value the library does not define.
_UNKNOWN_STATUS = "PM_ERR_UNKNOWN_STATUS"

#: {value: name} of every ``pm_status``, once read from the library.
_names: Optional[Dict[int, str]] = None
#: {value: class}, once built.
_classes: Optional[Dict[int, Type[PortManagerError]]] = None


def _status_names() -> Dict[int, str]:
    """Every ``pm_status`` the loaded library defines, read once through ``pm_status_str``.

    The header pins the values contiguous from ``PM_OK``, zero, so the first value
    the library calls ``PM_ERR_UNKNOWN_STATUS`` ends them.
    """
    global _names
    if _names is None:
        from . import _lib  # loaded by now: errors arise only from library calls

        names: Dict[int, str] = {}
        while (name := _lib.status_name(len(names))) != _UNKNOWN_STATUS:
            names[len(names)] = name
        _names = names
    return _names


class _StatusNames(Mapping):  # type: ignore[type-arg]
    """{value: name} of every ``pm_status``, read from the library on first use."""

    __slots__ = ()

    def __getitem__(self, status: int) -> str:
        return _status_names()[status]

    def __iter__(self) -> Iterator[int]:
        return iter(_status_names())

    def __len__(self) -> int:
        return len(_status_names())

    def __repr__(self) -> str:
        return repr(_status_names())


#: ``pm_status`` values and their names, as include/portmanager.h defines them
#: (read from the loaded library's ``pm_status_str`` on first use): a mapping
#: from each value to its name, ``PM_OK`` first.
STATUS_NAMES: Mapping[int, str] = _StatusNames()


class _StatusClass(type):
    """The metaclass of the exceptions: ``cls.STATUS`` is the number of ``cls.STATUS_NAME``, read from the library."""

    if TYPE_CHECKING:
        # To a type checker STATUS is an int: every class that is raised or named
        # in code (a subclass) has one. Only the root's is None (introspection).
        STATUS: int
    else:

        @property
        def STATUS(cls):  # noqa: N802 (the public name of the pinned attribute)
            """The ``pm_status`` number this class stands for; ``None`` on the root class."""
            name = cls.STATUS_NAME
            if name is None:
                return None
            for value, known in _status_names().items():
                if known == name:
                    return value
            raise LookupError(f"the loaded library defines no status {name}")


#: Set by ``_lib`` once the library is loaded: ``pm_error_message`` (read and
#: decode a captured failure's message) and ``pm_error_free``.
_captured_message: Optional[Callable[[int], str]] = None
_captured_free: Optional[Callable[[int], None]] = None
#: Serialises the first read of a captured message: a ``pm_error`` must not
#: be used by two threads at once.
_captured_lock = allocate_lock()


class _Capture:
    """A ``pm_error *`` from ``pm_last_error_capture``: the library's copy of one
    failure, whose message is formed on the first :meth:`message` call (then
    the ``pm_error`` is freed). Exceptions for the same failure may share one."""

    __slots__ = ("pointer", "text")

    def __init__(self, pointer: Optional[int]) -> None:
        self.pointer = pointer
        self.text: Optional[str] = None

    def message(self) -> str:
        text = self.text
        if text is None:
            with _captured_lock:
                if self.text is None:
                    pointer, self.pointer = self.pointer, None
                    self.text = _captured_message(pointer) if pointer and _captured_message else ""
                    if pointer and _captured_free:
                        _captured_free(pointer)
                text = self.text
        return text

    def __del__(self) -> None:
        pointer, self.pointer = self.pointer, None
        if pointer and _captured_free:
            try:
                _captured_free(pointer)
            except Exception:  # interpreter shutdown: the library may be gone
                pass


class PortManagerError(Exception, metaclass=_StatusClass):
    """A failure reported by libportmanager.

    Attributes:
        status: the ``pm_status`` number (see :data:`STATUS_NAMES`).
        message: the library's message, naming the culprit.

    A failure raised by the library carries its status from the start and its
    message only when first read (``str()``, printing, ``message``, ``args``,
    pickling): the exception holds the library's copy of the failure
    (``pm_last_error_capture``), taken on the failing thread right after the
    call, so the message is the right one whenever and on whichever thread it
    is read. Forming it (for an unknown service, the did-you-mean) is thus paid
    only by callers that look at it.
    """

    #: The name of the ``pm_status`` this class stands for (the header's
    #: enumerator); ``None`` on the root class. ``STATUS`` is its number.
    STATUS_NAME: ClassVar[Optional[str]] = None
    #: The library's copy of the failure, while its message is unread (:meth:`_captured`).
    _capture: _Capture

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message)
        self.status: int = status
        self._message: Optional[str] = message

    @classmethod
    def _captured(cls, status: int, capture: _Capture) -> "PortManagerError":
        """The exception for `status` whose message is read from `capture` when first asked for."""
        error = cls.__new__(cls, status)
        error.status = status
        error._message = None
        error._capture = capture
        return error

    @property
    def message(self) -> str:
        """The library's message, naming the culprit."""
        text = self._message
        if text is None:
            text = self._message = self._capture.message()
        return text

    @message.setter
    def message(self, text: str) -> None:
        self._message = text

    @property
    def args(self) -> Tuple[int, str]:  # noqa: D102 (BaseException.args: (status, message))
        return (self.status, self.message)

    @args.setter
    def args(self, value: Tuple[object, ...]) -> None:
        BaseException.args.__set__(self, value)  # type: ignore[attr-defined]

    @property
    def status_name(self) -> str:
        """The status's name, such as ``"PM_ERR_UNKNOWN_PORT"``."""
        return _status_names().get(self.status, _UNKNOWN_STATUS)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status}, {self.message!r})"

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # Exceptions cross process boundaries (Temporal, multiprocessing) by pickling.
        return (type(self), (self.status, self.message))


class InvalidArgumentError(PortManagerError, ValueError):
    """``PM_ERR_INVALID_ARGUMENT``: a value out of range, a NUL in a string, a closed manager."""

    STATUS_NAME = "PM_ERR_INVALID_ARGUMENT"


class RegistryNotFoundError(PortManagerError):
    """``PM_ERR_NOT_FOUND``: no registry file; the message lists every place tried."""

    STATUS_NAME = "PM_ERR_NOT_FOUND"


class RegistryIOError(PortManagerError):
    """``PM_ERR_IO``: the registry file exists but cannot be read."""

    STATUS_NAME = "PM_ERR_IO"


class RegistryParseError(PortManagerError):
    """``PM_ERR_PARSE``: not a readable YAML document; the message gives file:line:column."""

    STATUS_NAME = "PM_ERR_PARSE"


class InvalidRegistryError(PortManagerError):
    """``PM_ERR_INVALID_REGISTRY``: well-formed YAML that breaks a registry rule."""

    STATUS_NAME = "PM_ERR_INVALID_REGISTRY"


class UnknownServiceError(PortManagerError, KeyError):
    """``PM_ERR_UNKNOWN_SERVICE``: no such service. Also a ``KeyError``."""

    STATUS_NAME = "PM_ERR_UNKNOWN_SERVICE"


class UnknownPortError(PortManagerError, KeyError):
    """``PM_ERR_UNKNOWN_PORT``: the service has no port of that name. Also a ``KeyError``."""

    STATUS_NAME = "PM_ERR_UNKNOWN_PORT"


class InstanceOutOfRangeError(PortManagerError, ValueError):
    """``PM_ERR_INSTANCE_OUT_OF_RANGE``: instance_id outside 0..max_instances-1. Also a ``ValueError``."""

    STATUS_NAME = "PM_ERR_INSTANCE_OUT_OF_RANGE"


class BufferTooSmallError(PortManagerError):
    """``PM_ERR_BUFFER_TOO_SMALL``: an output buffer was too small.

    The binding sizes its buffers itself, so this reaches only callers of the
    raw functions in :mod:`portmanager._lib`.
    """

    STATUS_NAME = "PM_ERR_BUFFER_TOO_SMALL"


class ProbeFailedError(PortManagerError):
    """``PM_ERR_PROBE_FAILED``: whether the port is free cannot be known (permission, host, family)."""

    STATUS_NAME = "PM_ERR_PROBE_FAILED"


class UnknownEnvironmentError(PortManagerError):
    """``PM_ERR_UNKNOWN_ENVIRONMENT``: the registry defines no environment of that name."""

    STATUS_NAME = "PM_ERR_UNKNOWN_ENVIRONMENT"


class ReservedError(PortManagerError):
    """``PM_ERR_RESERVED``: the instance (or every instance) is reserved by another owner, or in use.

    The message names the owner (escaped and shortened) or the port in use.
    """

    STATUS_NAME = "PM_ERR_RESERVED"


class NotOwnerError(PortManagerError):
    """``PM_ERR_NOT_OWNER``: a release or renewal by someone other than the owner (the message
    names it), or a renewal of an instance nobody reserved."""

    STATUS_NAME = "PM_ERR_NOT_OWNER"


class StateError(PortManagerError):
    """``PM_ERR_STATE``: the reservation store cannot be used safely (a refused directory or file,
    a corrupt database, a newer schema); the message names the file."""

    STATUS_NAME = "PM_ERR_STATE"


class DockerError(PortManagerError):
    """``PM_ERR_DOCKER``: the Docker engine cannot be reached or gave no usable answer
    (:meth:`PortManager.reconcile`); the message names the engine's socket and why."""

    STATUS_NAME = "PM_ERR_DOCKER"


class TooLargeError(PortManagerError):
    """``PM_ERR_TOO_LARGE``: the work asked for is past a documented limit.

    :meth:`PortManager.analyze` raises it for a registry whose lattice (every
    port of every instance in every environment) has more points than the
    analysis limit (docs/analysis.md); the message gives both numbers and the
    largest service.
    """

    STATUS_NAME = "PM_ERR_TOO_LARGE"


class LibraryLoadError(ImportError):
    """libportmanager could not be found or loaded, or its ABI is not the one this package expects.

    The message names every path tried and why each failed.
    """


#: One class per status, each status once.
_CLASSES = (
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
    DockerError,
)


def _class_for(status: int) -> Type[PortManagerError]:
    global _classes
    if _classes is None:
        by_name = {cls.STATUS_NAME: cls for cls in _CLASSES}
        _classes = {value: by_name[name] for value, name in _status_names().items() if name in by_name}
    return _classes.get(status, PortManagerError)


def error_for_status(status: int, message: str) -> PortManagerError:
    """The exception for a failed ``pm_status``: its subclass, or the root class for a status this package does not know."""
    return _class_for(status)(status, message)


def error_for_capture(status: int, captured: Optional[int]) -> PortManagerError:
    """As :func:`error_for_status`, the message read when first asked for from `captured`,
    a ``pm_error *`` from ``pm_last_error_capture`` that the exception then owns."""
    return _class_for(status)._captured(status, _Capture(captured))
