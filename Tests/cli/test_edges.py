"""Exact edge cases of the CLI: byte paths, escaped and cut paths in messages,
files that are not regular files, one `check --json` shape, and output errors."""
from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

from conftest import FINDINGS, OK, USAGE, clean_environment

REGISTRY = b"latin:\n  port: 3001\n"
OTHER = b"other:\n  port: 3002\n"


def run_bytes(binary: Path, *args: bytes | str, env: dict | None = None, cwd: Path | None = None,
              **options) -> subprocess.CompletedProcess:
    """Runs the CLI with argv and environment as bytes (paths need not be UTF-8)."""
    environment = {os.fsencode(k): os.fsencode(v) for k, v in clean_environment().items()}
    environment.update(env or {})
    options.setdefault("stdout", subprocess.PIPE)
    return subprocess.run([os.fsencode(binary), *(os.fsencode(a) for a in args)], env=environment,
                          cwd=cwd, stderr=subprocess.PIPE, timeout=30, **options)


def byte_named(tmp_path: Path) -> tuple[bytes, bytes]:
    """Two registries whose names differ only in bytes that are not UTF-8."""
    first = os.fsencode(tmp_path) + b"/reg-\xff\xfe.yaml"
    second = os.fsencode(tmp_path) + b"/reg-\xff\xfd.yaml"
    with open(first, "wb") as f:
        f.write(REGISTRY)
    with open(second, "wb") as f:
        f.write(OTHER)
    return first, second


def test_a_registry_path_that_is_not_utf8(binary, tmp_path):
    first, second = byte_named(tmp_path)
    for args in ((b"--registry", first), (b"--registry=" + first,)):
        result = run_bytes(binary, b"get", b"latin", *args, b"--port", b"port")
        assert result.returncode == OK, result.stderr
        assert result.stdout == b"3001\n"
    # Two names are two files, not one name with U+FFFD.
    result = run_bytes(binary, b"get", b"other", b"--registry", second, b"--port", b"port")
    assert (result.returncode, result.stdout) == (OK, b"3002\n"), result.stderr
    # The source is shown escaped, never as U+FFFD.
    result = run_bytes(binary, b"check", b"--registry", first)
    assert result.returncode == OK, result.stderr
    assert b"reg-\\xff\\xfe.yaml: 1 service," in result.stdout


def test_portmanager_registry_that_is_not_utf8(binary, tmp_path):
    first, _ = byte_named(tmp_path)
    result = run_bytes(binary, b"get", b"latin", b"--port", b"port", env={b"PORTMANAGER_REGISTRY": first},
                       cwd=tmp_path)
    assert (result.returncode, result.stdout) == (OK, b"3001\n"), result.stderr


def test_a_missing_byte_path_is_named_escaped(binary, tmp_path):
    missing = os.fsencode(tmp_path) + b"/gone-\xff.yaml"
    result = run_bytes(binary, b"check", b"--registry", missing)
    assert result.returncode == USAGE
    assert result.stderr == b"portmanager: error: no port registry found; looked in: " + os.fsencode(tmp_path) \
        + b"/gone-\\xff.yaml (no such file)\n"


def test_a_newline_in_portmanager_registry_forges_no_line(binary, tmp_path):
    forged = "/nonexistent/x\nportmanager: error: forged"
    result = run_bytes(binary, b"summary", env={b"PORTMANAGER_REGISTRY": os.fsencode(forged)}, cwd=tmp_path)
    assert result.returncode == USAGE
    assert result.stderr.count(b"\n") == 1
    assert b"$PORTMANAGER_REGISTRY=/nonexistent/x\\nportmanager: error: forged (no such file)" in result.stderr


def test_a_long_path_gives_a_short_message(binary, tmp_path):
    long = "/nonexistent/" + "d" * 100_000 + "/end.yaml"
    result = run_bytes(binary, b"summary", env={b"PORTMANAGER_REGISTRY": os.fsencode(long)}, cwd=tmp_path)
    assert result.returncode == USAGE
    assert len(result.stderr) < 1024
    assert b"/nonexistent/ddd" in result.stderr and b"...ddd" in result.stderr and b"/end.yaml" in result.stderr


