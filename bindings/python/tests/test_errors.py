"""Every error class, each raised by a real bad call, with the library's message."""

from __future__ import annotations

import ctypes
import pickle
import tempfile
from pathlib import Path

import pytest

import portmanager
from portmanager import _lib
from conftest import REGISTRY

ALL = [
    (portmanager.InvalidArgumentError, 1, ValueError),
    (portmanager.RegistryNotFoundError, 2, None),
    (portmanager.RegistryIOError, 3, None),
    (portmanager.RegistryParseError, 4, None),
    (portmanager.InvalidRegistryError, 5, None),
    (portmanager.UnknownServiceError, 6, KeyError),
    (portmanager.UnknownPortError, 7, KeyError),
    (portmanager.InstanceOutOfRangeError, 8, ValueError),
    (portmanager.BufferTooSmallError, 9, None),
    (portmanager.ProbeFailedError, 10, None),
    (portmanager.UnknownEnvironmentError, 11, None),
    (portmanager.TooLargeError, 13, None),
    (portmanager.ReservedError, 14, None),
    (portmanager.NotOwnerError, 15, None),
    (portmanager.StateError, 16, None),
    (portmanager.DockerError, 17, None),
]
#: PM_ERR_LEASED (12) belonged to the 0.1 leases; the library no longer returns it.
RETIRED = {12}


def test_one_class_per_status() -> None:
    assert sorted(status for _, status, _ in ALL) == sorted(
        s for s in portmanager.STATUS_NAMES if s != 0 and s not in RETIRED)
    assert all(_lib.status_name(s) == portmanager.STATUS_NAMES[s] for s in RETIRED)
    for cls, status, builtin in ALL:
        assert issubclass(cls, portmanager.PortManagerError)
        assert cls.STATUS == status
        assert _lib.status_name(status) == portmanager.STATUS_NAMES[status]
        if builtin is not None:
            assert issubclass(cls, builtin)
    assert not issubclass(portmanager.RegistryNotFoundError, (KeyError, ValueError))


def raised(call) -> portmanager.PortManagerError:
    with pytest.raises(portmanager.PortManagerError) as info:
        call()
    return info.value


def test_invalid_argument(pm: portmanager.PortManager) -> None:
    error = raised(lambda: portmanager.set_log_level(101))
    assert type(error) is portmanager.InvalidArgumentError and error.status == 1
    assert "101" in str(error)
    error = raised(lambda: portmanager.is_port_available(0))
    assert type(error) is portmanager.InvalidArgumentError and "port 0 is outside 1..65535" in str(error)
    error = raised(lambda: portmanager.PortManager(""))
    assert type(error) is portmanager.InvalidArgumentError and "empty" in str(error)
    # The library's own reports, straight through the raw declaration.
    with pytest.raises(portmanager.InvalidArgumentError, match="registry is NULL"):
        _lib.lib.pm_service_count(None, ctypes.byref(ctypes.c_size_t()))


def test_registry_not_found() -> None:
    error = raised(lambda: portmanager.PortManager("/nonexistent/registry.yaml"))
    assert type(error) is portmanager.RegistryNotFoundError and error.status == 2
    assert "/nonexistent/registry.yaml" in str(error)


def test_registry_io() -> None:
    with tempfile.TemporaryDirectory() as folder:
        error = raised(lambda: portmanager.PortManager(folder))
    assert type(error) is portmanager.RegistryIOError and error.status == 3
    assert folder in str(error) and "directory" in str(error)


def test_registry_parse() -> None:
    error = raised(lambda: portmanager.PortManager.from_yaml("kafka: [\n", source="bad.yaml"))
    assert type(error) is portmanager.RegistryParseError and error.status == 4
    assert str(error).startswith("bad.yaml:")


def test_invalid_registry() -> None:
    error = raised(lambda: portmanager.PortManager.from_yaml("web:\n  port: 70000\n", source="big.yaml"))
    assert type(error) is portmanager.InvalidRegistryError and error.status == 5
    assert "big.yaml:2" in str(error) and "70000" in str(error)


def test_unknown_service_is_a_key_error_every_time(pm: portmanager.PortManager) -> None:
    for _ in range(3):  # never remembered
        with pytest.raises(KeyError) as info:
            pm.get_port("kafak", 0, "broker_port")
        error = info.value
        assert type(error) is portmanager.UnknownServiceError and error.status == 6
        assert str(error) == "unknown service 'kafak'; did you mean 'kafka'?"
    for call in (pm.get_ports, pm.container_name, pm.volume_name, pm.service_info):
        with pytest.raises(portmanager.UnknownServiceError, match="'nope'"):
            call("nope")
    with pytest.raises(portmanager.UnknownServiceError):
        pm.get_port("", 0)


