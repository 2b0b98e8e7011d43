"""The seed's port manager API over libportmanager.

``PortManager`` wraps one ``pm_registry`` handle. A handle is immutable once
opened, so every answer for one (service, instance, port) is fixed for the
life of the manager: the manager remembers it after the first C call and
answers later calls from a dict, without crossing into C. That is what makes
:meth:`PortManager.get_port` as fast as the seed's pure-Python design while
the library stays the only place that computes ports. Nothing is shared
between managers, failures are never remembered (a bad call raises every
time), and a closed manager answers nothing.

Allocations are still logged every time. The first call for an allocation
goes through C, and the library logs its line through the log bridge. When
the ``portmanager`` logger is enabled for INFO, a remembered answer logs the
same line from Python: it is built once per allocation from the registry's
definitions, and a test holds it equal to the library's text.
"""

from __future__ import annotations

import operator
import os
import threading
import weakref
from ctypes import byref, c_int, c_int32, c_size_t, c_uint16, c_void_p, create_string_buffer
from collections import namedtuple

from . import _lib, _log
from . import _probe
from ._probe import ProbeResult
from .errors import BufferTooSmallError, InstanceOutOfRangeError, InvalidArgumentError

# typing is not imported at run time: `import portmanager` stays cheaper than
# `import yaml` (benchmarks/python/bench_import.py). The records below are
# collections.namedtuple classes, which typing.NamedTuple would build too.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, TypeVar, Union

    _T = TypeVar("_T")
    PathArg = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

__all__ = [
    "PortManager",
    "get_port_manager",
    "is_port_available",
    "Allocation",
    "ServiceInfo",
    "PortDefinition",
    "Environment",
    "Analysis",
    "Finding",
    "SEVERITIES",
    "Reservation",
    "ReservationInfo",
    "CONTAINER_NAME",
    "RESERVE_NO_PROBE",
    "RESERVE_FORCE",
    "RESERVE_CONTAINER_OWNER",
]

_INT32_MIN = -(2**31)
_INT32_MAX = 2**31 - 1
_INFO = _log.LOG_INFO
# Bound once: the fast path's only question to `logging` (see _bridge_changed).
_info_enabled: Callable[[int], bool] = _log.logger.isEnabledFor


def _library_threshold_allows(level: int) -> bool:
    """With the bridge uninstalled, the library's threshold alone decides what its sink gets."""
    threshold = _log.library_threshold()
    return threshold is not None and threshold <= level


def _bridge_changed(installed: bool) -> None:
    """Called by the log bridge: who decides whether a remembered allocation is logged."""
    global _info_enabled
    _info_enabled = _log.logger.isEnabledFor if installed else _library_threshold_allows


_pm_get_port = _lib.lib.pm_get_port


class Allocation(namedtuple("Allocation", "service instance port_type host_port host_port_last container_port container_port_last base increment")):
    """One port of one instance of one service, as a summary lists it.

    Fields:

    - ``service`` (str)
    - ``instance`` (int)
    - ``port_type`` (str)
    - ``host_port`` (int): The host port (the first of a range).
    - ``host_port_last`` (int): The last host port of a range; equal to ``host_port`` for a single port.
    - ``container_port`` (int): The port inside the container: fixed by the registry, else the host port.
    - ``container_port_last`` (int)
    - ``base`` (int): The registry's instance-0 port, before any environment offset.
    - ``increment`` (int)
    """

    __slots__ = ()


class ServiceInfo(namedtuple("ServiceInfo", "name increment max_instances ports")):
    """A service's settings (``pm_service_info`` and ``pm_port_name``).

    Fields:

    - ``name`` (str)
    - ``increment`` (int)
    - ``max_instances`` (int)
    - ``ports`` (Tuple[str, ...]): Its port names, in file order (``"port"`` for single-port services).
    """

    __slots__ = ()


