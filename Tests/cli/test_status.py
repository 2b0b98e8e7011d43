"""`portmanager status`: every instance's ports probed at once, per protocol."""
from __future__ import annotations

import json
import os
import socket

from conftest import OK, USAGE, Run


def test_status_names_the_instance_in_use_and_its_holder(run: Run, registry_file, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as udp:
        udp.bind(("::1", 0))
        port = udp.getsockname()[1]
        base = port - 10  # instance 1 of `agent` (increment 10) is the port held over UDP
        path = registry_file(
            f"agent:\n  port: {{host: {base}, protocol: udp}}\n  instance_increment: 10\n  max_instances: 3\n"
            f"web:\n  port: {base}\n  instance_increment: 10\n  max_instances: 3\n"
        )
        state = ["--state-dir", str(tmp_path / "state")]
        result = run("status", "--all", "--registry", str(path), *state)
        assert result.returncode == OK, result.stderr
        rows = {tuple(line.split()[:3]) for line in result.stdout.splitlines()}
        assert ("agent", "1", "in_use") in rows
        assert f"port {port} is in use without a reservation: udp [::1]:{port} pid {os.getpid()} (" in result.stdout
        assert ("web", "1", "free") in rows  # TCP on the same number: not held
        result = run("status", "agent", "--all", "--registry", str(path), "--json", *state)
        instances = json.loads(result.stdout)
        assert [i["instance"] for i in instances] == [0, 1, 2]
        one = instances[1]
        assert one["service"] == "agent" and one["state"] == "in_use" and one["owner"] is None
        assert one["port_in_use"] == port
        assert one["probe"]["available"] is False
        assert one["probe"]["holders"][0]["pid"] == os.getpid()
        assert one["probe"]["protocol"] == "udp"


def test_status_unknown_service_exits_2(run: Run) -> None:
    result = run("status", "kafkaa")
    assert result.returncode == USAGE
    assert "did you mean 'kafka'?" in result.stderr
