"""The original spec's port manager API over libportmanager: :class:`PortManager`.

``PortManager`` wraps one ``pm_registry`` handle. A handle is immutable once
opened, so every answer for one (service, instance, port) is fixed for the
life of the manager: the manager remembers it after the first C call and
answers later calls from a dict, without crossing into C. That is what makes
:meth:`PortManager.get_port` as fast as the original spec's pure-Python design while
the library stays the only place that computes ports. Nothing is shared
between managers, failures are never remembered (a bad call raises every
time), and a closed manager answers nothing.

Allocations are still logged every time. The first call for an allocation
goes through C, and the library logs its line through the log bridge. When
the ``portmanager`` logger is enabled for INFO, a remembered answer logs the
same line from Python: the library's text for that allocation
(``pm_allocation_line``), read once and kept.

The manager's methods are grouped by what they do: allocation, names and the
registry here; reservations in :mod:`._reservations`, analysis in
:mod:`._analysis`, the records in :mod:`._records`.
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path
from _thread import allocate_lock
from ctypes import byref, c_uint16, c_void_p

from . import _lib, _log
from .errors import RegistryNotFoundError
from . import _probe
from ._analysis import SEVERITIES, Analysis, Analyzing, Finding
from ._args import INT32_MAX as _INT32_MAX, INT32_MIN as _INT32_MIN
from ._args import int64 as _int64, integer as _integer, path as _path, text as _text
from ._handle import Handle as _Handle
from ._probe import ProbeResult, is_port_available
from ._describing import Describing
from ._instances import Instance, Instances
from ._records import Allocation, Environment, PortDefinition, ServiceInfo
from ._reservations import (
    CONTAINER_NAME,
    Container,
    RESERVE_CONTAINER_OWNER,
    RESERVE_FORCE,
    RESERVE_NO_PROBE,
    Reservation,
    ReservationInfo,
    Reserving,
)
from ._states import InstanceState, InstanceStates, ReconcileAction, Watching
from .errors import InstanceOutOfRangeError, InvalidArgumentError, UnknownPortError, UnknownServiceError

# typing is not imported at run time: `import portmanager` stays cheaper than
# `import yaml` (benchmarks/python/bench_import.py).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional, Tuple, TypeVar, Union

    from ._args import PathArg

    _T = TypeVar("_T")

__all__ = [
    "PortManager",
    "get_port_manager",
    "is_port_available",
    "Allocation",
    "Instance",
    "ServiceInfo",
    "PortDefinition",
    "Environment",
    "Analysis",
    "Finding",
    "SEVERITIES",
    "Reservation",
    "ReservationInfo",
    "InstanceState",
    "InstanceStates",
    "ReconcileAction",
    "Container",
    "CONTAINER_NAME",
    "RESERVE_NO_PROBE",
    "RESERVE_FORCE",
    "RESERVE_CONTAINER_OWNER",
]

_INFO = _log.LOG_INFO
# The fast path's only question about logging; the log bridge rebinds it
# (_bridge_changed), so that it costs one call and needs no `import logging`.
_info_enabled: Callable[[int], bool] = _log.info_enabled_check()


def _bridge_changed(check: Callable[[int], bool]) -> None:
    """Called by the log bridge: who decides now whether a remembered allocation is logged."""
    global _info_enabled
    _info_enabled = check


_log.on_bridge_change(_bridge_changed)


_pm_get_port = _lib.lib.pm_get_port
#: The failures of get_port that depend only on the (immutable) registry, and so
#: may be remembered like its answers.
_REGISTRY_MISSES = (UnknownServiceError, UnknownPortError, InstanceOutOfRangeError)
#: How many distinct misses a manager remembers before it forgets them all.
_MISSES_KEPT = 256


# --------------------------------------------------------------- manager


class PortManager(Reserving, Watching, Analyzing, Instances, Describing):
    """An opened port registry: the original spec's ``PortManager``, computed by libportmanager.

    ``PortManager()`` resolves the registry the way the library does:
    ``$PORTMANAGER_REGISTRY``, then ``./dynamicconfig/port_registry.yaml``, ...;
    where none of the library's places has one, the registry shipped in this
    package (``portmanager/share/portmanager/port_registry.yaml``, in the wheel)
    is the last place tried, as an installation's own registry is; and
    selects ``$PORTMANAGER_ENV`` when set. One manager may be used by any
    number of threads at once. Close it with :meth:`close` or a ``with`` block;
    a manager that is garbage-collected, or still open at interpreter exit, is
    closed then (through ``weakref.finalize``, which is safe during shutdown).

    Args:
        registry_path: the registry YAML file, or ``None`` for the default.
        environment: a name from the registry's ``_environments``, or ``None``
            for ``$PORTMANAGER_ENV`` (none when unset).

    Raises:
        RegistryNotFoundError, RegistryIOError, RegistryParseError,
        InvalidRegistryError, UnknownEnvironmentError, InvalidArgumentError.
    """

    def __init__(self, registry_path: Optional[PathArg] = None, environment: Optional[str] = None) -> None:
        path = None if registry_path is None else _path(registry_path, "registry_path")
        name = None if environment is None else _text(environment, "environment")
        out = c_void_p()
        try:
            _lib.lib.pm_registry_open_env(path, name, byref(out))
        except RegistryNotFoundError:
            shipped = Path(__file__).resolve().parent / "share" / "portmanager" / "port_registry.yaml"
            if path is not None or os.environ.get("PORTMANAGER_REGISTRY") or not shipped.is_file():
                raise
            _lib.lib.pm_registry_open_env(os.fsencode(shipped), name, byref(out))
        self._adopt(out.value)

    @classmethod
    def from_yaml(cls, yaml: Union[str, bytes], source: Optional[str] = None) -> "PortManager":
        """Opens a registry held in memory (``pm_registry_open_string``); no environment is selected.

        Args:
            yaml: the registry's YAML text.
            source: the name messages use in place of a file path (default ``"<memory>"``).
        """
        if isinstance(yaml, str):
            data = yaml.encode("utf-8", "surrogateescape")
        elif isinstance(yaml, (bytes, bytearray)):
            data = bytes(yaml)
        else:
            raise TypeError(f"yaml must be a str or bytes, not {type(yaml).__name__}")
        name = None if source is None else _text(source, "source")
        out = c_void_p()
        _lib.lib.pm_registry_open_string(data, len(data), name, byref(out))
        manager = cls.__new__(cls)
        manager._adopt(out.value)
        return manager

    def _adopt(self, pointer: Optional[int]) -> None:
        # (service, instance_id, port_type) -> port: the fast path's table.
        self._ports: Dict[Tuple[Any, Any, Any], int] = {}
        # Every other remembered answer, keyed by (method, arguments...).
        self._memo: Dict[Tuple[Any, ...], Any] = {}
        # (service, instance, port_type) -> the library's log line for that allocation, and its record's extra.
        self._lines: Dict[Tuple[Any, Any, Any], Tuple[str, Optional[Dict[str, Any]]]] = {}
        # (service, instance_id, port_type) as given -> (class, status, capture) of get_port's failure.
        self._misses: Dict[Tuple[str, int, str], Tuple[Any, int, Any]] = {}
        ports, memo, lines, misses = self._ports, self._memo, self._lines, self._misses

        def forget() -> None:
            ports.clear()
            memo.clear()
            lines.clear()
            misses.clear()

        assert pointer, "the library returned PM_OK without a handle"
        self._handle = _Handle(pointer, forget)
        # Holds the handle, not self, so self can be collected.
        self._finalizer = weakref.finalize(self, self._handle.close)

    def _call(self, function: Callable[..., _T], *arguments: Any) -> _T:
        """``function(handle, *arguments)`` with the handle held for the call."""
        handle = self._handle.acquire()
        try:
            return function(handle, *arguments)
        finally:
            self._handle.release()

    # ------------------------------------------------------- lifecycle

    def close(self) -> None:
        """Releases the registry. Later calls raise InvalidArgumentError; closing again does nothing."""
        self._ports.clear()
        self._memo.clear()
        self._lines.clear()
        self._misses.clear()
        self._finalizer()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._handle.closed

    def __enter__(self) -> "PortManager":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.closed:
            return "<PortManager closed>"
        return f"<PortManager source={self.source!r} services={len(self.list_services())}>"

    # ------------------------------------------------------ allocation

    def get_port(self, service: str, instance_id: int = 0, port_type: str = "port") -> int:
        """The host port of ``port_type`` of instance ``instance_id`` of ``service``.

        ``base_port + instance_id * instance_increment`` (+ the environment's
        offset); for a range, its first port. Logged at INFO on the
        ``portmanager`` logger as ``port_manager_port_allocated service=...``.

        Raises:
            UnknownServiceError, UnknownPortError (both ``KeyError``),
            InstanceOutOfRangeError (``ValueError``), TypeError for a non-str
            name or a non-int instance_id.
        """
        try:
            port = self._ports[(service, instance_id, port_type)]
        except (KeyError, TypeError):
            port = None  # raised outside this handler: no KeyError chained to the error
        # 1.0 == 1 and True == 1 as dict keys; only a real int may take the fast path.
        if port is None or instance_id.__class__ is not int:
            return self._get_port(service, instance_id, port_type)
        if _info_enabled(_INFO):
            self._log_allocation(service, instance_id, port_type)
        return port

    def _get_port(self, service: Any, instance_id: Any, port_type: Any) -> int:
        """The C round trip behind :meth:`get_port`: validates, calls (the library logs), remembers.

        A failure that depends only on the registry (unknown service or port,
        instance out of range) is remembered too: asked again, it is raised
        anew without a library call, sharing the first one's captured message
        (read only if an exception's message is).
        """
        # Remembered misses are keyed by the arguments as given, when they are
        # exactly str, int, str (1.0 == 1 as a key, but 1.0 is a TypeError).
        key = (service, instance_id, port_type)
        exact = service.__class__ is str and instance_id.__class__ is int and port_type.__class__ is str
        if exact:
            missed = self._misses.get(key)
            if missed is not None and not self._handle.closed:
                raise missed[0]._captured(missed[1], missed[2])
        name = _text(service, "service")
        port_name = _text(port_type, "port_type")
        instance = _integer(instance_id, "instance_id")
        out = c_uint16()
        if _INT32_MIN <= instance <= _INT32_MAX and not _info_enabled(_INFO):
            # _allocating() inlined for the common case: a miss with logging off.
            handle = self._handle.acquire()
            try:
                _pm_get_port(handle, name, instance, port_name, byref(out))
            except _REGISTRY_MISSES as error:
                capture = getattr(error, "_capture", None)
                if capture is not None and exact:
                    if len(self._misses) >= _MISSES_KEPT:
                        self._misses.clear()
                    self._misses[key] = (type(error), error.status, capture)
                raise
            finally:
                self._handle.release()
        else:
            self._allocating(_lib.lib.pm_get_port, name, instance, port_name, byref(out), port=port_name)
        port = out.value
        self._ports[(service, instance_id, port_type)] = port
        return port

    def _log_allocation(self, service: str, instance: int, port_type: str) -> None:
        """Logs a remembered allocation with the line the library logged for it.

        The line is the library's own (:meth:`allocation_line`), read once per
        (service, instance, port) with the record's ``extra`` fields; later
        calls only hand both to ``logging``.
        """
        if not _log.bridge_installed():
            # The library's own sink: let the library log it.
            first, last = c_uint16(), c_uint16()
            self._call(_lib.lib.pm_get_port_range, _text(service, "service"), instance,
                       _text(port_type, "port_type"), byref(first), byref(last))
            return
        key = (service, instance, port_type)
        entry = self._lines.get(key)
        if entry is None:
            line = self.allocation_line(service, instance, port_type)
            entry = self._lines[key] = (line, _log.allocation_extra(line))
        _log.log_info(entry[0], entry[1])

    def allocation_line(self, service: str, instance_id: int = 0, port_type: str = "port") -> str:
        """The line the library logs at INFO for this allocation (``pm_allocation_line``), without logging it.

        ``port_manager_port_allocated service=kafka instance=1 type=broker_port port=9192 base=9092 increment=100``

        Raises:
            UnknownServiceError, UnknownPortError, InstanceOutOfRangeError, as :meth:`get_port`.
        """
        name = _text(service, "service")
        port_name = _text(port_type, "port_type")
        instance = _integer(instance_id, "instance_id")
        return self._line(name, instance, port_name)

    def _line(self, service: bytes, instance: int, port_name: bytes) -> str:
        """``pm_allocation_line``: the library's line, or its error (an instance beyond int64_t: see :meth:`_allocating`)."""
        clamped = _int64(instance)
        try:
            return self._call(lambda handle: _lib.read_string(
                _lib.lib.pm_allocation_line, handle, service, clamped, port_name))
        except InstanceOutOfRangeError as error:
            if clamped == instance:
                raise
            raise InstanceOutOfRangeError(error.status, f"instance_id {instance} is outside int64_t") from None

    def _allocating(
        self, function: Callable[..., Any], service: bytes, instance: int, *rest: Any, port: Optional[bytes] = None
    ) -> None:
        """``function(handle, service, instance, *rest)`` for an instance-taking function.

        These take an ``int32_t`` instance. One that does not fit is out of
        range for every service (max_instances fits), and the library reports
        it through ``pm_allocation_line``, which takes an ``int64_t``: the
        message names the caller's value. `port` is the port the call names, if any.
        """
        if _info_enabled(_INFO):
            _log.ensure_info_threshold()
        if _INT32_MIN <= instance <= _INT32_MAX:
            self._call(function, service, instance, *rest)
            return
        if port is None:  # any port will do: the service, then the instance, is what fails
            port = self._call(lambda handle: _lib.read_string(_lib.lib.pm_port_name, handle, service, 0)).encode()
        self._line(service, instance, port)
        # Reached only if a registry ever allowed more than 2**31 instances.
        raise InvalidArgumentError(InvalidArgumentError.STATUS, f"instance_id {instance} is outside int32_t")

    def get_port_range(self, service: str, instance_id: int = 0, port_type: str = "port") -> Tuple[int, int]:
        """The first and last host port of ``port_type`` (equal for a single port). Logged like :meth:`get_port`."""
        name = _text(service, "service")
        port_name = _text(port_type, "port_type")
        instance = _integer(instance_id, "instance_id")
        key = ("range", name, instance, port_name)
        result = self._memo.get(key)
        if result is None:
            first, last = c_uint16(), c_uint16()
            self._allocating(_lib.lib.pm_get_port_range, name, instance, port_name, byref(first), byref(last),
                            port=port_name)
            result = self._memo[key] = (first.value, last.value)
        elif _info_enabled(_INFO):
            self._log_allocation(service, instance, port_type)
        return result

    def get_ports(self, service: str, instance_id: int = 0) -> Dict[str, int]:
        """Every host port of one instance, ``{port_type: port}`` in file order. Each is logged."""
        name = _text(service, "service")
        instance = _integer(instance_id, "instance_id")
        key = ("ports", name, instance)
        pairs = self._memo.get(key)
        if pairs is None:
            # Validates service and instance (and logs) before the names are read.
            ports = self._read_ports(name, instance)
            pairs = self._memo[key] = tuple(zip(self.service_info(service).ports, ports))
        elif _info_enabled(_INFO):
            for port_type, _ in pairs:
                self._log_allocation(service, instance, port_type)
        return dict(pairs)

    def _read_ports(self, name: bytes, instance: int) -> List[int]:
        result: List[int] = []

        def read(handle: int, service: bytes, clamped: int) -> None:
            result.extend(_lib.read_ports(_lib.lib.pm_get_ports, handle, service, clamped))

        self._allocating(read, name, instance)
        return result

    def container_port(self, service: str, instance_id: int = 0, port_type: str = "port") -> int:
        """The port inside the container (docs/registry.md, "Container ports"): the base port unless the registry says otherwise. Not logged."""
        name = _text(service, "service")
        port_name = _text(port_type, "port_type")
        instance = _integer(instance_id, "instance_id")
        key = ("container_port", name, instance, port_name)
        port = self._memo.get(key)
        if port is None:
            out = c_uint16()
            self._allocating(_lib.lib.pm_get_container_port, name, instance, port_name, byref(out), port=port_name)
            port = self._memo[key] = out.value
        return port

    # ------------------------------------------------------------ names

    def container_name(self, service: str, instance_id: int = 0) -> str:
        """``kafka-development`` for instance 0, ``kafka-development-1`` for instance 1, ..."""
        return self._name(_lib.lib.pm_container_name, "container_name", service, instance_id)

    def volume_name(self, service: str, instance_id: int = 0) -> str:
        """``kafka-data`` for instance 0, ``kafka-data-1`` for instance 1, ..."""
        return self._name(_lib.lib.pm_volume_name, "volume_name", service, instance_id)

    def _name(self, function: Callable[..., int], kind: str, service: Any, instance_id: Any) -> str:
        name = _text(service, "service")
        instance = _integer(instance_id, "instance_id")
        key = (kind, name, instance)
        text = self._memo.get(key)
        if text is None:
            result: List[str] = []

            def read(handle: int, service_name: bytes, clamped: int) -> None:
                result.append(_lib.read_string(function, handle, service_name, clamped))

            self._allocating(read, name, instance)
            text = self._memo[key] = result[0]
        return text

    # ------------------------------------------------------------ probe

    def is_port_available(self, port: int, host: str = "127.0.0.1") -> bool:
        """Whether a TCP port can be bound on ``host`` right now; see :func:`is_port_available`."""
        return _probe.is_port_available(port, host)

    def probe(self, port: int, protocol: str = "tcp", host: Optional[str] = None) -> "ProbeResult":
        """Whether ``port`` is free the way Docker would publish it, and who holds it; see :func:`portmanager.probe`."""
        return _probe.probe(port, protocol, host)



_default: Optional[PortManager] = None
_default_lock = allocate_lock()


def get_port_manager() -> PortManager:
    """The process-wide manager, as in the original spec: opened on first use, shared by every thread.

    The registry is resolved as the library does (``$PORTMANAGER_REGISTRY``,
    then ``./dynamicconfig/port_registry.yaml``; ``$PORTMANAGER_ENV`` selects an
    environment). A failure to open raises and is tried again on the next
    call; a manager someone closed is replaced by a fresh one.
    """
    global _default
    manager = _default
    if manager is None or manager.closed:
        with _default_lock:
            if _default is None or _default.closed:
                _default = PortManager()
            manager = _default
    return manager