class PortDefinition(namedtuple("PortDefinition", "service name base width container_port")):
    """A port's definition for instance 0, before any environment offset (``pm_port_definition``).

    Fields:

    - ``service`` (str)
    - ``name`` (str)
    - ``base`` (int)
    - ``width`` (int): 1 for a single port, the width of a range otherwise (``pm_port_definition``'s count).
    - ``container_port`` (Optional[int]): The fixed container port, or ``None`` when it equals the host port.
    """

    __slots__ = ()


class Environment(namedtuple("Environment", "name offset")):
    """The environment in force (``pm_registry_environment``).

    Fields:

    - ``name`` (Optional[str]): Its name, or ``None`` when no environment is selected.
    - ``offset`` (int): Added to every host port; 0 for none.
    """

    __slots__ = ()


#: ``pm_severity`` values and their names.
SEVERITIES: Dict[int, str] = {0: "note", 1: "warning", 2: "error"}


class Finding(namedtuple("Finding", "severity text")):
    """One finding of :meth:`PortManager.analyze`.

    Fields:

    - ``severity`` (str): ``"note"``, ``"warning"`` or ``"error"``.
    - ``text`` (str): ``"FILE:LINE:COLUMN: error: MESSAGE; fix: SUGGESTION"``, as compilers print them.
    """

    __slots__ = ()


class Analysis(namedtuple("Analysis", "total errors warnings findings json")):
    """A whole-registry analysis (``pm_analyze``): collisions, bad offsets, risky ports.

    Fields:

    - ``total`` (int): How many findings (``pm_analysis_count``'s count).
    - ``errors`` (int)
    - ``warnings`` (int)
    - ``findings`` (Tuple[Finding, ...]): Ordered by source location, then severity.
    - ``json`` (str): The library's JSON report (schema in docs/analysis.md).
    """

    __slots__ = ()

    @property
    def conflict_free(self) -> bool:
        """True when no finding is an error."""
        return self.errors == 0

    def to_dict(self) -> Dict[str, Any]:
        """The JSON report, parsed."""
        import json

        return json.loads(self.json)  # type: ignore[no-any-return]


# ------------------------------------------------------------ validation


def _path(value: PathArg, argument: str) -> bytes:
    """A file-system path argument as bytes for C; refuses other types and NUL characters."""
    try:
        path = os.fsencode(value)
    except TypeError:
        raise TypeError(f"{argument} must be a str, bytes or os.PathLike, not {type(value).__name__}") from None
    if b"\0" in path:
        raise InvalidArgumentError(1, f"{argument} {value!r} contains a NUL character")
    return path


def _text(value: Any, argument: str) -> bytes:
    """A str argument as the UTF-8 bytes C expects; TypeError or InvalidArgumentError naming `argument`."""
    if not isinstance(value, str):
        raise TypeError(f"{argument} must be a str, not {type(value).__name__}")
    if "\0" in value:
        raise InvalidArgumentError(1, f"{argument} {value!r} contains a NUL character")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidArgumentError(1, f"{argument} {value!r} cannot be encoded as UTF-8: {error.reason}") from None


def _integer(value: Any, argument: str) -> int:
    """An int argument (bool refused, ``__index__`` accepted); TypeError naming `argument`."""
    if value.__class__ is int:
        return value  # type: ignore[no-any-return]
    if isinstance(value, bool):
        raise TypeError(f"{argument} must be an int, not bool")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{argument} must be an int, not {type(value).__name__}") from None


def _int32(value: int) -> int:
    """`value` clamped into int32_t: the library then reports it out of range instead of ctypes truncating it."""
    return _INT32_MIN if value < _INT32_MIN else _INT32_MAX if value > _INT32_MAX else value


_BARE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:/@+-")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(value: str) -> str:
    """A logfmt value exactly as the library's ``Log.escape`` writes it."""
    data = value.encode("utf-8")
    if data and all(byte in _BARE for byte in data):
        return value
    out = ['"']
    for char in value:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif code < 0x20 or code == 0x7F or 0x80 <= code < 0xA0 or code in (0x2028, 0x2029):
            out.append("\\u%04x" % code)
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _allocation_line(
    service: str, instance: int, port_type: str, host: int, host_last: int, container: int, base: int, increment: int
) -> str:
    """The library's allocation line (``Log.allocationMessage``), for a remembered allocation."""
    fields = [
        ("service", service), ("instance", str(instance)), ("type", port_type),
        ("port", str(host)), ("base", str(base)), ("increment", str(increment)),
    ]
    if host_last != host:
        fields.append(("last", str(host_last)))
    if container != host:
        fields.append(("container", str(container)))
    if host != base + instance * increment:
        fields.append(("offset", str(host - base - instance * increment)))
    return "port_manager_port_allocated" + "".join(f" {key}={_escape(value)}" for key, value in fields)