def test_unknown_port_is_a_key_error(pm: portmanager.PortManager) -> None:
    with pytest.raises(KeyError) as info:
        pm.get_port("kafka", 0)  # the default "port" is not kafka's
    assert type(info.value) is portmanager.UnknownPortError and info.value.status == 7
    assert str(info.value) == "service 'kafka' has no port named 'port'; it has: broker_port, controller_port"
    with pytest.raises(portmanager.UnknownPortError):
        pm.port_definition("kafka", "nope")


@pytest.mark.parametrize("instance", [-1, 10, 2**31 - 1, 2**31, 2**40, -(2**40)])
def test_instance_out_of_range_names_the_real_value(pm: portmanager.PortManager, instance: int) -> None:
    for call in (
        lambda: pm.get_port("kafka", instance, "broker_port"),
        lambda: pm.get_ports("kafka", instance),
        lambda: pm.container_name("kafka", instance),
        lambda: pm.get_port_range("kafka", instance, "broker_port"),
        lambda: pm.container_port("kafka", instance, "broker_port"),
    ):
        with pytest.raises(ValueError) as info:
            call()
        assert type(info.value) is portmanager.InstanceOutOfRangeError and info.value.status == 8
        assert str(info.value) == (
            f"instance {instance} of service 'kafka' is out of range; allowed: 0..9 (max_instances=10)")


def test_a_huge_instance_of_an_unknown_service_is_an_unknown_service(pm: portmanager.PortManager) -> None:
    with pytest.raises(portmanager.UnknownServiceError):
        pm.get_port("nope", 2**40)


def test_buffer_too_small_through_the_raw_protocol(pm: portmanager.PortManager) -> None:
    # The binding sizes its buffers; the raw declaration shows the protocol.
    handle = pm._handle.acquire()
    try:
        needed = ctypes.c_size_t(0)
        tiny = ctypes.create_string_buffer(4)
        with pytest.raises(portmanager.BufferTooSmallError) as info:
            _lib.lib.pm_registry_source(handle, tiny, 4, ctypes.byref(needed))
        assert info.value.status == 9
        assert needed.value == len(str(REGISTRY).encode()) + 1
        assert tiny.raw == b"\0" * 4  # nothing written
    finally:
        pm._handle.release()


def test_probe_failed() -> None:
    # 192.0.2.1 (TEST-NET-1) is no address of this host: bind() fails with EADDRNOTAVAIL, no traffic.
    error = raised(lambda: portmanager.is_port_available(9092, "192.0.2.1"))
    assert type(error) is portmanager.ProbeFailedError and error.status == 10
    assert "192.0.2.1" in str(error) and "9092" in str(error)


def test_unknown_environment() -> None:
    error = raised(lambda: portmanager.PortManager(REGISTRY, environment="nope"))
    assert type(error) is portmanager.UnknownEnvironmentError and error.status == 11
    assert "'nope'" in str(error)


def test_python_side_argument_errors(pm: portmanager.PortManager) -> None:
    with pytest.raises(TypeError, match="service must be a str, not NoneType"):
        pm.get_port(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="port_type must be a str, not int"):
        pm.get_port("kafka", 0, 5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="instance_id must be an int, not str"):
        pm.get_port("kafka", "1", "broker_port")  # type: ignore[arg-type]
    assert pm.get_port("kafka", 1, "broker_port") == 9192
    # 1.0 and True equal 1 as dict keys; they must not slip through the remembered answer.
    with pytest.raises(TypeError, match="instance_id must be an int, not float"):
        pm.get_port("kafka", 1.0, "broker_port")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="instance_id must be an int, not bool"):
        pm.get_port("kafka", True, "broker_port")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="service must be a str"):
        pm.get_port(["kafka"], 0)  # type: ignore[arg-type]  # unhashable
    with pytest.raises(portmanager.InvalidArgumentError, match="NUL"):
        pm.get_port("kafka\0x", 0, "broker_port")
    with pytest.raises(portmanager.InvalidArgumentError, match="UTF-8"):
        pm.get_port("\ud800", 0)
    with pytest.raises(portmanager.InvalidArgumentError, match="outside 1..65535"):
        portmanager.is_port_available(2**40)
    with pytest.raises(TypeError, match="port must be an int"):
        portmanager.is_port_available("80")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="registry_path"):
        portmanager.PortManager(42)  # type: ignore[arg-type]


def test_an_index_like_instance_is_accepted(pm: portmanager.PortManager) -> None:
    class Index:
        def __index__(self) -> int:
            return 2

    assert pm.get_port("kafka", Index(), "broker_port") == 9292  # type: ignore[arg-type]


