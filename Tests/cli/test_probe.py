"""`portmanager probe`: exit codes, text and JSON, bad input."""
from __future__ import annotations

import json
import socket

from conftest import OK, USAGE, Run

IN_USE = 1


def test_in_use_prints_each_holder_and_exits_1(run: Run) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp, socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as udp:
        tcp.bind(("127.0.0.1", 0))
        tcp.listen(1)
        port = tcp.getsockname()[1]
        udp.bind(("::1", port))
        result = run("probe", str(port), "--both")
        assert result.returncode == IN_USE, result.stderr
        assert f"port {port}/tcp+udp on 0.0.0.0 and [::]: in use" in result.stdout
        assert f"held by tcp 127.0.0.1:{port} pid " in result.stdout
        assert f"held by udp [::1]:{port} pid " in result.stdout
        result = run("probe", str(port), "--both", "--json")
        answer = json.loads(result.stdout)
        assert answer["available"] is False and answer["protocol"] == "tcp+udp"
        assert sorted(h["protocol"] for h in answer["holders"]) == ["tcp", "udp"]
        # Only the host IP: 127.0.0.2 is free for TCP, ::1 is taken for UDP.
        assert run("probe", str(port), "--host", "127.0.0.2").returncode == OK
        assert run("probe", str(port), "--udp", "--host", "::1").returncode == IN_USE
        assert run("probe", str(port), "--tcp", "--host", "::1").returncode == OK


def test_free_exits_0_with_json(run: Run) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = run("probe", str(port), "--json")
    if result.returncode == OK:  # another process may have taken the port since
        answer = json.loads(result.stdout)
        assert answer == {"port": port, "protocol": "tcp", "host": None, "available": True, "verdict": "free",
                          "holders": [], "notes": []} or answer["notes"]


def test_cannot_tell_exits_2(run: Run) -> None:
    result = run("probe", "40000", "--host", "192.0.2.1", "--json")  # TEST-NET-1: not on this host
    assert result.returncode == USAGE
    answer = json.loads(result.stdout)
    assert answer["available"] is None and answer["verdict"] == "cannot tell"
    assert any("not on this host" in note for note in answer["notes"])


def test_bad_input_exits_2(run: Run) -> None:
    for args, message in [
        (["0"], "port 0 is outside 1-65535"),
        (["65536"], "outside 1-65535"),
        (["http"], "http"),
        (["80", "--host", "localhost"], "not a numeric IPv4 or IPv6 address"),
        (["80", "--host", "[::1]"], "not a numeric"),
        (["80", "--tcp", "--udp"], "--udp"),
        (["80", "--sctp"], "--sctp"),
        ([], "port"),
    ]:
        result = run("probe", *args)
        assert result.returncode == USAGE, (args, result.stdout, result.stderr)
        assert message in result.stderr, (args, result.stderr)


def test_help_explains_free_and_exit_codes(run: Run) -> None:
    result = run("probe", "--help")
    assert result.returncode == OK
    text = " ".join(result.stdout.split())
    assert "bound on 0.0.0.0 and on [::]" in text and "Exit status: 0 free; 1 in use" in text
    assert "\\" not in result.stdout, "line continuations leaked into the help text"
