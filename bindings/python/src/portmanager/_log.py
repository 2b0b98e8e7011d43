"""The log bridge: the library's log callback forwards to ``logging.getLogger("portmanager")``.

The library formats each message (``port_manager_port_allocated service=kafka
instance=1 type=broker_port port=9192 base=9092 increment=100``) and calls the
installed ``pm_log_fn`` with a level equal to Python's (10, 20, 30, 40). The
bridge hands the text, unchanged, to the ``portmanager`` logger at that level,
so whatever ``logging`` or structlog setup the application has catches it.

The library drops messages below its own threshold before formatting them.
:func:`sync_log_level` sets that threshold from the logger's effective level,
so a disabled logger costs nothing in C; it runs on import and again by itself
whenever the binding notices the logger was enabled for INFO after that.

``logging`` is imported only once it is needed: when the application has
imported it (until then nothing can have configured it, so the logger's level
is the root's default, WARNING), when a library message arrives, or when a
function here asks the logger. ``import portmanager`` stays cheap.
"""

from __future__ import annotations

import atexit
import sys

TYPE_CHECKING = False  # typing is not imported at run time (import cost)
if TYPE_CHECKING:
    import logging
    from typing import Any, Callable, Dict, Optional

from . import _header, _lib
from .errors import InvalidArgumentError

__all__ = [
    "LOGGER_NAME",
    "logger",
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
]

#: The logger every library message goes to.
LOGGER_NAME = "portmanager"
_logger: Optional[logging.Logger] = None


def get_logger() -> logging.Logger:
    """``logging.getLogger("portmanager")``, importing ``logging`` on first use."""
    global _logger
    if _logger is None:
        import logging

        _logger = logging.getLogger(LOGGER_NAME)
    return _logger


def __getattr__(name: str) -> Any:
    # ``logger``: the module attribute, made on first access (PEP 562).
    if name == "logger":
        return get_logger()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: ``pm_log_level`` values; equal to Python's logging levels.
LOG_DEBUG = _header.PM_LOG_DEBUG
LOG_INFO = _header.PM_LOG_INFO
LOG_WARNING = _header.PM_LOG_WARNING
LOG_ERROR = _header.PM_LOG_ERROR
#: As a threshold only: log nothing.
LOG_OFF = _header.PM_LOG_OFF

# The library's threshold as last set by this module (None until the first sync).
_threshold: Optional[int] = None


#: The event of the library's allocation lines, and the ``extra`` fields their records carry.
ALLOCATION_EVENT = "port_manager_port_allocated"


def allocation_extra(text: str) -> Optional[Dict[str, Any]]:
    """The ``extra`` of a record for an allocation line: ``service``, ``instance``,
    ``port_name`` and ``port`` (ints for the numbers), taken from the line's
    ``key=value`` fields (values JSON-quoted when not bare, as the library writes
    them); None for any other message."""
    if not text.startswith(ALLOCATION_EVENT + " "):
        return None
    fields: Dict[str, str] = {}
    rest = text[len(ALLOCATION_EVENT) + 1:]
    while rest:
        key, sep, rest = rest.partition("=")
        if not sep:
            return None
        if rest.startswith('"'):
            import json  # only for quoted values, which plain names never need

            value, end = json.JSONDecoder().raw_decode(rest)
            rest = rest[end:]
        else:
            value, _, rest = rest.partition(" ")
            rest = " " + rest if rest else ""
        fields[key] = value
        rest = rest[1:] if rest.startswith(" ") else rest
    try:
        return {"service": fields["service"], "instance": int(fields["instance"]),
                "port_name": fields["type"], "port": int(fields["port"])}
    except (KeyError, ValueError):
        return None


def _forward(level: int, message: Optional[bytes], context: Optional[int]) -> None:
    """The ``pm_log_fn``: one library message to the ``portmanager`` logger, at the same
    level; an allocation's record carries its fields as ``extra`` (:func:`allocation_extra`)."""
    text = (message or b"").decode("utf-8", "replace")
    get_logger().log(level, text, extra=allocation_extra(text))


def log_info(text: str, extra: Optional[Dict[str, Any]]) -> None:
    """One INFO record on the ``portmanager`` logger: a remembered allocation's line and fields."""
    get_logger().info(text, extra=extra)


# This module's thunk. ctypes does not keep a callback object alive by itself,
# and a reload of this module rebinds the name at once: _set_callback keeps the
# thunk in force referenced where a reload does not reach.
_CALLBACK = _lib.pm_log_fn(_forward)
_installed = False


