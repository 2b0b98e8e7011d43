"""The reservation store against a hostile local user, run as root AND as `nobody`
(setpriv --reuid=65534 --regid=65534 --clear-groups): planted symbolic links for the
directory and the database, a directory owned by someone else or writable by all, a FIFO
as the database, an unreadable, corrupt or newer database, and owner text with newlines
and terminal escapes. Each attack must be refused with a clear message naming the file
(exit 2, PM_ERR_STATE), quickly (nothing blocks), and nothing outside the state directory
may be created or written."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from conftest import USAGE, clean_environment

NOBODY = 65534
STRANGER = 12345  # a uid that is neither root, nor nobody, nor the caller
REGISTRY = "svc:\n  port: 42400\n  max_instances: 3\n"

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="changing owners and switching users needs root")


class Subject:
    """The user under test: runs the CLI as that user, in a world-traversable base directory."""

    def __init__(self, uid: int, binary: Path, base: Path) -> None:
        self.uid = uid
        self.binary = binary
        self.base = base
        self.registry = base / "registry.yaml"
        self.registry.write_text(REGISTRY)
        os.chmod(self.registry, 0o644)

    def own(self, path: Path, uid: int | None = None) -> None:
        uid = self.uid if uid is None else uid
        os.lchown(path, uid, uid)

    def mkdir(self, name: str, mode: int = 0o700, uid: int | None = None) -> Path:
        path = self.base / name
        path.mkdir()
        os.chmod(path, mode)
        self.own(path, uid)
        return path

    def cli(self, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
        prefix = [] if self.uid == 0 else ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups"]
        return subprocess.run(
            [*prefix, str(self.binary), *args, "--registry", str(self.registry)],
            env=clean_environment(env), capture_output=True, text=True, timeout=30, cwd="/",
        )

    def reserve(self, state: Path, *extra: str) -> subprocess.CompletedProcess:
        return self.cli("reserve", "svc", "--no-probe", "--state-dir", str(state), *extra)


@pytest.fixture(params=[0, NOBODY], ids=["root", "nobody"])
def subject(request, binary: Path) -> Iterator[Subject]:
    if os.geteuid() != 0:
        pytest.skip("these tests switch users and change owners: run them as root (make test does in CI)")
    if request.param != 0 and shutil.which("setpriv") is None:
        pytest.fail("setpriv is needed (util-linux)")
    base = Path(tempfile.mkdtemp(prefix="pm-security-", dir="/tmp"))
    os.chmod(base, 0o755)
    try:
        yield Subject(request.param, binary, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def refused(result: subprocess.CompletedProcess, path: Path, reason: str) -> None:
    assert result.returncode == USAGE, (result.returncode, result.stdout, result.stderr)
    assert f"reservation store {path}" in result.stderr, result.stderr
    assert reason in result.stderr, result.stderr


def test_a_fresh_store_is_private(subject: Subject) -> None:
    parent = subject.mkdir("home", 0o755)
    state = parent / "state"
    result = subject.reserve(state)
    assert result.returncode == 0, result.stderr
    assert os.stat(state).st_mode & 0o7777 == 0o700 and os.stat(state).st_uid == subject.uid
    db = state / "reservations.db"
    assert os.stat(db).st_mode & 0o7777 == 0o600 and os.stat(db).st_uid == subject.uid
    for companion in ("reservations.db-wal", "reservations.db-shm"):
        assert os.stat(state / companion).st_mode & 0o077 == 0
    assert sorted(os.listdir(parent)) == ["state"]  # nothing else created beside it


def test_the_default_directory_of_a_user(subject: Subject) -> None:
    home = subject.mkdir("home", 0o755)
    result = subject.cli("reserve", "svc", "--no-probe", env={"HOME": str(home)})
    if subject.uid == 0:
        # root's default is /var/lib/portmanager: not written by a test; the XDG rules are for other users.
        return
    assert result.returncode == 0, result.stderr
    assert (home / ".local" / "state" / "portmanager" / "reservations.db").is_file()
    assert os.stat(home / ".local").st_mode & 0o077 == 0
    xdg = subject.mkdir("xdg", 0o700)
    result = subject.cli("reserve", "svc", "--no-probe", env={"HOME": str(home), "XDG_STATE_HOME": str(xdg)})
    assert result.returncode == 0 and (xdg / "portmanager" / "reservations.db").is_file()


def test_a_symlinked_directory_is_refused(subject: Subject) -> None:
    victim = subject.mkdir("victim", 0o700)
    attacker = subject.mkdir("attacker", 0o755, uid=STRANGER)
    link = attacker / "state"
    link.symlink_to(victim)
    refused(subject.reserve(link), link, f"the directory {attacker} above it is owned by uid {STRANGER}")
    mine = subject.mkdir("mine", 0o755)
    own_link = mine / "state"
    own_link.symlink_to(victim)
    subject.own(own_link)
    refused(subject.reserve(own_link), own_link, "the state directory is a symbolic link")
    assert os.listdir(victim) == []


def test_a_symlinked_database_is_refused(subject: Subject) -> None:
    state = subject.mkdir("state")
    victim = subject.base / "victim"
    victim.write_text("precious\n")
    (state / "reservations.db").symlink_to(victim)
    refused(subject.reserve(state), state / "reservations.db", "is a symbolic link")
    assert victim.read_text() == "precious\n"
    # The same for SQLite's companion files.
    (state / "reservations.db").unlink()
    (state / "reservations.db-wal").symlink_to(victim)
    refused(subject.reserve(state), state / "reservations.db-wal", "is a symbolic link")
    assert victim.read_text() == "precious\n" and not (state / "reservations.db").exists()


def test_a_directory_owned_by_another_user_is_refused(subject: Subject) -> None:
    foreign = subject.mkdir("foreign", 0o755, uid=STRANGER)
    refused(subject.reserve(foreign), foreign, f"owned by uid {STRANGER}, not by uid {subject.uid} or root")
    assert os.listdir(foreign) == []


def test_a_directory_in_a_parent_another_user_controls_is_refused(subject: Subject) -> None:
    # The stranger could rename the subject's own directory away and put theirs in its place.
    parent = subject.mkdir("theirs", 0o755, uid=STRANGER)
    mine = parent / "state"
    mine.mkdir()
    os.chmod(mine, 0o700)
    subject.own(mine)
    refused(subject.reserve(mine), mine, f"the directory {parent} above it is owned by uid {STRANGER}")
    shared_tmp = subject.mkdir("open-parent", 0o777, uid=0)
    refused(subject.reserve(shared_tmp / "state"), shared_tmp / "state",
            f"the directory {shared_tmp} above it is writable by every user and not sticky")
    os.chmod(shared_tmp, 0o1777)  # sticky, like /tmp: others cannot rename what is not theirs
    assert subject.reserve(shared_tmp / "state").returncode == 0


def test_a_database_owned_by_another_user_is_refused(subject: Subject) -> None:
    state = subject.mkdir("state")
    db = state / "reservations.db"
    db.write_bytes(b"")
    os.chown(db, STRANGER, STRANGER)
    refused(subject.reserve(state), db, f"is owned by uid {STRANGER}")


def test_a_world_writable_directory_is_refused(subject: Subject) -> None:
    open_dir = subject.mkdir("open", 0o777)
    refused(subject.reserve(open_dir), open_dir, "writable by every user (mode 0777)")
    assert os.listdir(open_dir) == []


def test_a_fifo_as_the_database_is_refused_without_blocking(subject: Subject) -> None:
    state = subject.mkdir("state")
    fifo = state / "reservations.db"
    os.mkfifo(fifo)
    subject.own(fifo)
    refused(subject.reserve(state), fifo, "is not a regular file")  # subprocess timeout: 30 s
    (state / "reservations.db-shm").unlink(missing_ok=True)
    fifo.unlink()
    os.mkfifo(state / "reservations.db-shm")
    refused(subject.reserve(state), state / "reservations.db-shm", "is not a regular file")


def test_an_unreadable_database(subject: Subject) -> None:
    state = subject.mkdir("state")
    assert subject.reserve(state).returncode == 0
    db = state / "reservations.db"
    os.chmod(db, 0o000)
    result = subject.reserve(state, "--owner", "second")
    if subject.uid == 0:
        # root reads any file: the store works, and stays as it was.
        assert result.returncode == 0, result.stderr
    else:
        refused(result, db, "cannot")
    assert os.stat(db).st_mode & 0o777 == 0


def test_a_corrupt_database_is_refused_and_kept(subject: Subject) -> None:
    state = subject.mkdir("state")
    db = state / "reservations.db"
    junk = b"this is not a database\n" * 300
    db.write_bytes(junk)
    subject.own(db)
    os.chmod(db, 0o600)
    refused(subject.reserve(state), db, "corrupt or not an SQLite database")
    refused(subject.cli("status", "--state-dir", str(state)), db, "corrupt")
    assert db.read_bytes() == junk  # never recreated


def test_a_newer_schema_is_refused(subject: Subject) -> None:
    state = subject.mkdir("state")
    assert subject.reserve(state).returncode == 0
    db = state / "reservations.db"
    with sqlite3.connect(db) as connection:
        current = connection.execute("PRAGMA user_version").fetchone()[0]
        connection.execute(f"PRAGMA user_version = {current + 1}")
    refused(subject.reserve(state), db, f"schema version {current + 1}, newer than this library's {current}")
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT count(*) FROM reservation").fetchone() == (1,)


def test_another_database_is_not_taken_over(subject: Subject) -> None:
    state = subject.mkdir("state")
    db = state / "reservations.db"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE mine(x)")
    subject.own(db)
    os.chmod(db, 0o600)
    refused(subject.reserve(state), db, "not a portmanager reservation store")


def test_owner_text_reaches_messages_escaped(subject: Subject) -> None:
    state = subject.mkdir("state")
    evil = "x\nportmanager: error: forged line\x1b[2J\x07" + "A" * 200
    assert subject.reserve(state, "--owner", evil, "-i", "0").returncode == 0
    result = subject.reserve(state, "-i", "0", "--owner", "other")
    assert result.returncode == 3
    assert result.stderr.count("\n") == 1 and "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "reserved by 'x\\nportmanager: error: forged line\\u001b[2J\\u0007AAAA" in result.stderr
    assert "AAA..." in result.stderr and "A" * 100 not in result.stderr  # shortened
    status = subject.cli("status", "--state-dir", str(state))
    assert "\x1b" not in status.stdout and "forged line\\u001b" in status.stdout


@needs_root
def test_the_shared_group_directory(binary: Path) -> None:
    """A group-writable (setgid) directory given through PORTMANAGER_STATE_DIR is shared by its group:
    files another member created are accepted; a stranger's are not."""
    base = Path(tempfile.mkdtemp(prefix="pm-shared-", dir="/tmp"))
    try:
        os.chmod(base, 0o755)
        (base / "registry.yaml").write_text(REGISTRY)
        os.chmod(base / "registry.yaml", 0o644)
        shared = base / "shared"
        shared.mkdir()
        group = 4242
        os.chown(shared, 0, group)
        os.chmod(shared, 0o2770)

        def as_member(uid: int, *args: str) -> subprocess.CompletedProcess:
            return subprocess.run(
                ["setpriv", f"--reuid={uid}", f"--regid={group}", f"--groups={group}", str(binary), *args,
                 "--registry", str(base / "registry.yaml")],
                env=clean_environment({"PORTMANAGER_STATE_DIR": str(shared)}), capture_output=True, text=True,
                timeout=30, cwd="/")

        first = as_member(5001, "reserve", "svc", "--no-probe", "--owner", "alice")
        assert first.returncode == 0, first.stderr
        db = shared / "reservations.db"
        assert os.stat(db).st_mode & 0o777 == 0o660 and os.stat(db).st_gid == group
        second = as_member(5002, "reserve", "svc", "--no-probe", "--owner", "bob")
        assert second.returncode == 0, second.stderr
        assert "instance 1" in second.stdout
        taken = as_member(5002, "release", "svc", "0", "--owner", "bob")
        assert taken.returncode == 3 and "reserved by 'alice'" in taken.stderr
        os.chown(db, STRANGER, STRANGER)
        stranger = as_member(5002, "status")
        assert stranger.returncode == USAGE and f"is owned by uid {STRANGER}" in stranger.stderr
    finally:
        shutil.rmtree(base, ignore_errors=True)