def test_errors_pickle_and_repr() -> None:
    error = portmanager.UnknownPortError(7, "service 'kafka' has no port named 'x'")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is portmanager.UnknownPortError and again.status == 7 and again.message == error.message
    assert repr(error) == "UnknownPortError(7, \"service 'kafka' has no port named 'x'\")"
    assert error.status_name == "PM_ERR_UNKNOWN_PORT"
    assert type(portmanager.errors.error_for_status(99, "m")) is portmanager.PortManagerError


def test_reserved_not_owner_and_state(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with portmanager.PortManager(REGISTRY) as first, portmanager.PortManager(REGISTRY) as second:
        with first.reserve("mongodb", 3, owner="job\x1b[2J\nforged", probe=False, state_dir=state):
            error = raised(lambda: second.reserve("mongodb", 3, owner="other", probe=False, state_dir=state))
            assert type(error) is portmanager.ReservedError and error.status == 14
            assert "instance 3 of service 'mongodb'" in str(error)
            assert "reserved by 'job\\u001b[2J\\nforged'" in str(error)  # escaped: no escape or newline
            error = raised(lambda: second.release("mongodb", 3, owner="other", state_dir=state))
            assert type(error) is portmanager.NotOwnerError and error.status == 15
            assert "not by 'other'" in str(error)
        (tmp_path / "link").symlink_to(state)
        error = raised(lambda: first.reservations(state_dir=tmp_path / "link"))
    assert type(error) is portmanager.StateError and error.status == 16
    assert str(tmp_path / "link") in str(error) and "symbolic link" in str(error)



def test_a_miss_reads_its_message_only_when_asked_and_still_the_right_one() -> None:
    """The message is formed when first read, from the failure captured at raise
    time: later failures on the same thread, reads on another thread and a
    closed registry do not change it."""
    import threading

    pm = portmanager.PortManager(REGISTRY)
    with pytest.raises(portmanager.UnknownServiceError) as first_info:
        pm.get_port("kafak", 0, "broker_port")
    first = first_info.value
    assert first.status == 6 and first._message is None  # not read yet
    with pytest.raises(portmanager.UnknownPortError) as second_info:
        pm.get_port("kafka", 0, "nope")  # overwrites the thread's pm_last_error()
    with pytest.raises(portmanager.UnknownServiceError) as third_info:
        pm.get_port("redsi", 0)
    pm.close()  # the registry is gone; the captured failures keep what they need
    read: list = []
    reader = threading.Thread(target=lambda: read.append(str(first)))
    reader.start()
    reader.join()
    assert read == ["unknown service 'kafak'; did you mean 'kafka'?"]
    assert str(first) == read[0] and first.args == (6, read[0])
    assert "'nope'" in str(second_info.value)
    assert str(third_info.value) == "unknown service 'redsi'; did you mean 'redis'?"
    again = pickle.loads(pickle.dumps(third_info.value))
    assert type(again) is portmanager.UnknownServiceError and str(again) == str(third_info.value)


def test_misses_on_many_threads_each_keep_their_own_message() -> None:
    """Threads fail with different names at once; each exception, read later on
    another thread, names its own culprit."""
    import threading

    errors: list = []
    with portmanager.PortManager(REGISTRY) as pm:
        def miss(n: int) -> None:
            for i in range(200):
                try:
                    pm.get_port(f"nosuch-{n}-{i}", 0)
                except portmanager.UnknownServiceError as error:
                    errors.append((f"'nosuch-{n}-{i}'", error))

        threads = [threading.Thread(target=miss, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(errors) == 800
    wrong = [(name, str(error)) for name, error in errors if name not in str(error)]
    assert not wrong


def test_a_repeated_miss_is_remembered_until_close() -> None:
    pm = portmanager.PortManager(REGISTRY)
    raised = []
    for _ in range(2):
        with pytest.raises(portmanager.UnknownServiceError) as info:
            pm.get_port("kafak", 0, "broker_port")
        raised.append(info.value)
    assert raised[0] is not raised[1] and len(pm._misses) == 1
    assert str(raised[1]) == str(raised[0]) == "unknown service 'kafak'; did you mean 'kafka'?"
    with pytest.raises(portmanager.InstanceOutOfRangeError, match="instance 99"):
        pm.get_port("kafka", 99, "broker_port")
    with pytest.raises(TypeError):  # 0.0 == 0 as a key, but not an instance_id
        pm.get_port("kafak", 0.0, "broker_port")  # type: ignore[arg-type]
    pm.close()
    with pytest.raises(portmanager.InvalidArgumentError, match="closed"):
        pm.get_port("kafak", 0, "broker_port")
