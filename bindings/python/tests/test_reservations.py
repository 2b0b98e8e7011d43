"""Reservations (pm_reserve, pm_release, pm_renew, pm_reservations_json) through ctypes:
the model's owners, each in a private state directory. Rows that cannot be made by a live
process (a reused pid, another boot, an expired TTL) are written into the store with sqlite3."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import portmanager
from conftest import BINDING

SERVICE = "mongodb"  # 27017 + 100 * instance, max_instances 10


@pytest.fixture()
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


def own_start_time() -> int:
    text = Path("/proc/self/stat").read_text()
    return int(text[text.rindex(")") + 2:].split()[19])


def boot_id() -> str:
    return Path("/proc/sys/kernel/random/boot_id").read_text().strip()


def plant_process_row(state: Path, instance: int, pid: int, start: int, boot: str) -> None:
    """A reservation of SERVICE `instance` owned by the process (pid, start, boot), with no PID
    namespace recorded (pid_ns NULL: judged by its pid, as a version-1 store's rows are)."""
    with sqlite3.connect(state / "reservations.db") as db:
        cur = db.execute(
            "INSERT INTO reservation(service, environment, instance, owner_kind, owner, pid, start_time, boot_id, "
            "command, since, expires) VALUES(?, '', ?, 'process', '', ?, ?, ?, 'planted', ?, NULL)",
            (SERVICE, instance, pid, start, boot, int(time.time())),
        )
        db.execute("INSERT INTO port(protocol, port, reservation, name) VALUES('tcp', ?, ?, 'port')",
                   (27017 + 100 * instance, cur.lastrowid))


def held(pm: portmanager.PortManager, state: Path) -> dict:
    return {r.instance: r for r in pm.reservations(SERVICE, state_dir=state)}


def test_reserve_release_and_the_lowest_free_instance(pm: portmanager.PortManager, state: Path) -> None:
    first = pm.reserve(SERVICE, owner="a", probe=False, state_dir=state)
    second = pm.reserve(SERVICE, owner="b", probe=False, state_dir=state)
    assert (first.instance, second.instance) == (0, 1)
    assert first.ports == {"port": 27017} and second.container_name == "mongodb-1"
    assert first.release() is True and first.release() is False  # idempotent
    assert pm.reserve(SERVICE, owner="c", probe=False, state_dir=state).instance == 0
    info = held(pm, state)
    assert sorted(info) == [0, 1] and info[1].owner == "b" and info[1].owner_kind == "name"
    assert info[1].ports == {"port": 27117} and info[1].host_ports == (27117,) and info[1].expires is None


def test_a_with_block_releases_and_this_process_owns_by_default(pm: portmanager.PortManager, state: Path) -> None:
    with pm.reserve(SERVICE, 2, probe=False, state_dir=state) as reservation:
        assert reservation.owner is None
        (row,) = pm.reservations(state_dir=state)
        assert (row.owner_kind, row.pid, row.owner) == ("process", os.getpid(), f"process {os.getpid()}")
        with pytest.raises(portmanager.NotOwnerError, match="reserved by process"):
            pm.release(SERVICE, 2, owner="mongodb-2", state_dir=state)
    assert reservation.released and pm.reservations(state_dir=state) == []


def test_instance_arguments(pm: portmanager.PortManager, state: Path) -> None:
    with pytest.raises(portmanager.InstanceOutOfRangeError, match="give None for any instance"):
        pm.reserve(SERVICE, -1, state_dir=state)
    with pytest.raises(portmanager.InstanceOutOfRangeError, match="allowed: 0..9"):
        pm.reserve(SERVICE, 10, state_dir=state)
    with pytest.raises(TypeError, match="instance_id"):
        pm.release(SERVICE, None, state_dir=state)  # type: ignore[arg-type]
    with pytest.raises(portmanager.InvalidArgumentError, match="ttl 0"):
        pm.reserve(SERVICE, ttl=0, state_dir=state)
    with pytest.raises(TypeError, match="ttl must be an int"):
        pm.reserve(SERVICE, ttl=1.5, state_dir=state)  # type: ignore[arg-type]
    with pytest.raises(portmanager.InvalidArgumentError, match="owner"):
        pm.reserve(SERVICE, owner="", state_dir=state)
    with pytest.raises(portmanager.InvalidArgumentError, match="NUL"):
        pm.reserve(SERVICE, owner="a\0b", state_dir=state)
    with pytest.raises(portmanager.UnknownServiceError):
        pm.reserve("mongo", state_dir=state)


def test_every_instance_taken(pm: portmanager.PortManager, state: Path) -> None:
    for i in range(10):
        pm.reserve(SERVICE, owner=f"job-{i}", probe=False, state_dir=state)
    with pytest.raises(portmanager.ReservedError, match=r"all 10 instances are taken \(instance 0 is reserved by 'job-0'"):
        pm.reserve(SERVICE, probe=False, state_dir=state)


def test_the_same_owner_may_reserve_again_and_force_releases(pm: portmanager.PortManager, state: Path) -> None:
    pm.reserve(SERVICE, 3, owner="wf-1", probe=False, state_dir=state)
    pm.reserve(SERVICE, 3, owner="wf-1", ttl=60, probe=False, state_dir=state)
    assert held(pm, state)[3].expires is not None
    with pytest.raises(portmanager.NotOwnerError, match="reserved by 'wf-1', not by 'wf-2'"):
        pm.release(SERVICE, 3, owner="wf-2", state_dir=state)
    assert pm.release(SERVICE, 3, owner="wf-2", force=True, state_dir=state) is True


def test_a_dead_process_owner_is_reaped(pm: portmanager.PortManager, state: Path) -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import portmanager as p\n"
        "m = p.PortManager(sys.argv[2])\n"
        "print(m.reserve('mongodb', 4, probe=False, state_dir=sys.argv[3]).instance)\n"
    )
    from conftest import REGISTRY

    out = subprocess.run([sys.executable, "-c", code, str(BINDING / "src"), str(REGISTRY), str(state)],
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "4", out.stderr
    # The process has exited: its reservation is gone at the next look.
    assert 4 not in held(pm, state)
    assert pm.reserve(SERVICE, 4, owner="next", probe=False, state_dir=state).instance == 4


def test_a_live_process_owner_holds(pm: portmanager.PortManager, state: Path) -> None:
    pm.reservations(state_dir=state)  # creates the store
    plant_process_row(state, 1, os.getpid(), own_start_time(), boot_id())
    assert held(pm, state)[1].pid == os.getpid()
    # A live owner is shown with what it runs now, not what it ran when it reserved ('planted').
    command = Path("/proc/self/comm").read_text().strip()
    with pytest.raises(portmanager.ReservedError, match=rf"reserved by process {os.getpid()} \('{command}'\)"):
        pm.reserve(SERVICE, 1, owner="x", probe=False, state_dir=state)


def test_a_reused_pid_is_not_the_owner(pm: portmanager.PortManager, state: Path) -> None:
    pm.reservations(state_dir=state)
    # Our pid, but a start time of another process that had it before.
    plant_process_row(state, 1, os.getpid(), own_start_time() - 1, boot_id())
    assert 1 not in held(pm, state)
    assert pm.reserve(SERVICE, 1, owner="x", probe=False, state_dir=state).instance == 1


def test_a_reboot_ends_process_owners(pm: portmanager.PortManager, state: Path) -> None:
    pm.reservations(state_dir=state)
    plant_process_row(state, 2, os.getpid(), own_start_time(), "00000000-0000-0000-0000-000000000000")
    assert 2 not in held(pm, state)
    assert pm.reserve(SERVICE, owner="x", probe=False, state_dir=state).instance == 0


def test_an_expired_ttl_ends_and_a_renewed_one_lasts(pm: portmanager.PortManager, state: Path) -> None:
    pm.reserve(SERVICE, 0, owner="short", ttl=30, probe=False, state_dir=state)
    pm.reserve(SERVICE, 1, owner="renewed", ttl=30, probe=False, state_dir=state)
    before = held(pm, state)[1].expires
    pm.renew(SERVICE, 1, 3600, owner="renewed", state_dir=state)
    after = held(pm, state)[1].expires
    assert after is not None and before is not None and after >= before + 3600 - 30
    # Time passes for both (the clock is moved by rewriting the rows: no sleeping).
    with sqlite3.connect(state / "reservations.db") as db:
        db.execute("UPDATE reservation SET expires = expires - 31")
    info = held(pm, state)
    assert 0 not in info and 1 in info
    with pytest.raises(portmanager.NotOwnerError, match="not reserved"):
        pm.renew(SERVICE, 0, 60, owner="short", state_dir=state)
    with pytest.raises(portmanager.NotOwnerError, match="reserved by 'renewed', not by 'short'"):
        pm.renew(SERVICE, 1, 60, owner="short", state_dir=state)


def test_the_container_name_owner(pm: portmanager.PortManager, state: Path) -> None:
    """CONTAINER_NAME owns as the instance's container (kind container), not as a name with its text."""
    reservation = pm.reserve("kafka", owner=portmanager.CONTAINER_NAME, probe=False, state_dir=state)
    assert reservation.owner == portmanager.Container("kafka-development")
    pm.renew("kafka", 0, 60, owner=portmanager.CONTAINER_NAME, state_dir=state)
    with pytest.raises(portmanager.NotOwnerError, match="reserved by container 'kafka-development', not by 'kafka-development'"):
        pm.release("kafka", 0, owner="kafka-development", state_dir=state)
    assert pm.release("kafka", 0, owner=portmanager.Container("kafka-development"), state_dir=state) is True


def test_ports_shared_across_registries_are_never_reserved_twice(pm: portmanager.PortManager, state: Path) -> None:
    # Another registry names mongodb's port 27117 differently.
    other = portmanager.PortManager.from_yaml("mydb:\n  port: 27117\n")
    pm.reserve(SERVICE, 1, owner="a", probe=False, state_dir=state)
    with pytest.raises(portmanager.ReservedError, match="port 27117 of instance 0 is reserved by 'a' for instance 1 of service 'mongodb'"):
        other.reserve("mydb", 0, owner="b", probe=False, state_dir=state)


def test_the_probe_skips_ports_in_use(pm: portmanager.PortManager, state: Path) -> None:
    import socket

    other = portmanager.PortManager.from_yaml("svc:\n  port: 43700\n  max_instances: 3\n")
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind(("127.0.0.1", 43700))
        except OSError:
            pytest.skip("port 43700 is taken on this host")
        listener.listen()
        assert other.reserve("svc", owner="a", state_dir=state).instance == 1
        with pytest.raises(portmanager.ReservedError, match="port 43700 of instance 0 is in use by a process without a reservation"):
            other.reserve("svc", 0, owner="a", state_dir=state)
        assert other.reserve("svc", 0, owner="a", probe=False, state_dir=state).instance == 0


def test_owner_names_and_state_directories_reach_the_store_as_bytes(pm: portmanager.PortManager, tmp_path: Path) -> None:
    """Through the C ABI: an owner `wf-\\xfe` cannot release `wf-\\xff`'s reservation, and two state
    directories whose names differ only in a byte that is not UTF-8 are two stores."""
    from ctypes import byref, c_int32

    from portmanager import _lib

    first, second = bytes(tmp_path) + b"/st-\xfe", bytes(tmp_path) + b"/st-\xff"
    assert pm.reserve(SERVICE, owner="x", probe=False, state_dir=first).instance == 0
    assert pm.reserve(SERVICE, owner="x", probe=False, state_dir=second).instance == 0  # not the first's store
    out = c_int32(-1)
    pm._in_store(_lib.lib.pm_reserve, first, SERVICE.encode(), 1, b"wf-\xff", 0, portmanager._reservations.RESERVE_NO_PROBE, byref(out))
    assert out.value == 1
    released = c_int32(-1)
    with pytest.raises(portmanager.NotOwnerError, match=r"reserved by 'wf-\\\\xff', not by 'wf-\\\\xfe'"):
        pm._in_store(_lib.lib.pm_release, first, SERVICE.encode(), 1, b"wf-\xfe", 0, byref(released))
    pm._in_store(_lib.lib.pm_release, first, SERVICE.encode(), 1, b"wf-\xff", 0, byref(released))
    assert released.value == 1


def test_a_process_owner_shows_its_pid_namespace(pm: portmanager.PortManager, state: Path) -> None:
    pm.reserve(SERVICE, 0, probe=False, state_dir=state)  # owned by this process
    mine = held(pm, state)[0]
    assert (mine.owner_kind, mine.pid, mine.liveness) == ("process", os.getpid(), "alive")
    assert mine.pid_namespace == os.stat("/proc/self/ns/pid").st_ino
    pm.reserve(SERVICE, 1, owner="wf", probe=False, state_dir=state)
    assert (held(pm, state)[1].pid_namespace, held(pm, state)[1].liveness) == (None, None)


def plant_port_holder(state: Path, service: str, port: int, pid: int, start: int) -> None:
    """A reservation of another service, owned by the process (pid, start), holding TCP `port`."""
    with sqlite3.connect(state / "reservations.db") as db:
        cur = db.execute(
            "INSERT INTO reservation(service, environment, instance, owner_kind, owner, pid, start_time, boot_id, "
            "command, since, expires) VALUES(?, '', 0, 'process', '', ?, ?, ?, 'planted', ?, NULL)",
            (service, pid, start, boot_id(), int(time.time())),
        )
        db.execute("INSERT INTO port(protocol, port, reservation, name) VALUES('tcp', ?, ?, 'port')", (port, cur.lastrowid))


def test_a_take_reaps_the_rows_it_takes_at_once(pm: portmanager.PortManager, state: Path) -> None:
    """The store reaps everything at most once a second; a take reaps, on every call, the rows it is about
    to take: the instance's own and those holding its ports. The write just before the rows are planted
    has had this second's full reap, so here only the reap on take can free them."""
    pm.reserve(SERVICE, 9, owner="first", probe=False, state_dir=state)
    gone = (os.getpid(), own_start_time() + 1)  # our pid, another start time: an owner that has ended
    plant_process_row(state, 0, *gone, boot_id())
    plant_port_holder(state, "elsewhere", 27017 + 100 * 1, *gone)  # holds instance 1's port
    plant_process_row(state, 3, *gone, boot_id())
    assert pm.reserve(SERVICE, owner="a", probe=False, state_dir=state).instance == 0
    assert pm.reserve(SERVICE, owner="b", probe=False, state_dir=state).instance == 1
    assert pm.reserve(SERVICE, 3, owner="c", probe=False, state_dir=state).instance == 3
    with sqlite3.connect(state / "reservations.db") as db:
        assert db.execute("SELECT count(*) FROM reservation WHERE owner_kind = 'process'").fetchone()[0] == 0


def test_a_dead_owner_is_never_listed(pm: portmanager.PortManager, state: Path) -> None:
    """A listing judges every row it shows, whenever the last full reap was."""
    pm.reserve(SERVICE, 9, owner="first", probe=False, state_dir=state)
    plant_process_row(state, 2, os.getpid(), own_start_time() + 1, boot_id())
    plant_process_row(state, 4, os.getpid(), own_start_time(), boot_id())  # this process: alive
    listed = {r.instance: r for r in pm.reservations(state_dir=state)}
    assert sorted(listed) == [4, 9] and listed[4].liveness == "alive"
    with sqlite3.connect(state / "reservations.db") as db:  # and the listing reaped it
        assert db.execute("SELECT instance FROM reservation WHERE service = ? ORDER BY instance",
                          (SERVICE,)).fetchall() == [(4,), (9,)]


def test_an_owner_whose_command_holds_parentheses_and_spaces_is_judged_right(pm: portmanager.PortManager,
                                                                             state: Path) -> None:
    """/proc/PID/stat is parsed after the last ')': a command name like 'a) Z 1 (' must not move the fields."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import portmanager as p\n"
        "open('/proc/self/comm', 'w').write('a) Z 1 2 (')\n"
        "m = p.PortManager(sys.argv[2])\n"
        "print(m.reserve('mongodb', 5, probe=False, state_dir=sys.argv[3]).instance, flush=True)\n"
        "sys.stdin.read()\n"
    )
    from conftest import REGISTRY

    child = subprocess.Popen([sys.executable, "-c", code, str(BINDING / "src"), str(REGISTRY), str(state)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "5"
        assert held(pm, state)[5].pid == child.pid and held(pm, state)[5].liveness == "alive"
        with pytest.raises(portmanager.ReservedError, match=rf"reserved by process {child.pid} \('a\) Z 1 2 \('\)"):
            pm.reserve(SERVICE, 5, owner="x", probe=False, state_dir=state)
    finally:
        child.stdin.close()
        child.wait(timeout=60)
    assert pm.reserve(SERVICE, 5, owner="x", probe=False, state_dir=state).instance == 5