class _Handle:
    """Owns one ``pm_registry *`` and frees it exactly once, never under a call in flight.

    ``pm_registry_close`` must not race with other calls on the handle, so each
    call holds the handle through :meth:`acquire`/:meth:`release`, and
    :meth:`close` defers the free to the last such call.
    """

    __slots__ = ("_pointer", "_users", "_closing", "_lock", "_on_free", "__weakref__")

    def __init__(self, pointer: int, on_free: Callable[[], None]) -> None:
        self._pointer: Optional[int] = pointer
        self._users = 0
        self._closing = False
        self._lock = threading.Lock()
        self._on_free = on_free

    @property
    def closed(self) -> bool:
        return self._closing

    def acquire(self) -> int:
        lock = self._lock
        lock.acquire()
        pointer = self._pointer
        if self._closing or pointer is None:
            lock.release()
            raise InvalidArgumentError(1, "this PortManager is closed")
        self._users += 1
        lock.release()
        return pointer

    def release(self) -> None:
        with self._lock:
            self._users -= 1
            if self._closing and self._users == 0:
                self._free()

    def close(self) -> None:
        with self._lock:
            if self._closing:
                return
            self._closing = True
            if self._users == 0:
                self._free()

    def _free(self) -> None:
        pointer, self._pointer = self._pointer, None
        if pointer is not None:
            self._on_free()
            _lib.lib.pm_registry_close(pointer)


# --------------------------------------------------------------- manager


