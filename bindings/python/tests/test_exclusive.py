"""Exclusive reservations through ctypes: ReservedError between owners, ``fresh`` on a retry,
``portmanager.Container`` owners, ``pm.bind``, and the failure paths that release only a
fresh reservation. Each test has a private state directory."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

import portmanager

SERVICE = "mongodb"  # 27017 + 100 * instance, max_instances 10


@pytest.fixture()
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


def owners(pm: portmanager.PortManager, state: Path) -> dict:
    return {r.instance: (r.owner, r.owner_kind, r.expires) for r in pm.reservations(SERVICE, state_dir=state)}


def test_another_owner_is_refused_and_the_same_owner_retries_not_fresh(pm: portmanager.PortManager, state: Path) -> None:
    first = pm.reserve(SERVICE, 2, owner="wf-1", probe=False, state_dir=state)
    assert first.fresh is True
    with pytest.raises(portmanager.ReservedError, match="instance 2 is reserved by 'wf-1'"):
        pm.reserve(SERVICE, 2, owner="wf-2", probe=False, state_dir=state)
    with pytest.raises(portmanager.ReservedError, match="instance 2 is reserved by 'wf-1'"):
        pm.reserve(SERVICE, 2, probe=False, state_dir=state)  # this process is another owner too
    retry = pm.reserve(SERVICE, 2, owner="wf-1", ttl=60, probe=False, state_dir=state)
    assert retry.fresh is False and "not fresh" in repr(retry)
    assert owners(pm, state)[2][:2] == ("wf-1", "name")
    # Without an instance, the same owner gets another one.
    assert pm.reserve(SERVICE, owner="wf-1", probe=False, state_dir=state).instance == 0


def test_a_with_block_that_raises_releases_only_a_fresh_reservation(pm: portmanager.PortManager, state: Path) -> None:
    pm.reserve(SERVICE, 1, owner="wf", probe=False, state_dir=state)
    with pytest.raises(RuntimeError):
        with pm.reserve(SERVICE, 1, owner="wf", probe=False, state_dir=state) as retry:
            assert not retry.fresh
            raise RuntimeError("docker run: the name is in use")
    assert 1 in owners(pm, state)  # the earlier holder's reservation stays
    with pytest.raises(RuntimeError):
        with pm.reserve(SERVICE, 3, owner="wf", probe=False, state_dir=state) as made:
            assert made.fresh
            raise RuntimeError("docker run failed")
    assert 3 not in owners(pm, state)
    with pm.reserve(SERVICE, 1, owner="wf", probe=False, state_dir=state):
        pass  # a block that ends normally gives the instance back, fresh or not
    assert owners(pm, state) == {}


def test_container_owners(pm: portmanager.PortManager, state: Path) -> None:
    web = portmanager.Container("mongo-web")
    assert web == portmanager.Container("mongo-web") and hash(web) == hash(portmanager.Container("mongo-web"))
    assert web != "mongo-web" and repr(web) == "portmanager.Container('mongo-web')"
    assert pickle.loads(pickle.dumps(web)) == web
    with pytest.raises(AttributeError):
        web.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError, match="Container name must be a str"):
        portmanager.Container(b"raw")  # type: ignore[arg-type]
    made = pm.reserve(SERVICE, 4, owner=web, probe=False, state_dir=state)
    assert made.fresh and made.owner == web
    assert owners(pm, state)[4] == ("mongo-web", "container", None)
    assert pm.reserve(SERVICE, 4, owner=portmanager.Container("/mongo-web"), probe=False, state_dir=state).fresh is False
    with pytest.raises(portmanager.NotOwnerError, match="reserved by container 'mongo-web', not by 'mongo-web'"):
        pm.release(SERVICE, 4, owner="mongo-web", state_dir=state)
    assert made.release() is True
    for bad in ["x", "-web", "web 1", "web/1"]:
        with pytest.raises(portmanager.InvalidArgumentError, match="not a Docker container name"):
            pm.reserve(SERVICE, owner=portmanager.Container(bad), probe=False, state_dir=state)
    with pytest.raises(portmanager.InvalidArgumentError, match="container name is empty"):
        pm.reserve(SERVICE, owner=portmanager.Container(""), probe=False, state_dir=state)


def test_bind_hands_the_reservation_to_its_container(pm: portmanager.PortManager, state: Path) -> None:
    with pytest.raises(portmanager.NotOwnerError, match="is not reserved"):
        pm.bind(SERVICE, 5, "mongodb-5", state_dir=state)
    reservation = pm.reserve(SERVICE, 5, ttl=600, probe=False, state_dir=state)  # this process
    with pytest.raises(portmanager.NotOwnerError, match=r"reserved by process \d+ .*, not by 'wf'"):
        pm.bind(SERVICE, 5, "mongodb-5", owner="wf", state_dir=state)
    reservation.bind()  # to the instance's container name
    assert reservation.owner == portmanager.Container("mongodb-5")
    assert owners(pm, state)[5] == ("mongodb-5", "container", None)  # the TTL is dropped
    pm.bind(SERVICE, 5, "/mongodb-5", owner="anyone", state_dir=state)  # already that container's
    with pytest.raises(portmanager.NotOwnerError, match="reserved by container 'mongodb-5'"):
        pm.bind(SERVICE, 5, "elsewhere", state_dir=state)
    with pytest.raises(portmanager.InvalidArgumentError, match="container name 'no good' is not a Docker container name"):
        pm.bind(SERVICE, 5, "no good", state_dir=state)
    with pytest.raises(portmanager.InstanceOutOfRangeError):
        pm.bind(SERVICE, 10, "mongodb-10", state_dir=state)
    with pytest.raises(portmanager.InstanceOutOfRangeError, match="negative"):
        pm.bind(SERVICE, -1, state_dir=state)
    with pytest.raises(TypeError, match="container must be a str"):
        pm.bind(SERVICE, 5, 7, state_dir=state)  # type: ignore[arg-type]
    assert reservation.release() is True  # as the container now
    assert owners(pm, state) == {}


def test_container_name_keeps_meaning_the_instances_container(pm: portmanager.PortManager, state: Path) -> None:
    made = pm.reserve(SERVICE, 6, owner=portmanager.CONTAINER_NAME, probe=False, state_dir=state)
    assert made.owner == portmanager.Container("mongodb-6") and made.owner == portmanager.Container(made.container_name)
    assert pm.reserve(SERVICE, 6, owner=portmanager.Container("mongodb-6"), probe=False, state_dir=state).fresh is False
    assert pm.release(SERVICE, 6, owner=portmanager.CONTAINER_NAME, state_dir=state) is True
