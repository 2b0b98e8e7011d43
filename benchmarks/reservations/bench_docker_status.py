#!/usr/bin/env python3
"""`portmanager status` with the Docker engine answering, beside one
`GET /containers/json?all=1` to the same engine, in one run (issue 19's goal: <= 2x).

Setup: a registry of 10 services x 10 instances (one port each, on free host
ports), all 100 instances reserved by a name in a temporary store; on the
engine, one container per reserved instance (--containers, default 100) of the
end-to-end image (`portmanager-e2e/busybox:1`, `scripts/dockerd.sh image`),
each labelled as its instance and publishing its port, so that `status` has
containers to match and ports held by docker-proxy to name, and the engine a
list of that size to write. The engine is Tests/e2e's (engine.Engine: the running one, else
dockerd started as root; its shared lock held throughout); the containers are
this run's (Labelled) and removed at the end, even on failure.

Then, in interleaved rounds (the median kept, wall time of each process):

    status     build/bin/portmanager status --registry R --state-dir D
               (the store, one probe of every host port, one container list,
               the states of 100 instances, a table)
    baseline   curl --unix-socket SOCKET http://localhost/containers/json?all=1
               (the one request status makes, from curl, a process too)

Prints both medians and their ratio. Not a test: prints figures only.

Usage: python3 benchmarks/reservations/bench_docker_status.py [--rounds 15] [--containers 10]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bindings" / "python" / "src"))
sys.path.insert(0, str(REPO / "Tests" / "e2e"))

import portmanager  # noqa: E402

CLI = Path(os.environ.get("PORTMANAGER_CLI", REPO / "build" / "bin" / "portmanager"))
SERVICES, INSTANCES = 10, 10


def free_base(count: int) -> int:
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("", 0))
            base = int(probe.getsockname()[1])
        if base + count > 65535:
            continue
        held = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                held.append(s)
                s.bind(("", port))
            return base
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
    raise SystemExit(f"bench_docker_status: no {count} free consecutive ports")


def wall(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--containers", type=int, default=SERVICES * INSTANCES)
    options = parser.parse_args()
    if not CLI.exists() or shutil.which("curl") is None:
        print(f"bench_docker_status: needs {CLI} (make cli) and curl; skipped")
        return
    try:
        import docker  # the Docker SDK, Tests/requirements.txt (scripts/venv.sh)
        import engine
    except ImportError as error:
        print(f"bench_docker_status: needs the test venv (scripts/venv.sh): {error}; skipped")
        return
    machine = engine.Engine()
    try:
        machine.up()
    except (engine.EngineUnavailable, engine.EngineError) as error:
        print(f"bench_docker_status: no Docker engine: {error}; skipped")
        return
    labelled = engine.Labelled.for_this_process()
    client = docker.from_env()
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    socket_path = host.removeprefix("unix://") or "/var/run/docker.sock"
    env = {**os.environ, "PORTMANAGER_LOG": "error"}
    try:
        with tempfile.TemporaryDirectory(prefix="pm-bench-docker-") as tmp:
            base = free_base(SERVICES * INSTANCES)
            registry = Path(tmp) / "registry.yaml"
            stems = [labelled.name(f"s{s}") for s in range(SERVICES)]
            registry.write_text("".join(
                f"bench{s}:\n  port: {{host: {base + s * INSTANCES}, container: 8080}}\n  instance_increment: 1\n"
                f"  max_instances: {INSTANCES}\n  container_name: {stems[s]}\n" for s in range(SERVICES)))
            state = Path(tmp) / "state"
            with portmanager.PortManager(registry) as pm:
                for s in range(SERVICES):
                    for i in range(INSTANCES):
                        pm.reserve(f"bench{s}", i, owner=f"bench-{s}-{i}", probe=False, state_dir=state)
            for n in range(options.containers):
                s, i = n % SERVICES, n // SERVICES
                client.containers.run(
                    machine.image, ["8080"], name=f"{stems[s]}-{i}" if i else stems[s], detach=True,
                    labels={**labelled.labels, "io.portmanager.service": f"bench{s}",
                            "io.portmanager.instance": str(i), "io.portmanager.environment": ""},
                    ports={"8080/tcp": ("127.0.0.1", base + s * INSTANCES + i)})
            status = [str(CLI), "status", "--registry", str(registry), "--state-dir", str(state)]
            check = subprocess.run(status, capture_output=True, text=True, env=env)
            rows = check.stdout.splitlines()[1:]
            assert check.returncode == 0 and check.stderr == "", check.stderr
            assert len(rows) == SERVICES * INSTANCES, f"{len(rows)} rows"
            running = sum(1 for row in rows if row.split()[2] == "running")
            assert running == options.containers, f"{running} running rows"
            listed = len(client.containers.list(all=True))
            curl = ["curl", "--silent", "--fail", "--unix-socket", socket_path, "http://localhost/containers/json?all=1"]
            ours, theirs = [], []
            for _ in range(options.rounds):
                ours.append(wall(status, env))
                theirs.append(wall(curl, env))
            x, y = statistics.median(ours), statistics.median(theirs)
            print(f"status over {SERVICES * INSTANCES} reservations ({running} of them running containers; "
                  f"{listed} containers on the engine) against one GET /containers/json?all=1 by curl "
                  f"(median of {options.rounds} interleaved rounds, wall time per process)")
            print(f"  status {x * 1e3:.1f} ms, curl {y * 1e3:.1f} ms")
            print(f"RESULT status_ms={x * 1e3:.1f} curl_ms={y * 1e3:.1f} ratio={x / y:.2f} (goal <= 2x)")
    finally:
        labelled.sweep(client)
        client.close()
        machine.down()


if __name__ == "__main__":
    main()