class PortManager:
    """An opened port registry: the seed's ``PortManager``, computed by libportmanager.

    ``PortManager()`` resolves the registry the way the library does:
    ``$PORTMANAGER_REGISTRY``, then ``./dynamicconfig/port_registry.yaml``; and
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
        _lib.lib.pm_registry_open_env(path, name, byref(out))
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
        # (service, instance, port_type) -> the library's log line for that allocation.
        self._lines: Dict[Tuple[Any, Any, Any], str] = {}
        ports, memo, lines = self._ports, self._memo, self._lines

        def forget() -> None:
            ports.clear()
            memo.clear()
            lines.clear()

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
            return self._get_port(service, instance_id, port_type)
        # 1.0 == 1 and True == 1 as dict keys; only a real int may take the fast path.
        if instance_id.__class__ is not int:
            return self._get_port(service, instance_id, port_type)
        if _info_enabled(_INFO):
            self._log_allocation(service, instance_id, port_type)
        return port

    def _get_port(self, service: Any, instance_id: Any, port_type: Any) -> int:
        """The C round trip behind :meth:`get_port`: validates, calls (the library logs), remembers."""
        name = _text(service, "service")
        port_name = _text(port_type, "port_type")
        instance = _integer(instance_id, "instance_id")
        out = c_uint16()
        if _INT32_MIN <= instance <= _INT32_MAX and not _info_enabled(_INFO):
            # _allocating() inlined for the common case: a miss with logging off.
            handle = self._handle.acquire()
            try:
                _pm_get_port(handle, name, instance, port_name, byref(out))
            finally:
                self._handle.release()
        else:
            self._allocating(_lib.lib.pm_get_port, name, instance, port_name, byref(out))
        port = out.value
        self._ports[(service, instance_id, port_type)] = port
        return port

    def _log_allocation(self, service: str, instance: int, port_type: str) -> None:
        """Logs a remembered allocation with the line the library logged for it.

        The line is built once per (service, instance, port) by
        :func:`_allocation_line`, which a test holds equal to the library's
        text for every allocation; later calls only hand it to ``logging``.
        """
        if not _log.bridge_installed():
            # The library's own sink: let the library log it.
            first, last = c_uint16(), c_uint16()
            self._call(_lib.lib.pm_get_port_range, _text(service, "service"), instance,
                       _text(port_type, "port_type"), byref(first), byref(last))
            return
        key = (service, instance, port_type)
        line = self._lines.get(key)
        if line is None:
            line = self._lines[key] = self._allocation_line(service, instance, port_type)
        _log.logger.info(line, extra=_log.allocation_extra(line))

    def _allocation_line(self, service: str, instance: int, port_type: str) -> str:
        info = self.service_info(service)
        definition = self.port_definition(service, port_type)
        offset = self.environment.offset
        host = definition.base + instance * info.increment + offset
        container = host if definition.container_port is None else definition.container_port
        return _allocation_line(
            info.name, instance, definition.name, host, host + definition.width - 1, container,
            definition.base, info.increment,
        )

    def _allocating(self, function: Callable[..., Any], service: bytes, instance: int, *rest: Any) -> None:
        """Calls an instance-taking function; reports an instance beyond int32 with its real value."""
        if _info_enabled(_INFO):
            _log.ensure_info_threshold()
        clamped = _int32(instance)
        try:
            self._call(function, service, clamped, *rest)
        except InstanceOutOfRangeError as error:
            if clamped == instance:
                raise
            message = error.message.replace(f"instance {clamped} ", f"instance {instance} ", 1)
            raise InstanceOutOfRangeError(error.status, message) from None

    def get_port_range(self, service: str, instance_id: int = 0, port_type: str = "port") -> Tuple[int, int]:
        """The first and last host port of ``port_type`` (equal for a single port). Logged like :meth:`get_port`."""
        name = _text(service, "service")
        port_name = _text(port_type, "port_type")
        instance = _integer(instance_id, "instance_id")
        key = ("range", name, instance, port_name)
        result = self._memo.get(key)
        if result is None:
            first, last = c_uint16(), c_uint16()
            self._allocating(_lib.lib.pm_get_port_range, name, instance, port_name, byref(first), byref(last))
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
        """The port inside the container: the registry's fixed one, else the host port. Not logged."""
        name = _text(service, "service")
        port_name = _text(port_type, "port_type")
        instance = _integer(instance_id, "instance_id")
        key = ("container_port", name, instance, port_name)
        port = self._memo.get(key)
        if port is None:
            out = c_uint16()
            self._allocating(_lib.lib.pm_get_container_port, name, instance, port_name, byref(out))
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

    # --------------------------------------------------------- registry

    def list_services(self) -> List[str]:
        """Every service name, in file order."""
        names = self._memo.get(("services",))
        if names is None:

            def read(handle: int) -> Tuple[str, ...]:
                count = c_size_t()
                _lib.lib.pm_service_count(handle, byref(count))
                return tuple(_lib.read_string(_lib.lib.pm_service_name, handle, i) for i in range(count.value))

            names = self._memo[("services",)] = self._call(read)
        return list(names)

    def service_info(self, service: str) -> ServiceInfo:
        """A service's increment, max_instances and port names. Raises UnknownServiceError."""
        name = _text(service, "service")
        key = ("info", name)
        info = self._memo.get(key)
        if info is None:

            def read(handle: int) -> ServiceInfo:
                increment, max_instances, count = c_int32(), c_int32(), c_size_t()
                _lib.lib.pm_service_info(handle, name, byref(increment), byref(max_instances), byref(count))
                ports = tuple(_lib.read_string(_lib.lib.pm_port_name, handle, name, i) for i in range(count.value))
                return ServiceInfo(service, increment.value, max_instances.value, ports)

            info = self._memo[key] = self._call(read)
        return info

    def port_definition(self, service: str, port_type: str = "port") -> PortDefinition:
        """A port's instance-0 definition: base, count (range width) and fixed container port."""
        name = _text(service, "service")
        port_name = _text(port_type, "port_type")
        key = ("definition", name, port_name)
        definition = self._memo.get(key)
        if definition is None:
            base, count, container = c_uint16(), c_uint16(), c_uint16()
            self._call(_lib.lib.pm_port_definition, name, port_name, byref(base), byref(count), byref(container))
            definition = self._memo[key] = PortDefinition(
                service, port_type, base.value, count.value, container.value or None
            )
        return definition

    @property
    def source(self) -> str:
        """Where the registry came from: its file path, or the ``source`` given to :meth:`from_yaml`."""
        source = self._memo.get(("source",))
        if source is None:
            source = self._memo[("source",)] = self._call(
                lambda handle: _lib.read_string(_lib.lib.pm_registry_source, handle)
            )
        return source

    @property
    def environment(self) -> Environment:
        """The environment in force: its name (``None`` for none) and offset."""
        environment = self._memo.get(("environment",))
        if environment is None:
            name, offset = self._call(_lib.registry_environment)
            environment = self._memo[("environment",)] = Environment(name or None, offset)
        return environment

    def allocations(self) -> Iterator[Allocation]:
        """Every port of every instance of every service, in file order: the data behind a summary.

        Enumerating is not allocating, so nothing is logged. Computed from the
        definitions by the header's formula, ``base + instance * increment + offset``.
        """
        offset = self.environment.offset
        for service in self.list_services():
            info = self.service_info(service)
            definitions = [self.port_definition(service, port) for port in info.ports]
            for instance in range(info.max_instances):
                for d in definitions:
                    host = d.base + instance * info.increment + offset
                    container = host if d.container_port is None else d.container_port
                    yield Allocation(
                        service, instance, d.name, host, host + d.width - 1,
                        container, container + d.width - 1, d.base, info.increment,
                    )

    # --------------------------------------------------------- analysis

    def analyze(
        self,
        ephemeral_range: Union[Tuple[int, int], str, None] = "kernel",
        reserved_ports: Optional[str] = None,
    ) -> Analysis:
        """Proves the whole registry conflict-free, or says where it is not (``pm_analyze``).

        Every host port of every instance of every service, with no environment
        and with each of the registry's environments, is checked for collisions,
        out-of-range offsets, privileged ports and ports in the ephemeral range.

        Args:
            ephemeral_range: ``"kernel"`` to read /proc/sys/net/ipv4/ip_local_port_range,
                ``None`` for no ephemeral check, or ``(low, high)`` with 1 <= low <= high <= 65535.
            reserved_ports: ports exempt from the ephemeral check, as in
                /proc/sys/net/ipv4/ip_local_reserved_ports (``"8080,9000-9100"``);
                ``None`` reads that file when the range comes from the kernel.

        Raises:
            InvalidArgumentError: a bad range or reserved list.
            RegistryIOError: a /proc file cannot be read or parsed.
            TooLargeError: the lattice has more points than the analysis limit
                (docs/analysis.md); nothing is allocated for it.
        """
        if ephemeral_range == "kernel":
            low, high = 0, 0
        elif ephemeral_range is None:
            low, high = -1, -1
        elif isinstance(ephemeral_range, tuple) and len(ephemeral_range) == 2:
            low = _int32(_integer(ephemeral_range[0], "ephemeral_range[0]"))
            high = _int32(_integer(ephemeral_range[1], "ephemeral_range[1]"))
        else:
            raise TypeError(f"ephemeral_range must be 'kernel', None or a (low, high) tuple, not {ephemeral_range!r}")
        reserved = None if reserved_ports is None else _text(reserved_ports, "reserved_ports")

        def run(handle: int) -> Analysis:
            out = c_void_p()
            _lib.lib.pm_analyze(handle, low, high, reserved, byref(out))
            try:
                return _read_analysis(out.value)
            finally:
                _lib.lib.pm_analysis_free(out.value)

        return self._call(run)

    # ----------------------------------------------------- reservations

    def reserve(
        self,
        service: str,
        instance_id: Optional[int] = None,
        owner: Union[str, "_ContainerName", None] = None,
        ttl: Optional[int] = None,
        *,
        probe: bool = True,
        state_dir: Optional[PathArg] = None,
    ) -> "Reservation":
        """Reserves every host port of one instance of a service in the store (``pm_reserve``).

        Args:
            service: the service.
            instance_id: the instance, or ``None`` for the lowest one that is neither
                reserved nor (with ``probe``) in use now. ``-1`` is an error.
            owner: ``None`` for this process (the reservation ends when it exits), a
                name (a container name, a workflow ID) that keeps it until released or
                expired, or :data:`CONTAINER_NAME` for the container name of the instance
                reserved. The same owner reserving the same instance again succeeds.
            ttl: seconds (1 or more) until the reservation expires unless renewed; ``None`` for never.
            probe: skip (or refuse) instances whose ports are in use now (``False`` sets
                ``PM_RESERVE_NO_PROBE``).
            state_dir: the store's directory; ``None`` for ``$PORTMANAGER_STATE_DIR``, else
                the per-user default (see the README).

        Returns:
            a :class:`Reservation`; a ``with`` block releases it on exit.

        Raises:
            ReservedError: the instance (or every instance) is taken; the message names the owner.
            StateError: the store is refused (the message names the file).
            UnknownServiceError, InstanceOutOfRangeError, InvalidArgumentError.
        """
        name = _text(service, "service")
        instance = self._reservation_instance(instance_id, any_allowed=True)
        owner_bytes, flags = _owner(owner)
        seconds = 0 if ttl is None else _ttl(ttl)
        if not probe:
            flags |= RESERVE_NO_PROBE
        folder = None if state_dir is None else _path(state_dir, "state_dir")
        out = c_int32(-1)
        self._in_store(_lib.lib.pm_reserve, folder, name, instance, owner_bytes, seconds, flags, byref(out))
        return Reservation(self, service, out.value, owner, state_dir)

    def release(
        self,
        service: str,
        instance_id: int,
        owner: Union[str, "_ContainerName", None] = None,
        *,
        force: bool = False,
        state_dir: Optional[PathArg] = None,
    ) -> bool:
        """Releases the reservation of one instance (``pm_release``): its ports are free at once.

        Only its owner (as for :meth:`reserve`) may release it, unless ``force``.

        Returns:
            ``True`` when a reservation was released, ``False`` when the instance was free.

        Raises:
            NotOwnerError: someone else owns it (the message names the owner).
            StateError, UnknownServiceError, InstanceOutOfRangeError, InvalidArgumentError.
        """
        name = _text(service, "service")
        instance = self._reservation_instance(instance_id, any_allowed=False)
        owner_bytes, flags = _owner(owner)
        if force:
            flags |= RESERVE_FORCE
        folder = None if state_dir is None else _path(state_dir, "state_dir")
        released = c_int32(0)
        self._in_store(_lib.lib.pm_release, folder, name, instance, owner_bytes, flags, byref(released))
        return released.value == 1

    def renew(
        self,
        service: str,
        instance_id: int,
        ttl: int,
        owner: Union[str, "_ContainerName", None] = None,
        *,
        state_dir: Optional[PathArg] = None,
    ) -> None:
        """Renews a reservation (``pm_renew``): it now expires ``ttl`` seconds (1 or more) from now.

        Raises:
            NotOwnerError: the instance is not reserved, or someone else owns it.
            StateError, UnknownServiceError, InstanceOutOfRangeError, InvalidArgumentError.
        """
        name = _text(service, "service")
        instance = self._reservation_instance(instance_id, any_allowed=False)
        owner_bytes, flags = _owner(owner)
        seconds = _ttl(ttl)
        folder = None if state_dir is None else _path(state_dir, "state_dir")
        self._in_store(_lib.lib.pm_renew, folder, name, instance, owner_bytes, seconds, flags)

    def reservations(
        self, service: Optional[str] = None, *, state_dir: Optional[PathArg] = None
    ) -> List["ReservationInfo"]:
        """Every reservation in the store, or those of one service (``pm_reservations_json``).

        Expired reservations and those of ended processes are removed first.
        """
        name = None if service is None else _text(service, "service")
        folder = None if state_dir is None else _path(state_dir, "state_dir")
        needed = c_size_t(0)
        capacity = 4096
        while True:  # the store may grow between two calls
            buffer = create_string_buffer(capacity)
            try:
                self._call(_lib.lib.pm_reservations_json, folder, name, buffer, capacity, byref(needed))
                break
            except BufferTooSmallError:
                capacity = max(needed.value, capacity * 2)
        import json  # only here: not every import of portmanager needs it

        return [ReservationInfo.from_json(item) for item in json.loads(buffer.value.decode("utf-8"))]

    def _in_store(
        self, function: Callable[..., Any], folder: Optional[bytes], service: bytes, instance: int, *rest: Any
    ) -> None:
        """``function(handle, state_dir, service, instance, *rest)``, an instance beyond int32 reported as is."""
        def call(handle: int, name: bytes, clamped: int, *more: Any) -> Any:
            return function(handle, folder, name, clamped, *more)

        if instance == -1:
            self._call(call, service, -1, *rest)
        else:
            self._allocating(call, service, instance, *rest)

    def _reservation_instance(self, instance_id: Any, any_allowed: bool) -> int:
        if instance_id is None:
            if any_allowed:
                return -1
            raise TypeError("instance_id must be an int, not None")
        instance = _integer(instance_id, "instance_id")
        if instance < 0:
            hint = "; give None for any instance" if instance == -1 and any_allowed else ""
            raise InstanceOutOfRangeError(8, f"instance_id {instance} is negative{hint}")
        return instance

    # ------------------------------------------------------------ probe

    def is_port_available(self, port: int, host: str = "127.0.0.1") -> bool:
        """Whether a TCP port can be bound on ``host`` right now; see :func:`is_port_available`."""
        return is_port_available(port, host)

    def probe(self, port: int, protocol: str = "tcp", host: Optional[str] = None) -> "ProbeResult":
        """Whether ``port`` is free the way Docker would publish it, and who holds it; see :func:`portmanager.probe`."""
        return _probe.probe(port, protocol, host)


