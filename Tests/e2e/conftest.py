"""Fixtures of the end-to-end suite (make test-e2e): a real Docker engine with the
suite's image, a real Temporal dev server, and the naming that finds everything
the suite made (Tests/e2e/engine.py holds the code; docs/development.md the facts).

* ``labelled`` (session): this session's label and names (:class:`engine.Labelled`).
  Give every container, volume and network a test makes ``labelled.labels`` or a
  ``labelled.name(...)``, or claim it (``labelled.claim_volume("kafka-data-1")``,
  ``labelled.claim_compose_project(...)``): the ``docker_engine`` finalizer removes
  exactly that, even when a test fails.
* ``docker_engine`` (session): :class:`DockerEngine` (a Docker SDK client and the
  image's name). Without an engine: under CI=true every test using it fails with the
  reason; elsewhere (not root) they are skipped, and the run ends with one loud
  SKIPPED line that says why.
* ``temporal_server`` (session): :class:`engine.TemporalServer`, started once and
  always stopped.
* ``state_dir``: a private reservation store for one test.
* ``fleet``: the example orchestrator's setting for one test (:class:`orchestration.Fleet`):
  the engine, the server, ``state_dir`` and the shipped registry; every container and
  volume of Kafka and Redis instances is claimed, and all of the session's is removed
  when the test ends, so the next one starts on a clean engine.
"""

from __future__ import annotations

import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, List

import pytest

E2E = Path(__file__).resolve().parent
REPO = E2E.parents[1]
REGISTRY = REPO / "dynamicconfig" / "port_registry.yaml"

if os.environ.get("PORTMANAGER_TEST_INSTALLED") != "1":
    sys.path.insert(0, str(REPO / "bindings" / "python" / "src"))

import engine  # noqa: E402
import portmanager  # noqa: E402
from orchestration import Fleet  # noqa: E402

#: CI runs .ci/run with CI=true: there a missing engine is a failure, not a skip.
IN_CI = os.environ.get("CI") == "true"


#: Why the Docker tests were skipped: printed once, loud, at the end of the run.
_skipped: List[str] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _skipped:
        count = len(terminalreporter.stats.get("skipped", []))
        terminalreporter.write_line(f"SKIPPED {count} tests: {_skipped[0]}", yellow=True, bold=True)


@dataclass
class DockerEngine:
    """What the ``docker_engine`` fixture gives: a Docker SDK client, the image's name
    (``serve PORT...`` answers HTTP with "HOSTNAME PORT" on each port), and ``labelled``."""

    client: Any
    image: str
    labelled: engine.Labelled


@pytest.fixture(scope="session")
def labelled() -> engine.Labelled:
    return engine.Labelled.for_this_process()


@pytest.fixture(scope="session")
def docker_engine(labelled: engine.Labelled) -> Iterator[DockerEngine]:
    import docker  # the Docker SDK for Python, from Tests/requirements.txt

    machine = engine.Engine()
    unavailable = broken = None
    try:
        machine.up()
    except engine.EngineUnavailable as error:
        unavailable = f"NO DOCKER ENGINE: the tests that need one did not run ({error})"
    except engine.EngineError as error:
        broken = f"the Docker engine of the end-to-end suite: {error}"
    if broken:
        pytest.fail(broken, pytrace=False)
    if unavailable:
        if IN_CI:
            pytest.fail(f"{unavailable}; CI=true requires an engine (CI runs as root, which starts dockerd)",
                        pytrace=False)
        _skipped.append(unavailable)
        pytest.skip(unavailable)

    client = None
    problems = []
    left = []
    try:
        client = docker.from_env()
        stale = engine.sweep_stale(client)
        if stale:
            print(f"\ne2e: removed what earlier sessions left: {', '.join(stale)}")
        before = engine.snapshot(client)
        yield DockerEngine(client, machine.image, labelled)
    finally:
        if client is not None:
            try:
                labelled.sweep(client)
                after = engine.snapshot(client)
                left = [f"{kind} {name}" for kind, names in after.items() for name in sorted(names - before[kind])]
            except Exception as error:  # the engine must still be let go of
                problems.append(f"cleaning up: {error}")
            client.close()
        try:
            machine.down()
        except engine.EngineError as error:
            problems.append(str(error))
    if left:
        warnings.warn(f"made during this session and still on the engine, not this session's "
                      f"(another session's, or a test that did not label or claim it): {', '.join(left)}")
    if problems:
        pytest.fail("; ".join(problems), pytrace=False)


@pytest.fixture(scope="session")
def temporal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[engine.TemporalServer]:
    server = engine.TemporalServer(tmp_path_factory.mktemp("temporal"))
    try:
        server.start()
    except engine.EngineError as error:
        server.stop()
        pytest.fail(f"the Temporal dev server of the end-to-end suite: {error}", pytrace=False)
    except BaseException:
        server.stop()
        raise
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def state_dir(tmp_path: Path) -> Path:
    """A private reservation store (pass as ``state_dir=``, or $PORTMANAGER_STATE_DIR)."""
    return tmp_path / "state"


@pytest.fixture()
def fleet(docker_engine: DockerEngine, temporal_server: engine.TemporalServer, state_dir: Path) -> Iterator[Fleet]:
    with portmanager.PortManager(REGISTRY) as manager:
        try:
            yield Fleet(docker_engine.client, docker_engine.image, docker_engine.labelled, temporal_server,
                        state_dir, manager)
        finally:
            docker_engine.labelled.sweep(docker_engine.client)