def _set_callback(thunk: Any) -> None:
    """``pm_set_log_callback(thunk, NULL)``, keeping the thunk alive while the library may call it.

    The library stops calling the previous callback before ``pm_set_log_callback``
    returns, so the previous thunk may go only then. The reference lives on
    :mod:`._lib`, which a reload of this module leaves alone.
    """
    _lib.lib.pm_set_log_callback(thunk, None)
    _lib.log_callback_in_force = thunk


def install_log_bridge() -> None:
    """Routes the library's log messages to the ``portmanager`` logger (done on import)."""
    global _installed, _threshold
    _set_callback(_CALLBACK)
    _installed = True
    if "logging" in sys.modules:
        sync_log_level()
    else:
        # Nothing can have configured a logger yet: its level is the root's default.
        _lib.lib.pm_set_log_level(LOG_WARNING)
        _threshold = LOG_WARNING
    _notify()


def uninstall_log_bridge() -> None:
    """Restores the library's default sink (``portmanager: LEVEL: message`` lines on stderr).

    The library's threshold (:func:`set_log_level`) then alone decides what is
    logged, for remembered answers too.
    """
    global _installed
    _set_callback(_lib.pm_log_fn())
    _installed = False
    _notify()


def bridge_installed() -> bool:
    """True while library messages go to the ``portmanager`` logger."""
    return _installed


def library_threshold() -> Optional[int]:
    """The library threshold this module last set (None before the first)."""
    return _threshold


def _library_threshold_allows(level: int) -> bool:
    """With the bridge uninstalled, the library's threshold alone decides what its sink gets."""
    return _threshold is not None and _threshold <= level


def _info_before_logging(level: int) -> bool:
    """Whether the logger is enabled for `level`, asked without importing ``logging``:
    never while nobody has imported it; once someone has, the logger answers from then on."""
    if "logging" not in sys.modules:
        return False
    _notify()
    return get_logger().isEnabledFor(level)


def info_enabled_check() -> Callable[[int], bool]:
    """The function that tells the manager whether a remembered allocation is logged at a level."""
    if not _installed:
        return _library_threshold_allows
    if "logging" not in sys.modules:
        return _info_before_logging
    return get_logger().isEnabledFor


def on_bridge_change(listener: Callable[[Callable[[int], bool]], None]) -> None:
    """Calls `listener` with the new :func:`info_enabled_check` whenever it may have
    changed: the bridge installed or uninstalled, or ``logging`` imported since."""
    _lib.bridge_listeners.append(listener)


def _notify() -> None:
    check = info_enabled_check()
    for listener in _lib.bridge_listeners:
        listener(check)


def _wanted_threshold() -> int:
    """The lowest level the ``portmanager`` logger lets through, as a library threshold (0..100)."""
    import logging

    logger = get_logger()
    if logger.disabled:
        return LOG_OFF
    level = logger.getEffectiveLevel()
    disabled_up_to = logging.root.manager.disable  # logging.disable(N) drops N and below
    if disabled_up_to >= level:
        level = disabled_up_to + 1
    return max(0, min(LOG_OFF, level))


def sync_log_level() -> int:
    """Sets the library's threshold from the ``portmanager`` logger's effective level and returns it.

    Call it after changing logging configuration to lower the library's cost
    again; raising the logger to INFO or below is noticed without it.
    """
    global _threshold
    level = _wanted_threshold()
    _lib.lib.pm_set_log_level(level)
    _threshold = level
    return level


def ensure_info_threshold() -> None:
    """Lowers the library's threshold to the logger's when the logger now wants INFO messages.

    Called by the manager only on paths that already cross into C with the
    logger enabled for INFO, so it costs nothing on the fast path.
    """
    if _threshold is None or _threshold > LOG_INFO:
        sync_log_level()


def set_log_level(level: int) -> None:
    """``pm_set_log_level``: sets the library's threshold directly (0..100).

    Raises :class:`~portmanager.errors.InvalidArgumentError` outside 0..100.
    Messages still pass through the ``portmanager`` logger's own level.
    """
    global _threshold
    if isinstance(level, bool) or not isinstance(level, int):
        raise TypeError(f"level must be an int, not {type(level).__name__}")
    if not -(2**31) <= level < 2**31:
        # The library checks 0..100 itself; ctypes would truncate this value first.
        raise InvalidArgumentError(InvalidArgumentError.STATUS, f"log level {level} is outside 0..{LOG_OFF} (LOG_DEBUG=10 ... LOG_OFF=100)")
    _lib.lib.pm_set_log_level(level)
    _threshold = level


def log_level() -> int:
    """``pm_get_log_level``: the library's current threshold."""
    return int(_lib.lib.pm_get_log_level())


def _at_exit() -> None:
    # No library callback may reach an interpreter that is shutting down.
    if _installed:
        _set_callback(_lib.pm_log_fn())


install_log_bridge()
atexit.register(_at_exit)