#: ``pm_reserve_flags`` of the header.
RESERVE_NO_PROBE = 1
RESERVE_FORCE = 2
RESERVE_CONTAINER_OWNER = 4


class _ContainerName:
    """The type of :data:`CONTAINER_NAME`."""

    def __repr__(self) -> str:
        return "portmanager.CONTAINER_NAME"


#: As an owner: the container name of the instance reserved (``kafka-development-1``).
CONTAINER_NAME = _ContainerName()


def _owner(owner: Any) -> Tuple[Optional[bytes], int]:
    """An owner argument as (owner for C, flags)."""
    if owner is None:
        return None, 0
    if owner is CONTAINER_NAME:
        return None, RESERVE_CONTAINER_OWNER
    return _text(owner, "owner"), 0


def _ttl(ttl: Any) -> int:
    seconds = _integer(ttl, "ttl")
    if seconds < 1:
        raise InvalidArgumentError(1, f"ttl {seconds} must be 1 or more seconds (None for no expiry)")
    return seconds


class ReservationInfo(
    namedtuple(
        "ReservationInfo",
        "service environment instance owner owner_kind pid command since expires ports host_ports",
    )
):
    """One reservation as the store holds it (:meth:`PortManager.reservations`).

    Fields:

    - ``service`` (str)
    - ``environment`` (str)
    - ``instance`` (int)
    - ``owner`` (str): The owner's name, or ``"process PID"``.
    - ``owner_kind`` (str): ``"name"`` or ``"process"``.
    - ``pid`` (Optional[int])
    - ``command`` (Optional[str])
    - ``since`` (int): Seconds since the epoch.
    - ``expires`` (Optional[int]): Seconds since the epoch, or ``None`` for never.
    - ``ports`` (Dict[str, int]): port name -> first host port.
    - ``host_ports`` (Tuple[int, ...]): every host port, ascending.
    """

    __slots__ = ()

    @classmethod
    def from_json(cls, item: Dict[str, Any]) -> "ReservationInfo":
        return cls(
            item["service"], item["environment"], item["instance"], item["owner"], item["owner_kind"],
            item["pid"], item["command"], item["since"], item["expires"], dict(item["ports"]),
            tuple(item["host_ports"]),
        )


