"""`portmanager probe` against listeners this test starts, side by side with portpicker.

Each case opens its own sockets on loopback at a port found free by binding
port 0 first (other engineers run tests on this machine at the same time),
runs `portmanager probe PORT --json` (exit code and JSON checked), and asks
`portpicker.is_port_free(PORT)` the same question. The table of both verdicts
and the holder's pid is printed at the end of the module. Where the two
differ, the case says why the project's answer is the right one for Docker,
which publishes a port by binding 0.0.0.0 and [::] (or its host IP) for the
port's own protocol.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional

import pytest

from conftest import Run, cli_path, clean_environment

portpicker = pytest.importorskip("portpicker")

FREE, IN_USE, CANNOT_TELL = 0, 1, 2
VERDICT = {FREE: "free", IN_USE: "in use", CANNOT_TELL: "cannot tell"}
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
ROWS: List[str] = []


def free_port() -> int:
    """A port no TCP or UDP socket of either family holds now: the kernel's pick
    for a dual-stack [::] TCP socket, checked for UDP too."""
    for _ in range(50):
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as tcp:
            tcp.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            tcp.bind(("::", 0))
            port = tcp.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as udp:
                    udp.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                    udp.bind(("::", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port found in 50 tries")


def free_privileged_port() -> int:
    """A port below 1024 that root can bind for TCP and UDP on both families now."""
    for port in range(999, 600, -1):
        try:
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                with socket.socket(socket.AF_INET6, kind) as s:
                    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                    s.bind(("::", port))
        except OSError:
            continue
        return port
    raise AssertionError("no free privileged port")


def listener(family: int, kind: int, host: str, port: int, *, v6only: Optional[bool] = None,
             listen: bool = True, reuse: bool = False) -> socket.socket:
    s = socket.socket(family, kind)
    if reuse:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if v6only else 0)
    s.bind((host, port))
    if listen and kind == socket.SOCK_STREAM:
        s.listen(8)
    return s


def tcp_states(port: int) -> List[str]:
    """The TCP states (hex) of sockets whose local port is `port`, from /proc/net/tcp and tcp6."""
    states = []
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(path).read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].split(":")[1], 16) == port:
                states.append(fields[3])
    return states


def time_wait(port: int) -> List[socket.socket]:
    """A server on `port` (SO_REUSEADDR, as servers set it) that closes an accepted
    connection first, so its side lingers in TIME_WAIT on `port`; then the listener
    closes. Waits (bounded) until the kernel shows the TIME_WAIT socket."""
    server = listener(socket.AF_INET, socket.SOCK_STREAM, "127.0.0.1", port, reuse=True)
    client = socket.create_connection(("127.0.0.1", port))
    connection, _ = server.accept()
    connection.close()
    assert client.recv(1) == b""  # the server's FIN has arrived
    client.close()
    server.close()
    deadline = time.monotonic() + 10
    while "06" not in tcp_states(port) or any(s != "06" for s in tcp_states(port)):
        assert time.monotonic() < deadline, f"no TIME_WAIT on {port}: states {tcp_states(port)}"
        time.sleep(0.01)
    return []


@dataclass
class Case:
    name: str
    protocol: str                       # the flag given to `probe`
    setup: Callable[[int], List[socket.socket]]
    expected: int                       # the project's verdict
    holder_pid: str = "self"            # "self", "hidden" (a process of another user), "none" or "self-or-none"
    why: str = ""                       # why the project is right where portpicker differs
    as_nobody: bool = False             # probe as uid 65534 (setpriv)
    privileged: bool = False
    sockets: List[socket.socket] = field(default_factory=list)


V4, V6, TCP, UDP = socket.AF_INET, socket.AF_INET6, socket.SOCK_STREAM, socket.SOCK_DGRAM

CASES = [
    Case("TCP on 127.0.0.1", "--tcp", lambda p: [listener(V4, TCP, "127.0.0.1", p)], IN_USE),
    Case("TCP on 0.0.0.0", "--tcp", lambda p: [listener(V4, TCP, "0.0.0.0", p)], IN_USE),
    Case("TCP on 127.0.0.2 only", "--tcp", lambda p: [listener(V4, TCP, "127.0.0.2", p)], IN_USE,
         why="Docker binds 0.0.0.0, which a listener on 127.0.0.2 makes fail; a bind on 127.0.0.1 would not see it"),
    Case("TCP on ::1, IPV6_V6ONLY", "--tcp", lambda p: [listener(V6, TCP, "::1", p, v6only=True)], IN_USE,
         why="Docker also binds [::], which the ::1 listener takes"),
    Case("TCP on :: dual-stack", "--tcp", lambda p: [listener(V6, TCP, "::", p, v6only=False)], IN_USE),
    Case("TCP on :: v6-only", "--tcp", lambda p: [listener(V6, TCP, "::", p, v6only=True)], IN_USE,
         why="Docker's [::] bind fails on a v6-only [::] listener; an IPv4-only probe sees nothing"),
    Case("UDP on 127.0.0.1", "--udp", lambda p: [listener(V4, UDP, "127.0.0.1", p)], IN_USE),
    Case("UDP on ::1", "--udp", lambda p: [listener(V6, UDP, "::1", p, v6only=True)], IN_USE),
    Case("UDP on 127.0.0.1, probed as TCP", "--tcp", lambda p: [listener(V4, UDP, "127.0.0.1", p)], FREE,
         holder_pid="none",
         why="a TCP port is published for TCP only: a UDP socket of the same number does not stop it "
             "(portpicker always asks for TCP and UDP together)"),
    # /proc/net/tcp lists no TCP socket that is only bound (it is in the bind hash
    # alone), so there the bind answers and no holder can be named; a kernel whose
    # sock_diag dumps bound sockets (the probe asks for every state) names this process.
    Case("TCP bound, not listening", "--tcp", lambda p: [listener(V4, TCP, "127.0.0.1", p, listen=False)], IN_USE,
         holder_pid="self-or-none",
         why="a bound socket without SO_REUSEADDR makes Docker's bind fail as a listener does"),
    Case("TIME_WAIT connections only", "--tcp", time_wait, FREE, holder_pid="none",
         why="Docker (Go's net.Listen) binds with SO_REUSEADDR, so TIME_WAIT does not stop it"),
    Case("privileged port, free, as non-root", "--tcp", lambda p: [], CANNOT_TELL, holder_pid="none",
         as_nobody=True, privileged=True,
         why="binding is refused for want of privilege (EACCES), not because the port is taken, and no "
             "socket in /proc/net holds it: the project cannot tell and says so; portpicker calls it taken"),
    Case("privileged port held by root, as non-root", "--tcp", lambda p: [listener(V4, TCP, "0.0.0.0", p)], IN_USE,
         holder_pid="hidden", as_nobody=True, privileged=True,
         why="binding is refused (EACCES), but /proc/net/tcp shows the listener: in use, by a process of another user"),
]


def portpicker_verdict(port: int, as_nobody: bool) -> Optional[bool]:
    if not as_nobody:
        return bool(portpicker.is_port_free(port))
    code = f"import portpicker, sys; sys.exit(0 if portpicker.is_port_free({port}) else 1)"
    result = subprocess.run(NOBODY + [sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode == 0


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_probe_matrix(case: Case, run: Run) -> None:
    if case.as_nobody and (os.geteuid() != 0 or shutil.which("setpriv") is None):
        pytest.skip("needs root and setpriv to probe as another user")
    port = free_privileged_port() if case.privileged else free_port()
    sockets = case.setup(port)
    try:
        args = [str(cli_path()), "probe", str(port), case.protocol, "--json"]
        if case.as_nobody:
            result = subprocess.run(NOBODY + args, env=clean_environment(), capture_output=True, text=True, timeout=60)
        else:
            result = run(*args[1:])
        picker = portpicker_verdict(port, case.as_nobody)
    finally:
        for s in sockets:
            s.close()
    assert result.returncode == case.expected, f"{case.name}: exit {result.returncode}\n{result.stdout}{result.stderr}"
    answer = json.loads(result.stdout)
    assert answer["port"] == port
    assert answer["available"] == {FREE: True, IN_USE: False, CANNOT_TELL: None}[case.expected]
    pids = [h["pid"] for h in answer["holders"]]
    for holder in answer["holders"]:
        assert set(holder) >= {"pid", "command", "protocol", "address"}
        assert holder["address"].endswith(f":{port}")
    if case.holder_pid == "self":
        assert pids and all(pid == os.getpid() for pid in pids), answer
        assert all(h["command"] for h in answer["holders"])
    elif case.holder_pid == "self-or-none":
        assert all(pid == os.getpid() for pid in pids), answer
    elif case.holder_pid == "hidden":
        assert pids and all(pid is None for pid in pids), answer
        assert all(h["command"] is None and h["uid"] == 0 for h in answer["holders"])
    else:
        assert pids == [], answer
    ours = case.expected == FREE
    ours_text = VERDICT[case.expected]
    picker_text = "free" if picker else "not free"
    differ = (case.expected == CANNOT_TELL) or (ours != picker)
    if differ:
        assert case.why, f"{case.name}: the project says {ours_text}, portpicker {picker_text}, and no reason is given"
    pid_text = ",".join("hidden" if p is None else ("self" if p == os.getpid() else str(p)) for p in pids) or "-"
    ROWS.append(f"{case.name:<44} {ours_text:<12} {pid_text:<8} {picker_text:<9} {case.why if differ else ''}")


def test_probe_matrix_table(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints the matrix: the project's verdict, the holder, portpicker's verdict, and why they differ."""
    assert ROWS, "the matrix ran no case"
    with capsys.disabled():
        print()
        print(f"{'listener':<44} {'portmanager':<12} {'holder':<8} {'portpicker':<9} where they differ: why portmanager is right")
        for row in ROWS:
            print(row)
