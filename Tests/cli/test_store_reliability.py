"""The reservation store across PID namespaces, opened by handle, with symbolic links above
it, and with bytes, zombies, read locks and protocols: each test runs the built CLI.

Tests that need root, `unshare` or `setpriv` skip with the reason when those are missing
(make test runs as root in CI, where they must run)."""
from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from conftest import USAGE, clean_environment

UNAVAILABLE = 3
NOBODY = 65534
REGISTRY = """\
svc:
  port: 42460
  max_instances: 2
dns:
  port: {host: 42460, protocol: udp}
"""

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (owners, setpriv, unshare)")


def tool_missing(name: str) -> bool:
    return shutil.which(name) is None


@pytest.fixture()
def base() -> Iterator[Path]:
    """A private directory under /tmp, world-traversable so that `nobody` can reach what a test gives it."""
    path = Path(tempfile.mkdtemp(prefix="pm-store-", dir="/tmp"))
    os.chmod(path, 0o755)
    (path / "registry.yaml").write_text(REGISTRY)
    os.chmod(path / "registry.yaml", 0o644)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def cli(binary: Path, base: Path, *args: str | bytes, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """Runs the CLI with the test registry; arguments may be bytes (paths and names that are not UTF-8)."""
    return subprocess.run(
        [*prefix, str(binary), *args, "--registry", str(base / "registry.yaml")],
        env=clean_environment(), capture_output=True, timeout=60, cwd="/",
    )


def text(result: subprocess.CompletedProcess) -> str:
    return result.stderr.decode("utf-8", "replace")


def hold(binary: Path, base: Path, state: Path, prefix: tuple[str, ...] = ()) -> subprocess.Popen:
    """`portmanager run svc -i 0` with a command that says `ready` once it runs (the reservation made)
    and then waits for its standard input to close."""
    process = subprocess.Popen(
        [*prefix, str(binary), "run", "svc", "-i", "0", "--no-probe", "--registry", str(base / "registry.yaml"),
         "--state-dir", str(state), "--", "sh", "-c", "echo ready; exec cat >/dev/null"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_environment(), cwd="/",
    )
    line = process.stdout.readline()
    if line != b"ready\n":
        process.kill()
        _, err = process.communicate()
        pytest.fail(f"the holder did not start: {line!r} {err!r}")
    return process


def row(binary: Path, base: Path, state: Path, prefix: tuple[str, ...] = ()) -> dict:
    result = cli(binary, base, "status", "svc", "--json", "--state-dir", str(state), prefix=prefix)
    assert result.returncode == 0, text(result)
    return {r["instance"]: r for r in json.loads(result.stdout)}[0]


UNSHARE = ("unshare", "--pid", "--fork", "--mount-proc")


def check_unshare() -> None:
    if os.geteuid() != 0:
        pytest.skip("unshare --pid needs root")
    if tool_missing("unshare"):
        pytest.skip("unshare (util-linux) is not installed")
    probe = subprocess.run([*UNSHARE, "true"], capture_output=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip(f"unshare --pid does not work here: {probe.stderr.decode(errors='replace').strip()}")


# --- 1. PID namespaces ---------------------------------------------------------------------

@pytest.mark.parametrize("prefix", [UNSHARE, UNSHARE[:-1]], ids=["own-proc", "host-proc"])
def test_an_owner_in_a_new_pid_namespace_survives_a_reserve_from_outside(binary, base, prefix):
    """host-proc: the owner sees the host's /proc, where its own pid (1) names init."""
    check_unshare()
    state = base / "state"
    holder = hold(binary, base, state, prefix=prefix)  # pid 1 in its namespace: the host's pid 1 is init
    try:
        taken = cli(binary, base, "reserve", "svc", "-i", "0", "--no-probe", "--owner", "other", "--state-dir", str(state))
        assert taken.returncode == UNAVAILABLE, (taken.returncode, text(taken))
        assert "reserved by process 1" in text(taken) and "in another PID namespace (liveness unknown)" in text(taken)
        seen = row(binary, base, state)
        assert (seen["state"], seen["pid"], seen["liveness"]) == ("reserved", 1, "unknown"), seen
        assert isinstance(seen["pid_namespace"], int) and seen["pid_namespace"] != os.stat("/proc/self/ns/pid").st_ino
        status = cli(binary, base, "status", "svc", "--state-dir", str(state))
        assert "in another PID namespace (liveness unknown)" in status.stdout.decode()
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_an_owner_outside_survives_a_reserve_from_a_new_pid_namespace(binary, base):
    check_unshare()
    state = base / "state"
    holder = hold(binary, base, state)
    try:
        taken = cli(binary, base, "reserve", "svc", "-i", "0", "--no-probe", "--owner", "other",
                    "--state-dir", str(state), prefix=UNSHARE)
        assert taken.returncode == UNAVAILABLE, (taken.returncode, text(taken))
        assert f"reserved by process {holder.pid}" in text(taken), text(taken)
        inside = row(binary, base, state, prefix=UNSHARE)
        assert (inside["pid"], inside["liveness"]) == (holder.pid, "unknown"), inside
        outside = row(binary, base, state)
        assert (outside["pid"], outside["liveness"]) == (holder.pid, "alive"), outside
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    # Its own namespace sees it end, and reaps it.
    after = cli(binary, base, "reserve", "svc", "-i", "0", "--no-probe", "--owner", "other", "--state-dir", str(state))
    assert after.returncode == 0, text(after)


def test_a_version_1_store_is_migrated(binary, base):
    """A store of schema 1 (ports keyed by number, no PID namespace) keeps its reservations: each port
    stays held for TCP and UDP, as version 1 held it, and the process owner is judged by its pid."""
    state = base / "state"
    state.mkdir(mode=0o700)
    db = state / "reservations.db"
    with sqlite3.connect(db) as connection:  # the version-1 schema, as released
        connection.executescript("""
            CREATE TABLE reservation(
              id INTEGER PRIMARY KEY, service TEXT NOT NULL, environment TEXT NOT NULL, instance INTEGER NOT NULL,
              owner_kind TEXT NOT NULL CHECK(owner_kind IN ('process', 'name')), owner TEXT NOT NULL,
              pid INTEGER, start_time INTEGER, boot_id TEXT, command TEXT, since INTEGER NOT NULL, expires INTEGER,
              UNIQUE(service, environment, instance));
            CREATE TABLE port(
              port INTEGER PRIMARY KEY CHECK(port BETWEEN 1 AND 65535),
              reservation INTEGER NOT NULL REFERENCES reservation(id) ON DELETE CASCADE, name TEXT NOT NULL);
            CREATE INDEX port_by_reservation ON port(reservation);
            INSERT INTO reservation VALUES(1, 'svc', '', 0, 'name', 'wf-old', NULL, NULL, NULL, NULL, 1, NULL);
            INSERT INTO port VALUES(42460, 1, 'port');
            INSERT INTO reservation VALUES(2, 'svc', '', 1, 'process', '', 999999999, 1, 'gone', NULL, 1, NULL);
            INSERT INTO port VALUES(42560, 2, 'port');
            PRAGMA user_version = 1;
        """)
    os.chmod(db, 0o600)
    status = cli(binary, base, "status", "--all", "--json", "--state-dir", str(state))
    assert status.returncode == 0, text(status)
    rows = {(r["service"], r["instance"]): r for r in json.loads(status.stdout)}
    assert rows[("svc", 0)]["owner"] == "wf-old" and rows[("svc", 0)]["state"] == "reserved"
    assert rows[("svc", 1)]["state"] == "free"  # the process of another boot was reaped
    assert rows[("dns", 0)]["state"] == "reserved" and rows[("dns", 0)]["reserved_as"]["instance"] == 0
    udp = cli(binary, base, "reserve", "dns", "-i", "0", "--no-probe", "--state-dir", str(state))
    assert udp.returncode == UNAVAILABLE and "port 42460/udp of instance 0 is reserved by 'wf-old'" in text(udp)
    with sqlite3.connect(db) as connection:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        assert version >= 2
        assert connection.execute("SELECT protocol, port FROM port ORDER BY protocol").fetchall() == [
            ("tcp", 42460), ("udp", 42460)]


# --- 2. Checks by handle ---------------------------------------------------------------------

@needs_root
def test_a_higher_ancestor_owned_by_another_user_is_refused_and_its_swap_never_used(binary, base):
    if tool_missing("setpriv"):
        pytest.skip("setpriv (util-linux) is not installed")
    high = base / "high"
    high.mkdir()
    os.chown(high, NOBODY, NOBODY)
    os.chmod(high, 0o755)
    mid = high / "mid"
    mid.mkdir(mode=0o755)  # root's own directory: only its parent is the attacker's
    state = mid / "state"
    refused = cli(binary, base, "reserve", "svc", "--no-probe", "--state-dir", str(state))
    assert refused.returncode == USAGE, text(refused)
    assert f"reservation store {state}: the directory {high} above it is owned by uid {NOBODY}" in text(refused)
    assert not state.exists()  # nothing created below an untrusted directory
    # The attacker swaps `mid` for a directory of their own holding a store of their own.
    attacker = ("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups")
    planted = subprocess.run([*attacker, "sh", "-c",
                              f'mv "{mid}" "{high}/mid.real" && mkdir -p "{mid}/state" && : > "{mid}/state/reservations.db"'],
                             capture_output=True, timeout=30)
    assert planted.returncode == 0, planted.stderr
    theirs = (mid / "state" / "reservations.db")
    for _ in range(5):
        again = cli(binary, base, "reserve", "svc", "--no-probe", "--state-dir", str(state))
        assert again.returncode == USAGE and f"the directory {high} above it is owned by uid {NOBODY}" in text(again)
    assert theirs.stat().st_size == 0 and sorted(os.listdir(mid / "state")) == ["reservations.db"]


@needs_root
def test_the_database_is_opened_through_the_checked_handle(binary, base):
    """SQLite must open /proc/self/fd/N/reservations.db, never the path by name (which another
    process could have swapped since the check)."""
    if tool_missing("strace"):
        pytest.skip("strace is not installed")
    state = base / "state"
    traced = subprocess.run(["strace", "-f", "-e", "trace=open,openat", str(binary), "reserve", "svc", "--no-probe",
                             "--state-dir", str(state), "--registry", str(base / "registry.yaml")],
                            capture_output=True, timeout=60, env=clean_environment())
    if traced.returncode != 0 and b"PTRACE" in traced.stderr:
        pytest.skip("ptrace is not allowed here")
    log = traced.stderr.decode(errors="replace")
    assert traced.returncode == 0, log
    opens = [line for line in log.splitlines() if "reservations.db" in line]
    assert opens, log
    for line in opens:  # by the directory's handle: as /proc/self/fd/N/..., or openat(N, "reservations.db", ...)
        assert "/proc/self/fd/" in line or re.match(r'(\[pid +\d+\] )?openat\(\d+, "reservations\.db', line), line


# --- 3. Symbolic links above the state directory ----------------------------------------------

def test_a_trusted_symlink_above_is_followed(binary, base):
    real = base / "real-home"
    real.mkdir(mode=0o755)
    (base / "home").symlink_to(real)  # like $HOME a link, in a directory only root may write
    var = base / "var"
    var.mkdir(mode=0o755)
    (base / "run").mkdir(mode=0o755)
    (var / "run").symlink_to("../run")  # like /var/run -> /run, relative
    for state, landed in [(base / "home" / "state", real / "state"), (var / "run" / "pm", base / "run" / "pm")]:
        result = cli(binary, base, "reserve", "svc", "--no-probe", "--state-dir", str(state))
        assert result.returncode == 0, text(result)
        assert (landed / "reservations.db").is_file()


def test_an_untrusted_symlink_above_is_refused_naming_it(binary, base):
    shared = base / "shared-tmp"
    shared.mkdir()
    os.chmod(shared, 0o1777)  # sticky and open to all, like /tmp: whoever made the link may change it
    target = base / "target"
    target.mkdir(mode=0o755)
    (shared / "link").symlink_to(target)
    state = shared / "link" / "state"
    result = cli(binary, base, "reserve", "svc", "--no-probe", "--state-dir", str(state))
    assert result.returncode == USAGE, text(result)
    assert f"the symbolic link {shared / 'link'} is in a directory every user may write" in text(result)
    assert os.listdir(target) == []  # nothing created in the link's target


def test_the_state_directory_as_a_symlink_is_refused_with_or_without_a_slash(binary, base):
    real = base / "real"
    real.mkdir(mode=0o700)
    link = base / "state"
    link.symlink_to(real)
    for given in (str(link), str(link) + "/", str(link) + "//.", str(link) + "/."):
        result = cli(binary, base, "reserve", "svc", "--no-probe", "--state-dir", given)
        assert result.returncode == USAGE, (given, text(result))
        assert "the state directory is a symbolic link; refusing to follow it" in text(result), (given, text(result))
    assert os.listdir(real) == []


# --- 7. Bytes, zombies, read locks, protocols, long paths ---------------------------------------

def test_owner_names_are_bytes(binary, base):
    state = str(base / "state")
    assert cli(binary, base, "reserve", "svc", "-i", "0", "--no-probe", "--owner", b"wf-\xff", "--state-dir", state).returncode == 0
    wrong = cli(binary, base, "release", "svc", "0", "--owner", b"wf-\xfe", "--state-dir", state)
    assert wrong.returncode == UNAVAILABLE, text(wrong)
    assert "reserved by 'wf-\\\\xff', not by 'wf-\\\\xfe'" in text(wrong)
    right = cli(binary, base, "release", "svc", "0", "--owner", b"wf-\xff", "--state-dir", state)
    assert right.returncode == 0 and right.stdout == b"released svc instance 0\n", text(right)


def test_state_directory_paths_are_bytes(binary, base):
    first, second = bytes(base) + b"/st-\xfe", bytes(base) + b"/st-\xff"
    for path in (first, second):
        result = cli(binary, base, "reserve", "svc", "--no-probe", "--json", "--state-dir", path)
        assert result.returncode == 0, text(result)
        assert json.loads(result.stdout)["instance"] == 0  # two stores, each empty before
        assert os.path.isfile(path + b"/reservations.db")


def test_a_zombie_owner_counts_as_ended(binary, base):
    state = base / "state"
    holder = hold(binary, base, state)
    holder.stdin.close()
    # Wait until it has exited, but leave it unreaped: a zombie.
    os.waitid(os.P_PID, holder.pid, os.WEXITED | os.WNOWAIT)
    with open(f"/proc/{holder.pid}/stat") as stat:
        assert stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    try:
        result = cli(binary, base, "reserve", "svc", "-i", "0", "--no-probe", "--owner", "next", "--state-dir", str(state))
        assert result.returncode == 0, text(result)
    finally:
        holder.wait(timeout=30)


def test_a_store_readable_by_others_is_refused(binary, base):
    state = base / "state"
    assert cli(binary, base, "reserve", "svc", "--no-probe", "--state-dir", str(state)).returncode == 0
    db = state / "reservations.db"
    os.chmod(db, 0o644)
    refused = cli(binary, base, "status", "--state-dir", str(state))
    assert refused.returncode == USAGE, text(refused)
    assert f"reservation store {db}: is readable by every user (mode 0644)" in text(refused)
    os.chmod(db, 0o600)
    # A directory readable by others alone is fine: no file in it can be opened by them.
    os.chmod(state, 0o755)
    assert cli(binary, base, "status", "--state-dir", str(state)).returncode == 0


def test_a_udp_and_a_tcp_port_of_one_number_are_two_ports(binary, base):
    state = str(base / "state")
    tcp = cli(binary, base, "reserve", "svc", "-i", "0", "--no-probe", "--json", "--state-dir", state)
    udp = cli(binary, base, "reserve", "dns", "-i", "0", "--no-probe", "--json", "--state-dir", state)
    assert tcp.returncode == 0 and udp.returncode == 0, (text(tcp), text(udp))
    assert json.loads(tcp.stdout)["ports"] == json.loads(udp.stdout)["ports"] == {"port": 42460}
    again = cli(binary, base, "reserve", "dns", "-i", "0", "--no-probe", "--owner", "x", "--state-dir", state)
    # Both were reserved by this test's process (the default owner: the parent of portmanager).
    assert again.returncode == UNAVAILABLE and f"instance 0 is reserved by process {os.getpid()} " in text(again)


def test_a_long_state_directory_is_cut_in_messages(binary, base):
    long = str(base) + "/" + "/".join(["d" * 200] * 600)  # 120 KiB, under the kernel's limit for one argument
    result = cli(binary, base, "status", "--state-dir", long)
    assert result.returncode == USAGE, text(result)
    message = text(result)
    assert len(message) < 1200 and "..." in message and str(base) in message, message[:2000]


# --- Lock waits ------------------------------------------------------------------------------


def test_a_lock_wait_message_states_the_real_wait(binary, base):
    """Another process holds the store's write lock: the reserve gives up after the busy
    timeout (10 s) and its message says how long it actually waited, not a fixed figure."""
    state = base / "state"
    first = cli(binary, base, "reserve", "svc", "--owner", "first", "--no-probe", "--state-dir", str(state))
    assert first.returncode == 0, text(first)
    locker = sqlite3.connect(str(state / "reservations.db"), timeout=0, isolation_level=None)
    try:
        locker.execute("BEGIN IMMEDIATE")
        blocked = cli(binary, base, "reserve", "svc", "--owner", "second", "--no-probe", "--state-dir", str(state))
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert blocked.returncode != 0
    waited = re.search(r"the store stayed locked by another process; gave up after (\d+)\.(\d) s", text(blocked))
    assert waited, text(blocked)
    assert 10 <= int(waited.group(1)) < 60, text(blocked)