class Reservation:
    """A reservation made by :meth:`PortManager.reserve`.

    It lives in the store, not in this object: it outlives the object (and, for a
    named owner, this process) until released, expired, or (for a process owner)
    until the process ends. A ``with`` block releases it on exit.
    """

    def __init__(
        self, manager: PortManager, service: str, instance: int, owner: Any, state_dir: Optional[PathArg]
    ) -> None:
        self._manager = manager
        self._state_dir = state_dir
        #: The service reserved.
        self.service: str = service
        #: The instance reserved.
        self.instance: int = instance
        #: The container name of the instance.
        self.container_name: str = manager.container_name(service, instance)
        #: The owner: ``None`` for this process, else the name.
        self.owner: Optional[str] = self.container_name if owner is CONTAINER_NAME else owner
        #: port name -> host port (the first port of a range).
        self.ports: Dict[str, int] = manager.get_ports(service, instance)
        self._released = False

    @property
    def released(self) -> bool:
        """True once :meth:`release` ran (a release by someone else is not seen here)."""
        return self._released

    def release(self, force: bool = False) -> bool:
        """Releases the reservation; ``True`` if it was still held. Releasing again returns ``False``."""
        released = self._manager.release(
            self.service, self.instance, self.owner, force=force, state_dir=self._state_dir
        )
        self._released = True
        return released

    def renew(self, ttl: int) -> None:
        """It now expires ``ttl`` seconds from now."""
        self._manager.renew(self.service, self.instance, ttl, self.owner, state_dir=self._state_dir)

    def __enter__(self) -> "Reservation":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if not self._released:
            self.release()

    def __repr__(self) -> str:
        owner = "this process" if self.owner is None else repr(self.owner)
        state = "released" if self._released else "reserved"
        return f"<Reservation {self.service} instance={self.instance} owner={owner} ports={self.ports} {state}>"


