"""Is a host port free the way Docker publishes it, and who holds it (``pm_probe``).

"Free" means: for each protocol asked, a socket can be bound on 0.0.0.0 and on
[::] (IPv4 and IPv6 checked separately), or on ``host`` only when given (a
port's ``host_ip``), TCP with SO_REUSEADDR as Docker binds: a TCP connection
(TIME_WAIT included) counts when such a bind fails on it, as on the local port
of an outgoing connection. When the port
is in use, the result names each socket holding it, with its process where
this user may see it (as ``ss -p`` does).
"""

from __future__ import annotations

import threading
from ctypes import byref, c_int, c_int32, c_void_p

# typing is not imported at run time (import cost; see manager.py).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Optional, Tuple

from . import _args, _header, _lib
from .errors import InvalidArgumentError

__all__ = ["probe", "is_port_available", "ProbeResult", "Holder", "PROTOCOLS"]

#: Accepted ``protocol`` spellings and their ``pm_protocol`` values.
PROTOCOLS = {
    "tcp": _header.PM_PROTOCOL_TCP, "udp": _header.PM_PROTOCOL_UDP,
    "both": _header.PM_PROTOCOL_BOTH, "tcp+udp": _header.PM_PROTOCOL_BOTH,
}


class Holder:
    """One socket holding a probed port."""

    __slots__ = ("pid", "command", "uid", "protocol", "address", "container")

    def __init__(
        self, pid: Optional[int], command: Optional[str], uid: int, protocol: str, address: str,
        container: Optional[str] = None,
    ) -> None:
        #: The process ID; ``None`` when the process is not visible (a process of another user).
        self.pid = pid
        #: The command name (``/proc/PID/comm``, escaped); ``None`` when not visible.
        self.command = command
        #: The socket owner's user ID.
        self.uid = uid
        #: ``"tcp"`` or ``"udp"``.
        self.protocol = protocol
        #: The socket's local address and port: ``"0.0.0.0:9092"``, ``"[::1]:6831"``.
        self.address = address
        #: The Docker container behind it (a ``docker-proxy``'s), when the engine names one; else ``None``.
        self.container = container

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Holder) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> Tuple[object, ...]:
        return (self.pid, self.command, self.uid, self.protocol, self.address, self.container)

    def __repr__(self) -> str:
        who = f"pid={self.pid} command={self.command!r}" if self.pid is not None else f"uid={self.uid} (not visible)"
        if self.container is not None:
            who += f" container={self.container!r}"
        return f"<Holder {self.protocol} {self.address} {who}>"


_AVAILABLE = {_header.PM_PROBE_FREE: True, _header.PM_PROBE_IN_USE: False, _header.PM_PROBE_UNKNOWN: None}
_VERDICTS = {_header.PM_PROBE_FREE: "free", _header.PM_PROBE_IN_USE: "in use", _header.PM_PROBE_UNKNOWN: "cannot tell"}
# Serialises reading a result's JSON with releasing it, so that no thread reads
# a result another thread has just released. Reentrant: a collection inside
# _load may run another result's destructor on this thread.
_RESULT_LOCK = threading.RLock()


