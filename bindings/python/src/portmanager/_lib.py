"""Finding, loading and declaring libportmanager: the one module that touches ctypes loading.

The library is looked for, in order:

1. ``$PORTMANAGER_LIB`` when set and not empty. It is then the only path
   tried: a library the caller named explicitly is never silently replaced
   by another copy.
2. ``libportmanager.so.1`` inside this package (``pip install`` ships it there).
3. ``build/lib/libportmanager.so`` of the repository checkout this file lives
   in (``make lib`` builds it), so the package imports straight from a checkout.

When none loads, :class:`~portmanager.errors.LibraryLoadError` names every
path tried and why it failed. The library found must report
``pm_abi_version() == ABI_VERSION``.

Every function of include/portmanager.h is declared once, in :data:`SIGNATURES`,
with its ``argtypes`` and ``restype``; every function that returns a
``pm_status`` shares one ``errcheck`` that raises the matching
:class:`~portmanager.errors.PortManagerError` subclass holding the calling
thread's failure (``pm_last_error_capture``), whose message is read when the
exception's is.
"""

from __future__ import annotations

import ctypes
import os
from ctypes import (
    CFUNCTYPE,
    POINTER,
    byref,
    c_char,
    c_char_p,
    c_int,
    c_int32,
    c_int64,
    c_size_t,
    c_uint16,
    c_uint32,
    c_void_p,
    create_string_buffer,
)

# typing and pathlib are not imported at run time: `import portmanager` stays
# cheaper than `import yaml` (benchmarks/python/bench_import.py).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from . import _header
from . import errors as _errors
from .errors import BufferTooSmallError, LibraryLoadError, error_for_capture, error_for_status

__all__ = [
    "ABI_VERSION",
    "ENV_VAR",
    "SONAME",
    "SIGNATURES",
    "STATUS_FUNCTIONS",
    "MISSING",
    "candidate_paths",
    "load_library",
    "lib",
    "library_path",
    "last_error",
    "read_string",
    "pm_log_fn",
]

#: The ABI this binding is written for: ``PM_ABI_VERSION`` of include/portmanager.h.
ABI_VERSION = _header.PM_ABI_VERSION
#: The environment variable that names the library to load.
ENV_VAR = "PORTMANAGER_LIB"
#: The file name of the copy shipped inside the package.
SONAME = "libportmanager.so.1"

_PACKAGE_DIR = os.path.dirname(os.path.realpath(__file__))
# bindings/python/src/portmanager/_lib.py -> the repository root.
_CHECKOUT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(_PACKAGE_DIR))))

# ------------------------------------------------------------------ types

#: ``pm_status`` is a C enum: an ``int``.
pm_status = c_int32


class _StatusMarker:
    """Marks a ``pm_status`` return in :data:`SIGNATURES`: declared as ``c_int32`` with the shared errcheck."""

    def __repr__(self) -> str:
        return "STATUS"


#: The restype of every ``pm_status`` function in :data:`SIGNATURES`.
STATUS: Any = _StatusMarker()
#: ``pm_registry *`` is opaque.
pm_registry_p = c_void_p
pm_error_p = c_void_p
#: ``pm_analysis *`` is opaque.
pm_analysis_p = c_void_p
#: ``pm_probe_result *`` is opaque.
pm_probe_result_p = c_void_p
#: ``typedef void (*pm_log_fn)(int32_t level, const char *message, void *context);``
pm_log_fn = CFUNCTYPE(None, c_int32, c_char_p, c_void_p)

#: The ``pm_log_fn`` object the library may call now (set by ``_log``; kept here
#: so that a reload of ``_log`` cannot free it while it is installed).
log_callback_in_force: Any = None

#: Who ``_log`` tells when the log bridge changes (installed, uninstalled,
#: ``logging`` imported): functions given the new ``info_enabled_check()``,
#: registered with ``_log.on_bridge_change`` (the manager's fast path). Kept
#: here, where a reload of ``_log`` does not reset it.
bridge_listeners: List[Callable[[Callable[[int], bool]], None]] = []

_CHARS = POINTER(c_char)
_SIZE = POINTER(c_size_t)
_U16 = POINTER(c_uint16)
_I32 = POINTER(c_int32)

