"""Exact edge cases through ctypes: byte paths, escaped paths, non-regular files,
and `python -m portmanager` writing to a full disk or a closed pipe."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BINDING, REGISTRY

import portmanager


def byte_named(tmp_path: Path) -> tuple[bytes, bytes]:
    """Two registries whose names differ only in bytes that are not UTF-8."""
    first = os.fsencode(tmp_path) + b"/reg-\xff\xfe.yaml"
    second = os.fsencode(tmp_path) + b"/reg-\xff\xfd.yaml"
    with open(first, "wb") as f:
        f.write(b"latin:\n  port: 3001\n")
    with open(second, "wb") as f:
        f.write(b"other:\n  port: 3002\n")
    return first, second


def test_a_bytes_path_that_is_not_utf8(tmp_path):
    first, second = byte_named(tmp_path)
    with portmanager.PortManager(first) as pm:
        assert pm.get_port("latin", 0, "port") == 3001
        assert pm.source == str(tmp_path) + "/reg-\\xff\\xfe.yaml"
    # The same name as str (surrogate escapes) and as os.PathLike is the same file.
    with portmanager.PortManager(Path(os.fsdecode(first))) as pm:
        assert pm.get_port("latin", 0, "port") == 3001
    # And the other name is the other file.
    with portmanager.PortManager(os.fsdecode(second)) as pm:
        assert pm.list_services() == ["other"]


def test_a_missing_bytes_path_is_named_escaped(tmp_path):
    missing = os.fsencode(tmp_path) + b"/gone-\xff\n.yaml"
    with pytest.raises(portmanager.PortManagerError) as caught:
        portmanager.PortManager(missing)
    assert str(tmp_path) + "/gone-\\xff\\n.yaml (no such file)" in str(caught.value)


def test_a_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "registry.yaml"
    os.mkfifo(fifo)
    # Run in a child: a library that waited for a writer would hang the test run.
    code = (
        "import sys, portmanager\n"
        "try:\n"
        "    portmanager.PortManager(sys.argv[1])\n"
        "except portmanager.PortManagerError as e:\n"
        "    print(type(e).__name__, e)\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(fifo)], capture_output=True, text=True, timeout=30,
                            env={**os.environ, "PYTHONPATH": str(BINDING / "src")})
    assert result.stdout.startswith(f"RegistryIOError {fifo}: it is a FIFO (named pipe)"), result.stdout + result.stderr


def run_main(stdout) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "portmanager", str(REGISTRY)],
        stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(BINDING / "src")},
    )


def test_main_to_a_full_disk_is_an_error():
    with open("/dev/full", "wb") as full:
        result = run_main(full)
    assert result.returncode == 2
    assert result.stderr == "portmanager: cannot write to standard output: No space left on device\n"


def test_main_into_a_closed_pipe_ends_quietly():
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = run_main(write_end)
    finally:
        os.close(write_end)
    assert result.stderr == ""
    assert result.returncode == 128 + signal.SIGPIPE