class ProbeResult:
    """The answer for one port: ``available`` is True (free), False (in use) or None (cannot tell).

    ``available`` and ``verdict`` come from the library at once; the rest
    (``holders``, ``notes``, ``json``, ``host``, ``protocol``) is read from the
    library's JSON on first use. The library's result is released when the
    details have been read, or when this object is collected, whichever comes
    first (a destructor: ``weakref.finalize`` cost more than the rest of a
    probe's Python side).
    """

    __slots__ = ("port", "available", "verdict", "_pointer", "_data", "_text", "__weakref__")

    def __init__(self, pointer: int, port: int) -> None:
        self._pointer: Optional[int] = pointer
        verdict = c_int32()
        _lib.lib.pm_probe_result_verdict(pointer, byref(verdict), None)
        #: The port probed.
        self.port: int = port
        #: True when free, False when in use, None when it cannot tell.
        self.available: Optional[bool] = _AVAILABLE[verdict.value]
        #: ``"free"``, ``"in use"`` or ``"cannot tell"``.
        self.verdict: str = _VERDICTS[verdict.value]
        self._data: Optional[Dict[str, Any]] = None
        self._text: Optional[str] = None

    def _load(self) -> Dict[str, Any]:
        with _RESULT_LOCK:
            if self._data is None:
                assert self._pointer is not None, "the library's result was released before it was read"
                self._text = _lib.read_string(_lib.lib.pm_probe_result_json, self._pointer)
                import json  # only when the details are read

                self._data = json.loads(self._text)
                self._release()  # everything is read: release the library's result now
            return self._data

    def _release(self) -> None:
        pointer, self._pointer = self._pointer, None
        if pointer is not None:
            _lib.lib.pm_probe_result_free(pointer)

    def __del__(self) -> None:
        if getattr(self, "_pointer", None) is None:
            return
        try:
            with _RESULT_LOCK:
                self._release()
        except Exception:  # interpreter shutdown: the library may be gone already  # pragma: no cover
            pass

    @property
    def json(self) -> str:
        """The library's JSON text of the answer (``pm_probe_result_json``; ``probe --json``)."""
        self._load()
        assert self._text is not None
        return self._text

    @property
    def protocol(self) -> str:
        """``"tcp"``, ``"udp"`` or ``"tcp+udp"``."""
        return str(self._load()["protocol"])

    @property
    def host(self) -> Optional[str]:
        """The host address probed, or ``None`` for both wildcards."""
        return self._load()["host"]  # type: ignore[no-any-return]

    @property
    def holders(self) -> Tuple[Holder, ...]:
        """The sockets holding the port, when in use."""
        return tuple(
            Holder(h["pid"], h["command"], h["uid"], h["protocol"], h["address"], h["container"])
            for h in self._load()["holders"]
        )

    @property
    def notes(self) -> Tuple[str, ...]:
        """Why it cannot tell, address families the kernel lacks, and the like."""
        return tuple(self._load()["notes"])

    def __bool__(self) -> bool:
        """True only when the port is free."""
        return self.available is True

    def __repr__(self) -> str:
        where = self.host or "0.0.0.0 and [::]"
        return f"<ProbeResult port {self.port}/{self.protocol} on {where}: {self.verdict} holders={list(self.holders)}>"


def probe(port: int, protocol: str = "tcp", host: Optional[str] = None) -> ProbeResult:
    """Whether ``port`` is free the way Docker would publish it, and who holds it.

    Args:
        port: 1..65535.
        protocol: ``"tcp"`` (default), ``"udp"``, or ``"both"`` (also spelt ``"tcp+udp"``).
        host: a numeric IPv4 or IPv6 address to probe instead of 0.0.0.0 and [::].

    Returns:
        A :class:`ProbeResult`: ``available`` True, False or None (cannot tell,
        for example a privileged port without root that no socket holds), and
        ``holders``.

    Raises:
        InvalidArgumentError: a port outside 1..65535, an unknown protocol, a
            host that is not a numeric address.
        RegistryIOError: (``PM_ERR_IO``) a ``/proc/net`` table is unreadable or has
            a malformed line; the message names the file and the line.
    """
    number = _args.port(port)
    if not isinstance(protocol, str):
        raise TypeError(f"protocol must be a str, not {type(protocol).__name__}")
    bits = PROTOCOLS.get(protocol)
    if bits is None:
        raise InvalidArgumentError(InvalidArgumentError.STATUS, f"protocol {protocol!r} is not one of: {', '.join(PROTOCOLS)}")
    address = None if host is None else _args.text(host, "host")
    result = c_void_p()
    _lib.lib.pm_probe(number, bits, address, byref(result))
    assert result.value, "the library returned PM_OK without a result"
    return ProbeResult(result.value, number)


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
    number = _args.port(port)
    name = None if host is None else _args.text(host, "host")
    available = c_int()
    _lib.lib.pm_port_probe(name, number, byref(available))
    return bool(available.value)
