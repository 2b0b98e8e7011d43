"""portmanager.probe(): TCP and UDP, IPv4 and IPv6, the holders, and bad arguments."""

from __future__ import annotations

import json
import os
import socket

import pytest

import portmanager
from portmanager import InvalidArgumentError, ProbeResult


def test_udp_on_ipv6_loopback_is_seen_with_its_holder(pm: portmanager.PortManager) -> None:
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as udp:
        udp.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        udp.bind(("::1", 0))
        port = udp.getsockname()[1]
        result = pm.probe(port, protocol="udp")
        assert isinstance(result, ProbeResult)
        assert result.available is False and not result
        assert [(h.pid, h.protocol, h.address) for h in result.holders] == [(os.getpid(), "udp", f"[::1]:{port}")]
        assert result.holders[0].command  # this interpreter's comm
        assert portmanager.probe(port).available is True  # TCP: a UDP socket does not count
        assert portmanager.probe(port, "both").available is False
        assert portmanager.probe(port, "tcp+udp").available is False
        assert portmanager.probe(port, "udp", host="127.0.0.1").available is True
        assert json.loads(result.json)["holders"][0]["pid"] == os.getpid()
        # The old one-address TCP probe keeps its meaning.
        assert portmanager.is_port_available(port) is True


def test_tcp_listener_on_127_0_0_2_blocks_the_wildcards() -> None:
    with socket.socket() as tcp:
        tcp.bind(("127.0.0.2", 0))
        tcp.listen(1)
        port = tcp.getsockname()[1]
        assert portmanager.probe(port).available is False
        assert portmanager.probe(port, host="127.0.0.1").available is True
        assert portmanager.is_port_available(port) is True  # what the one-address probe missed


def test_cannot_tell_is_none_with_a_reason() -> None:
    result = portmanager.probe(40000, host="192.0.2.1")
    assert result.available is None and result.verdict == "cannot tell"
    assert any("not on this host" in note for note in result.notes)


@pytest.mark.parametrize(
    "args, error, text",
    [
        ((0,), InvalidArgumentError, "port 0"),
        ((65536,), InvalidArgumentError, "port 65536"),
        ((2**40,), InvalidArgumentError, "outside 1..65535"),
        ((80, "sctp"), InvalidArgumentError, "protocol 'sctp'"),
        ((80, "TCP"), InvalidArgumentError, "protocol 'TCP'"),
        ((80, "tcp", "localhost"), InvalidArgumentError, "not a numeric IPv4 or IPv6 address"),
        ((80, "tcp", "1.2.3.4\0"), InvalidArgumentError, "NUL"),
        (("80",), TypeError, "port must be an int"),
        ((80, 6), TypeError, "protocol must be a str"),
        ((True,), TypeError, "bool"),
    ],
)
def test_bad_arguments(args: tuple, error: type, text: str) -> None:
    with pytest.raises(error, match=text.replace(".", r"\.").replace("(", r"\(")):
        portmanager.probe(*args)


def test_results_are_released_once_read_or_collected() -> None:
    """The library's result is released after the details are read (and again reading
    them uses the copy), or by the destructor when only the verdict was read."""
    import gc
    import threading

    with socket.socket() as tcp:
        tcp.bind(("127.0.0.1", 0))
        tcp.listen(1)
        port = tcp.getsockname()[1]
        kept = portmanager.probe(port)
        for _ in range(200):  # verdicts only: released by the destructor
            assert portmanager.probe(port).available is False
        gc.collect()
        assert kept._pointer is not None  # nothing read yet: still the library's
        answers = []
        readers = [threading.Thread(target=lambda: answers.append(kept.holders)) for _ in range(8)]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join()
        assert kept._pointer is None  # read once, then released
        assert len(answers) == 8 and all(a == answers[0] for a in answers)
        assert [(h.pid, h.address) for h in answers[0]] == [(os.getpid(), f"127.0.0.1:{port}")]
        assert json.loads(kept.json)["available"] is False
