"""One port, TCP and UDP, IPv4 and IPv6: portmanager.probe(port, "both") against
portpicker.is_port_free(port) on the same free port in the same run. Not a test.

Both answer the same question (can TCP and UDP be bound on the port, on both
families); portmanager also says who holds a port in use. The library is the
one in build/lib (make lib), loaded through the Python binding.
"""
from __future__ import annotations

import socket
import statistics
import sys
import time
from ctypes import byref, c_int32, c_void_p
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bindings" / "python" / "src"))

import portpicker  # noqa: E402

import portmanager  # noqa: E402
from portmanager import _lib  # noqa: E402

N, ROUNDS = 2000, 7


def free_port() -> int:
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", 0))
        return int(s.getsockname()[1])


def per_call_us(function, port: int) -> float:
    best = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(N):
            function(port)
        best.append((time.perf_counter() - start) / N * 1e6)
    return statistics.median(best)


def c_verdict(port: int) -> int:
    """pm_probe and pm_probe_result_verdict only: the library's cost without building a Python result."""
    result, verdict = c_void_p(), c_int32()
    _lib.lib.pm_probe(port, 3, None, byref(result))
    _lib.lib.pm_probe_result_verdict(result, byref(verdict), None)
    _lib.lib.pm_probe_result_free(result)
    return verdict.value


def main() -> None:
    port = free_port()
    assert portmanager.probe(port, "both").available is True and portpicker.is_port_free(port)
    picker = per_call_us(portpicker.is_port_free, port)
    ours = per_call_us(lambda p: portmanager.probe(p, "both"), port)
    raw = per_call_us(c_verdict, port)
    print(f"one free port ({port}), TCP+UDP on IPv4+IPv6, median of {ROUNDS} rounds of {N} calls:")
    print(f"  portpicker.is_port_free:                   {picker:8.2f} us/call")
    print(f"  portmanager.probe(port, 'both'):           {ours:8.2f} us/call  -> ratio {ours / picker:.3f} (goal <= 0.2)")
    print(f"  pm_probe + pm_probe_result_verdict (ctypes): {raw:6.2f} us/call  -> ratio {raw / picker:.3f}")


if __name__ == "__main__":
    main()
