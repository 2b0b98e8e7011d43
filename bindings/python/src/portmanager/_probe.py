"""Is a host port free the way Docker publishes it, and who holds it (``pm_probe``).

"Free" means: for each protocol asked, a socket can be bound on 0.0.0.0 and on
[::] (IPv4 and IPv6 checked separately), or on ``host`` only when given (a
port's ``host_ip``). TCP connections in TIME_WAIT do not count. When the port
is in use, the result names each socket holding it, with its process where
this user may see it (as ``ss -p`` does).
"""

from __future__ import annotations

import json
from ctypes import byref, c_void_p
from typing import Optional, Tuple

from . import _lib
from .errors import InvalidArgumentError

__all__ = ["probe", "ProbeResult", "Holder", "PROTOCOLS"]

#: Accepted ``protocol`` spellings and their ``pm_protocol`` values.
PROTOCOLS = {"tcp": 1, "udp": 2, "both": 3, "tcp+udp": 3}


class Holder:
    """One socket holding a probed port."""

    __slots__ = ("pid", "command", "uid", "protocol", "address")

    def __init__(self, pid: Optional[int], command: Optional[str], uid: int, protocol: str, address: str) -> None:
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

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Holder) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> Tuple[object, ...]:
        return (self.pid, self.command, self.uid, self.protocol, self.address)

    def __repr__(self) -> str:
        who = f"pid={self.pid} command={self.command!r}" if self.pid is not None else f"uid={self.uid} (not visible)"
        return f"<Holder {self.protocol} {self.address} {who}>"


class ProbeResult:
    """The answer for one port: ``available`` is True (free), False (in use) or None (cannot tell)."""

    __slots__ = ("port", "protocol", "host", "available", "verdict", "holders", "notes", "json")

    def __init__(self, report: str) -> None:
        data = json.loads(report)
        #: The port probed.
        self.port: int = data["port"]
        #: ``"tcp"``, ``"udp"`` or ``"tcp+udp"``.
        self.protocol: str = data["protocol"]
        #: The host address probed, or ``None`` for both wildcards.
        self.host: Optional[str] = data["host"]
        #: True when free, False when in use, None when it cannot tell.
        self.available: Optional[bool] = data["available"]
        #: ``"free"``, ``"in use"`` or ``"cannot tell"``.
        self.verdict: str = data["verdict"]
        #: The sockets holding the port, when in use.
        self.holders: Tuple[Holder, ...] = tuple(
            Holder(h["pid"], h["command"], h["uid"], h["protocol"], h["address"]) for h in data["holders"]
        )
        #: Why it cannot tell, address families the kernel lacks, and the like.
        self.notes: Tuple[str, ...] = tuple(data["notes"])
        #: The library's JSON text of the answer (``pm_probe_result_json``).
        self.json: str = report

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
    from .manager import _INT32_MAX, _INT32_MIN, _integer, _text

    number = _integer(port, "port")
    if not _INT32_MIN <= number <= _INT32_MAX:
        raise InvalidArgumentError(1, f"port {number} is outside 1..65535")
    if not isinstance(protocol, str):
        raise TypeError(f"protocol must be a str, not {type(protocol).__name__}")
    bits = PROTOCOLS.get(protocol)
    if bits is None:
        raise InvalidArgumentError(1, f"protocol {protocol!r} is not one of: {', '.join(PROTOCOLS)}")
    address = None if host is None else _text(host, "host")
    result = c_void_p()
    _lib.lib.pm_probe(number, bits, address, byref(result))
    try:
        return ProbeResult(_lib.read_string(_lib.lib.pm_probe_result_json, result))
    finally:
        _lib.lib.pm_probe_result_free(result)