#: Every function of include/portmanager.h: name -> (restype, argtypes).
#: A test parses the header and checks this table against it.
SIGNATURES: Dict[str, Tuple[Any, Tuple[Any, ...]]] = {
    # versions
    "pm_version_number": (c_uint32, ()),
    "pm_version_string": (c_char_p, ()),
    "pm_abi_version": (c_uint32, ()),
    # status
    "pm_status_str": (c_char_p, (pm_status,)),
    "pm_last_error": (c_char_p, ()),
    "pm_last_error_capture": (pm_error_p, ()),
    "pm_error_message": (c_char_p, (pm_error_p,)),
    "pm_error_free": (None, (pm_error_p,)),
    # registry
    "pm_registry_open": (STATUS, (c_char_p, POINTER(pm_registry_p))),
    "pm_registry_open_env": (STATUS, (c_char_p, c_char_p, POINTER(pm_registry_p))),
    "pm_registry_open_string": (STATUS, (c_char_p, c_size_t, c_char_p, POINTER(pm_registry_p))),
    "pm_registry_close": (None, (pm_registry_p,)),
    "pm_registry_source": (STATUS, (pm_registry_p, _CHARS, c_size_t, _SIZE)),
    "pm_registry_environment": (STATUS, (pm_registry_p, _CHARS, c_size_t, _SIZE, _I32)),
    # services
    "pm_service_count": (STATUS, (pm_registry_p, _SIZE)),
    "pm_service_name": (STATUS, (pm_registry_p, c_size_t, _CHARS, c_size_t, _SIZE)),
    "pm_service_info": (STATUS, (pm_registry_p, c_char_p, _I32, _I32, _SIZE)),
    "pm_port_name": (STATUS, (pm_registry_p, c_char_p, c_size_t, _CHARS, c_size_t, _SIZE)),
    "pm_port_definition": (STATUS, (pm_registry_p, c_char_p, c_char_p, _U16, _U16, _U16)),
    # allocation
    "pm_get_port": (STATUS, (pm_registry_p, c_char_p, c_int32, c_char_p, _U16)),
    "pm_get_port_range": (STATUS, (pm_registry_p, c_char_p, c_int32, c_char_p, _U16, _U16)),
    "pm_get_container_port": (STATUS, (pm_registry_p, c_char_p, c_int32, c_char_p, _U16)),
    "pm_get_ports": (STATUS, (pm_registry_p, c_char_p, c_int32, _U16, c_size_t, _SIZE)),
    # names
    "pm_container_name": (STATUS, (pm_registry_p, c_char_p, c_int32, _CHARS, c_size_t, _SIZE)),
    "pm_volume_name": (STATUS, (pm_registry_p, c_char_p, c_int32, _CHARS, c_size_t, _SIZE)),
    # instances
    "pm_instance_docker_json": (STATUS, (pm_registry_p, c_char_p, c_int32, _CHARS, c_size_t, _SIZE)),
    "pm_instance_env": (STATUS, (pm_registry_p, c_char_p, c_int32, c_char_p, _CHARS, c_size_t, _SIZE)),
    # probe
    "pm_port_probe": (STATUS, (c_char_p, c_int32, POINTER(c_int))),
    "pm_probe": (STATUS, (c_int32, c_int32, c_char_p, POINTER(pm_probe_result_p))),
    "pm_probe_result_free": (None, (pm_probe_result_p,)),
    "pm_probe_result_verdict": (STATUS, (pm_probe_result_p, _I32, _SIZE)),
    "pm_probe_result_holder": (STATUS, (pm_probe_result_p, c_size_t, _I32, _I32, _CHARS, c_size_t, _SIZE)),
    "pm_probe_result_command": (STATUS, (pm_probe_result_p, c_size_t, _CHARS, c_size_t, _SIZE)),
    "pm_probe_result_json": (STATUS, (pm_probe_result_p, _CHARS, c_size_t, _SIZE)),
    # logging
    "pm_set_log_callback": (STATUS, (pm_log_fn, c_void_p)),
    "pm_set_log_level": (STATUS, (c_int32,)),
    "pm_get_log_level": (c_int32, ()),
    "pm_allocation_line": (STATUS, (pm_registry_p, c_char_p, c_int64, c_char_p, _CHARS, c_size_t, _SIZE)),
    # analysis
    "pm_analyze": (STATUS, (pm_registry_p, c_int32, c_int32, c_char_p, POINTER(pm_analysis_p))),
    "pm_analysis_free": (None, (pm_analysis_p,)),
    "pm_analysis_count": (STATUS, (pm_analysis_p, _SIZE, _SIZE, _SIZE)),
    "pm_analysis_finding": (STATUS, (pm_analysis_p, c_size_t, _I32, _CHARS, c_size_t, _SIZE)),
    "pm_analysis_json": (STATUS, (pm_analysis_p, _CHARS, c_size_t, _SIZE)),
    # reservations
    "pm_reserve": (STATUS, (pm_registry_p, c_char_p, c_char_p, c_int32, c_char_p, c_int64, c_int32, _I32)),
    "pm_reserve_instance": (STATUS, (pm_registry_p, c_char_p, c_char_p, c_int32, c_char_p, c_int64, c_int32, _I32, _I32)),
    "pm_release": (STATUS, (pm_registry_p, c_char_p, c_char_p, c_int32, c_char_p, c_int32, _I32)),
    "pm_renew": (STATUS, (pm_registry_p, c_char_p, c_char_p, c_int32, c_char_p, c_int64, c_int32)),
    "pm_reservation_bind_container": (STATUS, (pm_registry_p, c_char_p, c_char_p, c_int32, c_char_p, c_char_p, c_int32)),
    "pm_reservations_json": (STATUS, (pm_registry_p, c_char_p, c_char_p, _CHARS, c_size_t, _SIZE)),
    "pm_reconcile": (STATUS, (pm_registry_p, c_char_p, c_int32, _CHARS, c_size_t, _SIZE)),
    "pm_instance_states_json": (STATUS, (pm_registry_p, c_char_p, c_char_p, c_int32, _CHARS, c_size_t, _SIZE)),
}

