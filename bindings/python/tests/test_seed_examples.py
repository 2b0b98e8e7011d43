"""The original spec's worked examples, through the binding."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import portmanager
from conftest import BINDING, HEADER, REGISTRY, REPO


def header_macro(name: str) -> str:
    """The value of `#define NAME VALUE` in include/portmanager.h, quotes removed."""
    prefix = f"#define {name} "
    lines = [line for line in HEADER.read_text(encoding="utf-8").splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, (name, lines)
    return lines[0][len(prefix):].strip().strip('"')


@pytest.mark.parametrize(
    "service, port_type, expected",
    [
        ("kafka", "broker_port", [9092, 9192, 9292]),
        ("kafka", "controller_port", [19093, 19193, 19293]),
        ("mongodb", "port", [27017, 27117, 27217]),
        ("mongo_express", "port", [8081, 8181]),
    ],
)
def test_seed_allocation_examples(pm: portmanager.PortManager, service: str, port_type: str, expected: list) -> None:
    assert [pm.get_port(service, i, port_type) for i in range(len(expected))] == expected
    # Asked again, the remembered answers are the same.
    assert [pm.get_port(service, i, port_type) for i in range(len(expected))] == expected


def test_defaults_are_instance_0_and_port(pm: portmanager.PortManager) -> None:
    assert pm.get_port("mongodb") == 27017
    assert pm.get_port("redis", 1) == 6479


def test_seed_container_and_volume_names(pm: portmanager.PortManager) -> None:
    assert [pm.container_name("kafka", i) for i in range(3)] == [
        "kafka-development", "kafka-development-1", "kafka-development-2"]
    assert [pm.volume_name("kafka", i) for i in range(3)] == ["kafka-data", "kafka-data-1", "kafka-data-2"]
    assert pm.container_name("mongo_express") == "mongo-express"
    assert pm.volume_name("mongo_express", 1) == "mongo-express-data-1"


def test_get_ports_is_a_fresh_dict_in_file_order(pm: portmanager.PortManager) -> None:
    ports = pm.get_ports("kafka", 1)
    assert ports == {"broker_port": 9192, "controller_port": 19193}
    assert list(ports) == ["broker_port", "controller_port"]
    ports["broker_port"] = 1  # the caller's copy, not the manager's
    assert pm.get_ports("kafka", 1)["broker_port"] == 9192
    assert pm.get_ports("neo4j", 2) == {"http_port": 7674, "bolt_port": 7887}


def test_list_services_in_file_order(pm: portmanager.PortManager) -> None:
    services = pm.list_services()
    assert services[:3] == ["kafka", "mongodb", "mongo_express"]
    assert len(services) == 15
    services.append("x")
    assert "x" not in pm.list_services()


def test_service_info_and_definitions(pm: portmanager.PortManager) -> None:
    info = pm.service_info("traefik")
    assert info == portmanager.ServiceInfo("traefik", 100, 3, ("web_port", "entrypoint_port"))
    assert pm.port_definition("traefik", "entrypoint_port") == portmanager.PortDefinition(
        "traefik", "entrypoint_port", 31001, 3, 31001)  # inside: the base port
    assert pm.port_definition("argocd", "server_port").container_port == 8080
    assert pm.port_definition("kafka", "broker_port").container_port is None  # container: host
    assert pm.container_port("traefik", 1, "entrypoint_port") == 31001
    assert pm.get_port_range("traefik", 1, "entrypoint_port") == (31101, 31103)
    assert pm.get_port_range("kafka", 1, "broker_port") == (9192, 9192)
    assert pm.container_port("argocd", 2, "server_port") == 8080
    assert pm.get_port("argocd", 2, "server_port") == 8290
    assert pm.container_port("kafka", 2, "broker_port") == 9292


def test_source_environment_and_versions(pm: portmanager.PortManager) -> None:
    assert pm.source == str(REGISTRY)
    assert pm.environment == portmanager.Environment(None, 0)
    assert portmanager.abi_version() == 1
    version = header_macro("PM_VERSION_STRING")
    assert portmanager.library_version() == portmanager.__version__ == version
    major, minor, patch = (int(header_macro(f"PM_VERSION_{part}")) for part in ("MAJOR", "MINOR", "PATCH"))
    assert version == f"{major}.{minor}.{patch}"
    assert portmanager.library_version_number() == major * 10000 + minor * 100 + patch
    assert portmanager.status_name(7) == "PM_ERR_UNKNOWN_PORT"
    assert portmanager.status_name(999) == "PM_ERR_UNKNOWN_STATUS"
    assert portmanager.STATUS_NAMES[7] == "PM_ERR_UNKNOWN_PORT"


def test_environment_offset_applies_to_every_port() -> None:
    yaml = "_environments:\n  staging: 1000\nweb:\n  port: 5000\n  max_instances: 3\n"
    with portmanager.PortManager.from_yaml(yaml, source="inline.yaml") as plain:
        assert plain.source == "inline.yaml"
        assert plain.get_port("web", 2) == 5200
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        handle.write(yaml)
    try:
        with portmanager.PortManager(handle.name, environment="staging") as staged:
            assert staged.environment == portmanager.Environment("staging", 1000)
            assert staged.get_port("web", 2) == 6200
            assert staged.get_ports("web", 1) == {"port": 6100}
            assert next(staged.allocations()).host_port == 6000
    finally:
        os.unlink(handle.name)


def test_allocations_agree_with_the_library(pm: portmanager.PortManager) -> None:
    allocations = list(pm.allocations())
    expected = sum(pm.service_info(s).max_instances * len(pm.service_info(s).ports) for s in pm.list_services())
    assert len(allocations) == expected
    for a in allocations:
        assert (a.host_port, a.host_port_last) == pm.get_port_range(a.service, a.instance, a.port_type)
        assert a.container_port == pm.container_port(a.service, a.instance, a.port_type)
        assert a.host_port == pm.get_port(a.service, a.instance, a.port_type)
    first = allocations[0]
    assert first == portmanager.Allocation("kafka", 0, "broker_port", 9092, 9092, 9092, 9092, 9092, 100)


def test_get_port_manager_is_a_process_wide_singleton_with_default_resolution() -> None:
    # A child process: the singleton, cwd-relative default resolution and $PORTMANAGER_REGISTRY.
    code = (
        "import portmanager as p, threading\n"
        "seen = []\n"
        "ts = [threading.Thread(target=lambda: seen.append(p.get_port_manager())) for _ in range(8)]\n"
        "[t.start() for t in ts]; [t.join() for t in ts]\n"
        "assert len({id(m) for m in seen}) == 1, seen\n"
        "m = p.get_port_manager(); assert m is seen[0]\n"
        "print(m.source, m.get_port('kafka', 1, 'broker_port'))\n"
        "m.close(); n = p.get_port_manager(); assert n is not m and not n.closed\n"
    )
    env = dict(os.environ, PYTHONPATH=str(BINDING / "src"))
    env.pop("PORTMANAGER_REGISTRY", None)
    env.pop("PORTMANAGER_ENV", None)
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["dynamicconfig/port_registry.yaml", "9192"]

    env["PORTMANAGER_REGISTRY"] = str(REGISTRY)
    out = subprocess.run([sys.executable, "-c", code], cwd="/", env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(REGISTRY), "9192"]

    env.pop("PORTMANAGER_REGISTRY")
    shipped = Path(portmanager.__file__).resolve().parent / "share" / "portmanager" / "port_registry.yaml"
    if shipped.is_file():
        # An installed wheel: where the library finds none, the registry shipped in the package is used.
        code = "import portmanager as p\nm = p.get_port_manager(); print(m.source, m.get_port('kafka', 1, 'broker_port'))\n"
        out = subprocess.run([sys.executable, "-c", code], cwd="/", env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == [str(shipped), "9192"]
        return
    # No registry anywhere: the library's message lists both places, and the next call tries again.
    code = (
        "import portmanager as p\n"
        "for _ in range(2):\n"
        "    try: p.get_port_manager()\n"
        "    except p.RegistryNotFoundError as e: print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd="/", env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 2 and "PORTMANAGER_REGISTRY" in lines[0] and "dynamicconfig/port_registry.yaml" in lines[0]


def test_closed_manager_answers_nothing(pm: portmanager.PortManager) -> None:
    assert pm.get_port("kafka", 0, "broker_port") == 9092
    pm.close()
    pm.close()  # twice is fine
    assert pm.closed
    with pytest.raises(portmanager.InvalidArgumentError, match="closed"):
        pm.get_port("kafka", 0, "broker_port")  # remembered before, still refused
    with pytest.raises(portmanager.InvalidArgumentError, match="closed"):
        pm.list_services()
    assert repr(pm) == "<PortManager closed>"


def test_port_probe(pm: portmanager.PortManager) -> None:
    import socket

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        busy = held.getsockname()[1]
        assert pm.is_port_available(busy) is False
        assert portmanager.is_port_available(busy, "127.0.0.1") is False
    assert portmanager.is_port_available(busy) is True


def test_python_m_portmanager_prints_the_summary() -> None:
    env = dict(os.environ, PYTHONPATH=str(BINDING / "src"))
    out = subprocess.run([sys.executable, "-m", "portmanager", str(REGISTRY)], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "  instance 1  broker_port        9192          (kafka-development-1)" in out.stdout.splitlines()
    assert "  instance 0  server_port        8090         -> container 8080  (argocd)" in out.stdout.splitlines()
    out = subprocess.run([sys.executable, "-m", "portmanager", "/nonexistent.yaml"], env=env, capture_output=True, text=True)
    assert out.returncode == 2 and "/nonexistent.yaml" in out.stderr
