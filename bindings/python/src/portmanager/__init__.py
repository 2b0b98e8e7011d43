"""portmanager: conflict-free host ports for side-by-side service instances.

The original spec's Python API over libportmanager (the Swift library's C ABI, loaded
through ctypes). Code written for the original spec moves over by changing one import::

    from portmanager import get_port_manager

    pm = get_port_manager()
    pm.get_port("kafka", 1, "broker_port")   # 9192
    pm.container_name("kafka", 1)            # "kafka-development-1"

Every allocation is logged on the ``portmanager`` logger at INFO, in the original spec's
``port_manager_port_allocated service=... instance=...`` form.
"""

from __future__ import annotations

from . import _lib
from ._log import (
    LOG_DEBUG,
    LOG_ERROR,
    LOG_INFO,
    LOG_OFF,
    LOG_WARNING,
    LOGGER_NAME,
    install_log_bridge,
    log_level,
    set_log_level,
    sync_log_level,
    uninstall_log_bridge,
)
from ._version import __version__
from .errors import (
    STATUS_NAMES,
    BufferTooSmallError,
    InstanceOutOfRangeError,
    InvalidArgumentError,
    InvalidRegistryError,
    LibraryLoadError,
    PortManagerError,
    ProbeFailedError,
    RegistryIOError,
    RegistryNotFoundError,
    RegistryParseError,
    TooLargeError,
    NotOwnerError,
    ReservedError,
    StateError,
    DockerError,
    UnknownEnvironmentError,
    UnknownPortError,
    UnknownServiceError,
)
from .manager import (
    SEVERITIES,
    Allocation,
    Analysis,
    Finding,
    Instance,
    CONTAINER_NAME,
    Container,
    Environment,
    PortDefinition,
    PortManager,
    ServiceInfo,
    ReservationInfo,
    Reservation,
    InstanceState,
    InstanceStates,
    ReconcileAction,
    get_port_manager,
    is_port_available,
)
from ._probe import PROTOCOLS, Holder, ProbeResult, probe

__all__ = [
    "__version__",
    "PortManager",
    "get_port_manager",
    "is_port_available",
    "probe",
    "ProbeResult",
    "Holder",
    "PROTOCOLS",
    "Allocation",
    "Instance",
    "ServiceInfo",
    "PortDefinition",
    "Environment",
    "Analysis",
    "Finding",
    "Reservation",
    "ReservationInfo",
    "InstanceState",
    "InstanceStates",
    "ReconcileAction",
    "Container",
    "CONTAINER_NAME",
    "SEVERITIES",
    "library_version",
    "library_version_number",
    "abi_version",
    "library_path",
    "status_name",
    "LOGGER_NAME",
    "install_log_bridge",
    "uninstall_log_bridge",
    "sync_log_level",
    "set_log_level",
    "log_level",
    "LOG_DEBUG",
    "LOG_INFO",
    "LOG_WARNING",
    "LOG_ERROR",
    "LOG_OFF",
    "STATUS_NAMES",
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
]


def library_version() -> str:
    """The loaded library's version string (``pm_version_string``), such as ``"0.1.0"``."""
    return _lib.lib.pm_version_string().decode("ascii")  # type: ignore[no-any-return]


def library_version_number() -> int:
    """The loaded library's ``MAJOR * 10000 + MINOR * 100 + PATCH`` (``pm_version_number``)."""
    return int(_lib.lib.pm_version_number())


def abi_version() -> int:
    """The loaded library's ABI version (``pm_abi_version``); checked against 1 on import."""
    return int(_lib.lib.pm_abi_version())


def library_path() -> str:
    """The path libportmanager was loaded from."""
    return str(_lib.library_path)


def status_name(status: int) -> str:
    """The library's name for a status (``pm_status_str``), such as ``"PM_ERR_UNKNOWN_PORT"``."""
    return _lib.status_name(status)