#: The functions whose return value is a ``pm_status`` checked by the shared errcheck.
STATUS_FUNCTIONS = frozenset(name for name, (restype, _) in SIGNATURES.items() if restype is STATUS)


# ---------------------------------------------------------------- loading


def candidate_paths(
    environ: Mapping[str, str] = os.environ,
    package_dir: str = _PACKAGE_DIR,
    checkout_root: str = _CHECKOUT_ROOT,
) -> List[Tuple[str, str]]:
    """The places to look for the library, in order, each with a label for messages.

    ``$PORTMANAGER_LIB``, when set and not empty, is the only candidate.
    """
    override = environ.get(ENV_VAR, "")
    if override:
        return [(f"${ENV_VAR}", override)]
    return [
        ("shipped in the package", os.path.join(package_dir, SONAME)),
        ("checkout build folder", os.path.join(checkout_root, "build", "lib", "libportmanager.so")),
    ]


def load_library(candidates: Sequence[Tuple[str, str]]) -> Tuple[ctypes.CDLL, str]:
    """Loads the first candidate that exists, loads, and has the expected ABI.

    Raises :class:`LibraryLoadError` naming every path tried and why each failed.
    """
    tried: List[str] = []
    for label, path in candidates:
        path = os.fspath(path)
        if not os.path.exists(path):
            tried.append(f"{path} ({label}): no such file")
            continue
        try:
            library = ctypes.CDLL(path)
        except OSError as error:
            tried.append(f"{path} ({label}): cannot load: {error}")
            continue
        try:
            abi_function = library.pm_abi_version
        except AttributeError:
            tried.append(f"{path} ({label}): not libportmanager (no pm_abi_version)")
            continue
        abi_function.restype = c_uint32
        abi_function.argtypes = ()
        abi = abi_function()
        if abi != ABI_VERSION:
            tried.append(f"{path} ({label}): ABI version {abi}, but this package needs {ABI_VERSION}")
            continue
        return library, path
    raise LibraryLoadError(
        "cannot load libportmanager; tried:\n  "
        + "\n  ".join(tried)
        + f"\nBuild it with `make lib` in the repository, install the package with "
        f"`pip install ./bindings/python`, or set ${ENV_VAR} to the library's path."
    )


def _last_error_raw(library: ctypes.CDLL) -> Callable[[], bytes]:
    function = library.pm_last_error
    function.restype = c_char_p
    function.argtypes = ()
    return function


#: Header functions the loaded library does not export (empty unless it is stale).
MISSING: List[str] = []