def test_a_stat_error_is_named(binary, tmp_path):
    result = run_bytes(binary, b"summary", env={b"PORTMANAGER_REGISTRY": b"/etc/passwd/registry.yaml"}, cwd=tmp_path)
    assert result.returncode == USAGE
    assert b"$PORTMANAGER_REGISTRY=/etc/passwd/registry.yaml (Not a directory)" in result.stderr


def test_a_fifo_is_refused_at_once(binary, tmp_path):
    fifo = tmp_path / "registry.yaml"
    os.mkfifo(fifo)
    # Nobody writes: a reader that waited would hit the timeout (a failure, not a hang).
    result = run_bytes(binary, b"check", b"--registry", os.fsencode(fifo))
    assert result.returncode == USAGE
    assert result.stderr == f"portmanager: error: {fifo}: it is a FIFO (named pipe), not a regular file; " \
        "a registry must be a regular file\n".encode()


def test_a_device_is_refused(binary):
    result = run_bytes(binary, b"check", b"--registry", b"/dev/null")
    assert result.returncode == USAGE
    assert b"/dev/null: it is a character device" in result.stderr


def test_check_json_has_one_shape(run, registry_file):
    good = registry_file("redis:\n  port: 6379\n", "good.yaml")
    bad = registry_file("redis:\n  port: 70000\n", "bad.yaml")
    valid = run("check", "--json", "--registry", str(good), "--ephemeral-range", "32768-60999")
    invalid = run("check", "--json", "--registry", str(bad), "--ephemeral-range", "32768-60999")
    assert valid.returncode == OK and invalid.returncode == FINDINGS
    # One line each (the same compact form), with the same keys in the same order.
    assert valid.stdout.count("\n") == 1 and invalid.stdout.count("\n") == 1
    good_doc, bad_doc = json.loads(valid.stdout), json.loads(invalid.stdout)
    assert list(good_doc) == list(bad_doc) == ["source", "ephemeral_range", "reserved_ports", "environments",
                                               "lattice_points", "errors", "warnings", "findings"]
    assert bad_doc["ephemeral_range"] == [32768, 60999] and bad_doc["lattice_points"] == 0
    assert bad_doc["environments"] == [] and bad_doc["errors"] == 1 and bad_doc["source"] == str(bad)
    finding = bad_doc["findings"][0]
    assert finding["kind"] == "invalid" and finding["line"] == 2 and "70000" in finding["message"]
    assert list(finding) == ["kind", "severity", "file", "line", "column", "message", "suggestion", "host_ports",
                             "occurrences"]
    # A file that is not YAML at all: the same document (exit 2, as without --json).
    broken = registry_file("redis:\n  port: [6379\n", "broken.yaml")
    unparsable = run("check", "--json", "--registry", str(broken), "--ephemeral-range", "32768-60999")
    assert unparsable.returncode == USAGE and unparsable.stdout.count("\n") == 1
    broken_doc = json.loads(unparsable.stdout)
    assert list(broken_doc) == list(good_doc) and broken_doc["errors"] == 1 and broken_doc["lattice_points"] == 0
    assert broken_doc["findings"][0]["kind"] == "invalid" and broken_doc["findings"][0]["line"] >= 2


def test_output_to_a_full_disk_is_an_error(binary):
    with open("/dev/full", "wb") as full:
        result = run_bytes(binary, b"summary", cwd=Path(__file__).resolve().parents[2], stdout=full)
    assert result.returncode == USAGE
    assert result.stderr == b"portmanager: error: cannot write to standard output: No space left on device\n"


def closed_pipe_run(binary: Path, ignore_sigpipe: bool) -> subprocess.CompletedProcess:
    """Runs `portmanager summary` writing into a pipe whose reader has already gone."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        preexec = (lambda: signal.signal(signal.SIGPIPE, signal.SIG_IGN)) if ignore_sigpipe else None
        return run_bytes(binary, b"summary", cwd=Path(__file__).resolve().parents[2], stdout=write_end,
                         preexec_fn=preexec)
    finally:
        os.close(write_end)


def test_a_closed_pipe_ends_quietly_as_sigpipe(binary):
    # Whether the caller left SIGPIPE alone or ignored it, the CLI ends as SIGPIPE
    # ends a process: no message, killed by SIGPIPE (a shell shows 141).
    for ignore in (False, True):
        result = closed_pipe_run(binary, ignore)
        assert result.returncode == -signal.SIGPIPE, (ignore, result.returncode, result.stderr)
        assert result.stderr == b""