def _read_analysis(analysis: Optional[int]) -> Analysis:
    """Reads everything out of a ``pm_analysis *`` (which the caller frees)."""
    count, errors, warnings = c_size_t(), c_size_t(), c_size_t()
    _lib.lib.pm_analysis_count(analysis, byref(count), byref(errors), byref(warnings))
    findings = []
    for index in range(count.value):
        severity = c_int32()
        text = _lib.read_string(_lib.lib.pm_analysis_finding, analysis, index, byref(severity))
        findings.append(Finding(SEVERITIES.get(severity.value, str(severity.value)), text))
    report = _lib.read_string(_lib.lib.pm_analysis_json, analysis)
    return Analysis(count.value, errors.value, warnings.value, tuple(findings), report)


def is_port_available(port: int, host: Optional[str] = "127.0.0.1") -> bool:
    """Whether a TCP port can be bound on ``host`` right now (``pm_port_probe``).

    Args:
        port: 1..65535.
        host: a numeric IPv4/IPv6 address or a host name; ``None`` means 127.0.0.1.

    Returns:
        True when ``bind()`` succeeds, False when the port is in use. A snapshot:
        another process may take the port a moment later.

    Raises:
        ProbeFailedError: the answer cannot be known (permission, a missing
            address family, an address not on this host, a name that does not resolve).
        InvalidArgumentError: ``port`` outside 1..65535 or an empty host.
    """
    number = _integer(port, "port")
    if not _INT32_MIN <= number <= _INT32_MAX:
        raise InvalidArgumentError(1, f"port {number} is outside 1..65535")
    name = None if host is None else _text(host, "host")
    available = c_int()
    _lib.lib.pm_port_probe(name, number, byref(available))
    return bool(available.value)


_default: Optional[PortManager] = None
_default_lock = threading.Lock()


def get_port_manager() -> PortManager:
    """The process-wide manager, as in the seed: opened on first use, shared by every thread.

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