def _missing(name: str, path: str) -> Callable[..., Any]:
    def missing(*arguments: Any) -> Any:
        raise LibraryLoadError(f"{path} has no {name}; the library is older than this binding (rebuild it with `make lib`)")

    return missing


def _declare(library: ctypes.CDLL, path: str) -> None:
    """Sets argtypes, restype and (for status functions) the shared errcheck on every function."""
    try:
        capture = library.pm_last_error_capture
        capture.restype = pm_error_p
        capture.argtypes = ()
        message = library.pm_error_message
        message.restype = c_char_p
        message.argtypes = (pm_error_p,)
        release = library.pm_error_free
        release.restype = None
        release.argtypes = (pm_error_p,)
    except AttributeError:  # an older library: the message is read at once
        last_error = _last_error_raw(library)

        def check_status(result: int, function: Any, arguments: Tuple[Any, ...]) -> int:
            if result:
                raise error_for_status(result, last_error().decode("utf-8", "replace"))
            return result
    else:
        _errors._captured_message = lambda captured: message(captured).decode("utf-8", "replace")
        _errors._captured_free = release

        def check_status(result: int, function: Any, arguments: Tuple[Any, ...]) -> int:
            # Runs on the calling thread right after the call, so the capture is
            # this failure; its message is formed only if the exception's is read.
            if result:
                raise error_for_capture(result, capture())
            return result

    for name, (restype, argtypes) in SIGNATURES.items():
        try:
            function = getattr(library, name)
        except AttributeError:
            # Import still works; the function raises when called, and a test fails.
            MISSING.append(name)
            setattr(library, name, _missing(name, path))
            continue
        function.argtypes = argtypes
        if restype is STATUS:
            function.restype = pm_status
            function.errcheck = check_status
        else:
            function.restype = restype


lib, library_path = load_library(candidate_paths())
_declare(lib, library_path)


# ---------------------------------------------------------------- helpers


def last_error() -> str:
    """The calling thread's ``pm_last_error()``: the message of its latest failure, or ``""``."""
    return lib.pm_last_error().decode("utf-8", "replace")  # type: ignore[no-any-return]


def status_name(status: int) -> str:
    """``pm_status_str(status)``: ``"PM_ERR_UNKNOWN_PORT"``, or ``"PM_ERR_UNKNOWN_STATUS"``."""
    return lib.pm_status_str(status).decode("ascii")  # type: ignore[no-any-return]


_FIRST_TRY = 256


def read_string(function: Callable[..., int], *arguments: Any) -> str:
    """Calls a string-returning function through the header's output protocol.

    ``function(*arguments, buffer, capacity, &needed)``: one call with a
    buffer that fits any usual name, and a second, exactly sized one only when
    the library answers ``PM_ERR_BUFFER_TOO_SMALL``.
    """
    needed = c_size_t(0)
    buffer = create_string_buffer(_FIRST_TRY)
    try:
        function(*arguments, buffer, _FIRST_TRY, byref(needed))
    except BufferTooSmallError:
        buffer = create_string_buffer(needed.value)
        function(*arguments, buffer, needed.value, byref(needed))
    return buffer.value.decode("utf-8")


def read_ports(function: Callable[..., int], *arguments: Any) -> List[int]:
    """Calls a ``uint16_t``-array function through the output protocol; the second call only if needed."""
    needed = c_size_t(0)
    capacity = 16
    ports = (c_uint16 * capacity)()
    try:
        function(*arguments, ports, capacity, byref(needed))
    except BufferTooSmallError:
        capacity = needed.value
        ports = (c_uint16 * capacity)()
        function(*arguments, ports, capacity, byref(needed))
    return list(ports[: needed.value])


def registry_environment(handle: Optional[int]) -> Tuple[str, int]:
    """``pm_registry_environment``: the environment's name (``""`` for none) and offset."""
    needed = c_size_t(0)
    offset = c_int32(0)
    buffer = create_string_buffer(_FIRST_TRY)
    try:
        lib.pm_registry_environment(handle, buffer, _FIRST_TRY, byref(needed), byref(offset))
    except BufferTooSmallError:
        buffer = create_string_buffer(needed.value)
        lib.pm_registry_environment(handle, buffer, needed.value, byref(needed), byref(offset))
    return buffer.value.decode("utf-8"), offset.value
