"""The log bridge: allocations reach logging.getLogger("portmanager") with the library's text."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

import portmanager
from conftest import BINDING, REGISTRY

LINE = "port_manager_port_allocated service=kafka instance=1 type=broker_port port=9192 base=9092 increment=100"


def test_allocations_are_logged_every_time_with_the_seed_text(
    pm: portmanager.PortManager, caplog: pytest.LogCaptureFixture, restore_logging: None
) -> None:
    assert pm.get_port("kafka", 1, "broker_port") == 9192  # remembered while logging is off
    with caplog.at_level(logging.INFO, logger="portmanager"):
        assert pm.get_port("kafka", 1, "broker_port") == 9192
        assert pm.get_port("kafka", 1, "broker_port") == 9192
    records = [r for r in caplog.records if r.name == "portmanager"]
    assert [(r.levelno, r.getMessage()) for r in records] == [(logging.INFO, LINE)] * 2


def test_every_logged_call(pm: portmanager.PortManager, caplog: pytest.LogCaptureFixture, restore_logging: None) -> None:
    with caplog.at_level(logging.INFO, logger="portmanager"):
        pm.get_ports("traefik", 1)
        pm.get_port_range("argocd", 1, "server_port")
        pm.container_name("kafka", 1)  # not an allocation
        pm.container_port("kafka", 1, "broker_port")  # not an allocation
        list(pm.allocations())  # enumerating is not allocating
    assert [r.getMessage() for r in caplog.records if r.name == "portmanager"] == [
        "port_manager_port_allocated service=traefik instance=1 type=web_port port=180 base=80 increment=100",
        "port_manager_port_allocated service=traefik instance=1 type=entrypoint_port port=31101 base=31001"
        " increment=100 last=31103",
        "port_manager_port_allocated service=argocd instance=1 type=server_port port=8190 base=8090"
        " increment=100 container=8080",
    ]


def test_disabled_logger_sets_the_library_threshold(pm: portmanager.PortManager, caplog: pytest.LogCaptureFixture, restore_logging: None) -> None:
    logger = logging.getLogger("portmanager")
    logger.setLevel(logging.WARNING)
    assert portmanager.sync_log_level() == logging.WARNING
    assert portmanager.log_level() == logging.WARNING
    with caplog.at_level(logging.WARNING, logger="portmanager"):
        pm.get_port("mongodb", 4)
    assert [r for r in caplog.records if r.name == "portmanager"] == []
    logger.setLevel(logging.DEBUG)
    assert portmanager.sync_log_level() == logging.DEBUG
    logger.disabled = True
    assert portmanager.sync_log_level() == portmanager.LOG_OFF
    logger.disabled = False
    logging.disable(logging.INFO)
    try:
        assert portmanager.sync_log_level() == logging.INFO + 1
    finally:
        logging.disable(logging.NOTSET)


def test_enabling_info_later_is_noticed_without_a_resync(pm: portmanager.PortManager, caplog: pytest.LogCaptureFixture, restore_logging: None) -> None:
    logging.getLogger("portmanager").setLevel(logging.WARNING)
    portmanager.sync_log_level()
    assert portmanager.log_level() == logging.WARNING
    with caplog.at_level(logging.INFO, logger="portmanager"):
        pm.get_port("redis", 2)
    assert [r.getMessage() for r in caplog.records if r.name == "portmanager"] == [
        "port_manager_port_allocated service=redis instance=2 type=port port=6579 base=6379 increment=100"]
    assert portmanager.log_level() <= logging.INFO


def test_set_log_level_directly(restore_logging: None) -> None:
    portmanager.set_log_level(portmanager.LOG_ERROR)
    assert portmanager.log_level() == 40
    with pytest.raises(TypeError):
        portmanager.set_log_level("info")  # type: ignore[arg-type]


def test_uninstalling_restores_the_library_stderr_sink() -> None:
    code = (
        "import logging, portmanager as p\n"
        "logging.basicConfig(level=logging.INFO, format='PY %(name)s %(levelname)s %(message)s')\n"
        "m = p.PortManager(REGISTRY)\n"
        "m.get_port('kafka', 1, 'broker_port')\n"
        "p.uninstall_log_bridge(); p.set_log_level(p.LOG_INFO)\n"
        "m.get_port('kafka', 1, 'broker_port')\n"
    ).replace("REGISTRY", repr(str(REGISTRY)))
    env = dict(os.environ, PYTHONPATH=str(BINDING / "src"))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stderr.splitlines() == [f"PY portmanager INFO {LINE}", f"portmanager: info: {LINE}"]


ENV_YAML = (
    "_environments:\n  staging: 1000\n"
    "web:\n  port: 5000\n  max_instances: 3\n"
    "edge:\n  admin_port: {host: 8090, container: 8080}\n  pool_port: \"31001-31003\"\n  instance_increment: 10\n"
)


def lines(caplog: pytest.LogCaptureFixture) -> list:
    found = [r.getMessage() for r in caplog.records if r.name == "portmanager"]
    caplog.clear()
    return found


@pytest.mark.parametrize("source", ["shipped", "environment"])
def test_remembered_allocations_log_exactly_the_library_line(
    source: str, caplog: pytest.LogCaptureFixture, restore_logging: None, tmp_path
) -> None:
    if source == "shipped":
        pm = portmanager.PortManager(REGISTRY)
    else:
        path = tmp_path / "env.yaml"
        path.write_text(ENV_YAML)
        pm = portmanager.PortManager(path, environment="staging")
    with pm, caplog.at_level(logging.INFO, logger="portmanager"):
        for a in list(pm.allocations()):
            pm.get_port(a.service, a.instance, a.port_type)  # C logs
            from_library = lines(caplog)
            pm.get_port(a.service, a.instance, a.port_type)  # remembered: Python logs
            assert lines(caplog) == from_library and len(from_library) == 1
            pm.get_port_range(a.service, a.instance, a.port_type)
            assert lines(caplog) == from_library
            pm.get_port_range(a.service, a.instance, a.port_type)
            assert lines(caplog) == from_library
        for service in pm.list_services():
            pm.get_ports(service, 1)
            from_library = lines(caplog)
            pm.get_ports(service, 1)
            assert lines(caplog) == from_library and len(from_library) == len(pm.service_info(service).ports)
    if source == "environment":
        assert from_library[0].endswith("offset=1000") or "offset=1000" in from_library[0]


def test_remembered_lines_are_the_library_text_not_a_copy(
    pm: portmanager.PortManager, caplog: pytest.LogCaptureFixture, restore_logging: None
) -> None:
    """The binding keeps no formatter of its own: a remembered allocation logs
    pm_allocation_line's text, which is what the library logs (checked for
    every allocation above; the escaping rules are tested in Swift, LogTests)."""
    import portmanager.manager as manager

    assert not hasattr(manager, "_escape") and not hasattr(manager, "_allocation_line")
    assert pm.allocation_line("kafka", 1, "broker_port") == LINE
    with caplog.at_level(logging.INFO, logger="portmanager"):
        line = pm.allocation_line("argocd", 2, "server_port")
        assert lines(caplog) == []  # formatting is not allocating
        pm.get_port("argocd", 2, "server_port")
        pm.get_port("argocd", 2, "server_port")
    assert [r.getMessage() for r in caplog.records if r.name == "portmanager"] == [line] * 2


@pytest.mark.parametrize("instance", [10, -1, 2**31, 2**40, -(2**63), 2**63 - 1])
def test_allocation_line_errors_name_the_real_instance(pm: portmanager.PortManager, instance: int) -> None:
    with pytest.raises(portmanager.InstanceOutOfRangeError) as info:
        pm.allocation_line("kafka", instance, "broker_port")
    assert str(info.value) == f"instance {instance} of service 'kafka' is out of range; allowed: 0..9 (max_instances=10)"
    with pytest.raises(portmanager.UnknownPortError):
        pm.allocation_line("kafka", instance, "port")
    with pytest.raises(portmanager.UnknownServiceError):
        pm.allocation_line("kafak", instance, "broker_port")


def test_an_instance_beyond_int64_is_refused_naming_it(pm: portmanager.PortManager) -> None:
    for call in (lambda: pm.get_port("kafka", 2**70, "broker_port"), lambda: pm.get_ports("kafka", -(2**70)),
                 lambda: pm.allocation_line("kafka", 2**64, "broker_port")):
        with pytest.raises(portmanager.InstanceOutOfRangeError, match=r"instance_id -?\d{20,} is outside int64_t"):
            call()
    with pytest.raises(portmanager.UnknownServiceError):
        pm.get_port("kafak", 2**70, "broker_port")


def test_import_does_not_import_logging_and_later_logging_still_works() -> None:
    """`import portmanager` leaves `logging` unimported (import cost); an
    application that configures logging afterwards still gets every allocation,
    with its extra fields."""
    code = (
        "import sys, portmanager as p\n"
        "assert 'logging' not in sys.modules, 'import portmanager imported logging'\n"
        "m = p.PortManager(REGISTRY)\n"
        "m.get_port('kafka', 1, 'broker_port')\n"
        "assert 'logging' not in sys.modules, 'an allocation with logging unconfigured imported logging'\n"
        "import logging\n"
        "logging.basicConfig(level=logging.INFO, format='%(message)s|%(service)s|%(port)s')\n"
        "m.get_port('kafka', 1, 'broker_port')\n"
        "m.get_port('kafka', 2, 'broker_port')\n"
    ).replace("REGISTRY", repr(str(REGISTRY)))
    env = dict(os.environ, PYTHONPATH=str(BINDING / "src"))
    env.pop("PORTMANAGER_LOG", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stderr.splitlines() == [f"{LINE}|kafka|9192", f"{LINE.replace('instance=1', 'instance=2').replace('9192', '9292')}|kafka|9292"]


def test_allocation_records_carry_the_fields_as_extra(
    caplog: pytest.LogCaptureFixture, restore_logging: None
) -> None:
    """Both paths, the library's callback and a remembered answer, give a JSON
    formatter or structlog the fields without parsing the message."""
    with portmanager.PortManager(REGISTRY) as manager, caplog.at_level(logging.INFO, logger="portmanager"):
        manager.get_port("kafka", 1, "broker_port")  # first: the library logs it through the callback
        manager.get_port("kafka", 1, "broker_port")  # remembered: the binding logs it
        manager.get_ports("argocd", 2)
    records = [r for r in caplog.records if r.name == "portmanager"]
    fields = [(r.service, r.instance, r.port_name, r.port) for r in records]  # type: ignore[attr-defined]
    assert fields == [("kafka", 1, "broker_port", 9192)] * 2 + [
        ("argocd", 2, "server_port", 8290), ("argocd", 2, "repo_server_port", 8291)]
    assert records[0].getMessage() == LINE


def test_allocation_extra_parses_quoted_values_and_ignores_other_messages() -> None:
    from portmanager._log import allocation_extra

    assert allocation_extra(LINE) == {"service": "kafka", "instance": 1, "port_name": "broker_port", "port": 9192}
    quoted = 'port_manager_port_allocated service="a b" instance=0 type="x=\\"y\\"" port=80 base=80 increment=1'
    assert allocation_extra(quoted) == {"service": "a b", "instance": 0, "port_name": 'x="y"', "port": 80}
    assert allocation_extra("something else entirely") is None
    assert allocation_extra("port_manager_port_allocated service=kafka") is None
