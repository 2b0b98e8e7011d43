"""A Docker engine played on a unix socket, for the CLI's Docker-aware commands
(`status`, `reconcile`, `reserve --adopt`, `probe`) without a real engine.

It answers `GET /containers/json?...` with :attr:`FakeDockerEngine.containers`
in the engine's list shape (what `docker ps -a` reads), or with
:attr:`FakeDockerEngine.reply` when set (an error status, garbage); anything
else is a 404. Point the CLI at it with ``DOCKER_HOST=engine.host``.
"""
from __future__ import annotations

import http.server
import json
import socketserver
import threading
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple


def container(name: str, state: str = "running", labels: Optional[Dict[str, str]] = None,
              ports: Iterable[Tuple[str, int, int, str]] = ()) -> Dict[str, Any]:
    """One entry of `GET /containers/json`; ports are (host IP, host port, container port, protocol)."""
    return {
        "Id": f"{abs(hash(name)):064x}"[:64], "Names": [f"/{name}"], "Image": "busybox", "State": state,
        "Status": state, "Labels": labels or {},
        "Ports": [{"IP": ip, "PublicPort": host, "PrivatePort": inside, "Type": proto} for ip, host, inside, proto in ports],
    }


def labels(service: str, instance: int, environment: str = "") -> Dict[str, str]:
    """The io.portmanager.* labels of one instance."""
    return {"io.portmanager.service": service, "io.portmanager.instance": str(instance),
            "io.portmanager.environment": environment}


class FakeDockerEngine:
    """Serves on `directory/docker.sock` from :meth:`start` to :meth:`stop` (a context manager)."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "docker.sock"
        self.host = f"unix://{self.path}"
        self.containers: List[Dict[str, Any]] = []
        #: (status, body) answered instead of the list, when set.
        self.reply: Optional[Tuple[int, str]] = None
        self.requests: List[str] = []
        engine = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (the library's name)
                engine.requests.append(self.path)
                if engine.reply is not None:
                    status, body = engine.reply
                elif self.path.startswith("/containers/json"):
                    status, body = 200, json.dumps(engine.containers)
                else:
                    status, body = 404, '{"message": "no such container"}'
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def address_string(self) -> str:
                return "unix"

            def log_message(self, *args: Any) -> None:
                pass

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        self._server = Server(str(self.path), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> "FakeDockerEngine":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> "FakeDockerEngine":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()
