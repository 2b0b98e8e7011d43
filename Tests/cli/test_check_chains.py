"""`portmanager check` on dense chains of overlapping ranges, and past the analysis limit.

The chained registry (100 services, each one range 10 wide at 1024+i,
increment 10, 6,000 instances: about 30 million overlapping pairs) once aborted
above 7.5 GB. It must be analysed in 1 GB of address space, and report the
chain as one grouped finding. A lattice past the documented limit is refused
with exit 2 and a message, never an abort.
"""
from __future__ import annotations

import json
import resource
import subprocess
from pathlib import Path

from conftest import FINDINGS, USAGE, clean_environment

ONE_GB = 1_000_000_000


def chained(services: int, instances: int = 6000) -> str:
    return "".join(
        f"s{i:03d}:\n  r_port: \"{1024 + i}-{1033 + i}\"\n  instance_increment: 10\n  max_instances: {instances}\n"
        for i in range(services)
    )


def check_limited(binary: Path, *args: str) -> subprocess.CompletedProcess:
    """Runs `portmanager check ARGS` with its address space limited to 1 GB (as `ulimit -v 1000000`)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (ONE_GB, ONE_GB))

    return subprocess.run([str(binary), "check", *args], env=clean_environment(), capture_output=True, text=True,
                          preexec_fn=limit, timeout=600)


def test_the_chained_registry_fits_in_one_gigabyte(binary: Path, tmp_path: Path) -> None:
    registry = tmp_path / "chained.yaml"
    registry.write_text(chained(100))
    result = check_limited(binary, "--registry", str(registry), "--ephemeral-range", "none")
    assert result.returncode == FINDINGS, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    # One grouped finding for the whole chain, not one per pair of services.
    assert len(lines) == 1, lines[:3]
    line = lines[0]
    assert line.startswith(f"{registry}:") and ": error: ranges of 100 ports overlap in a chain: " in line, line
    # Ranges of services i < j (bases d = j - i apart) overlap at instance offsets t with |10t + d| <= 9.
    pairs = sum(6000 - abs(t) for i in range(100) for j in range(i + 1, 100) for t in range(-11, 2)
                if abs(10 * t + (j - i)) <= 9)
    cover = [0] * 65537
    for i in range(100):
        for k in range(6000):
            cover[1024 + i + 10 * k] += 1
            cover[1034 + i + 10 * k] -= 1
    depth, shared = 0, []
    for port in range(65536):
        depth += cover[port]
        if depth >= 2:
            shared.append(port)
    assert shared == list(range(shared[0], shared[-1] + 1))
    assert f"s000 port 'r_port' instances 0-5999, s001 port 'r_port' instances 0-5999" in line, line
    assert f"and 96 more share host ports {shared[0]}-{shared[-1]} ({pairs} overlapping pairs of 600000 lattice points)" in line, line
    assert "for example s000 port 'r_port' instance 0 and s001 port 'r_port' instance 0 share host ports 1025-1033" in line
    assert "1 problem found" in result.stderr


def test_the_chain_as_json_counts_pairs_and_lists_examples(binary: Path, tmp_path: Path) -> None:
    registry = tmp_path / "chained.yaml"
    registry.write_text(chained(12, instances=50))
    result = check_limited(binary, "--registry", str(registry), "--ephemeral-range", "none", "--json")
    assert result.returncode == FINDINGS, result.stderr
    report = json.loads(result.stdout)
    assert report["errors"] == 1 and len(report["findings"]) == 1
    finding = report["findings"][0]
    chain = finding["chain"]
    assert [p["service"] for p in chain["ports"]] == [f"s{i:03d}" for i in range(12)]
    assert all(p["instances"] == 50 and p["first_instance"] == 0 and p["last_instance"] == 49 for p in chain["ports"])
    assert chain["points"] == 600 and chain["runs"] == 1 and chain["port_ranges"] == [[1025, 1533]]
    # Brute force: every pair of the 600 ranges that overlaps.
    spans = [(1024 + s + 10 * k, 1033 + s + 10 * k) for s in range(12) for k in range(50)]
    expected = sum(1 for i in range(len(spans)) for j in range(i + 1, len(spans))
                   if spans[i][0] <= spans[j][1] and spans[j][0] <= spans[i][1])
    assert chain["pairs"] == expected
    assert finding["host_ports"] == list(range(1025, 1534))
    assert 1 <= len(finding["occurrences"]) <= 8
    for occurrence in finding["occurrences"]:
        assert len(occurrence["members"]) == 2


def test_a_lattice_past_the_limit_is_refused_with_exit_2(binary: Path, tmp_path: Path) -> None:
    # 200 services x 60,000 instances = 12 million points, past the 10 million limit.
    registry = tmp_path / "huge.yaml"
    registry.write_text("".join(f"h{i:03d}:\n  port: {1024 + i}\n  instance_increment: 1\n  max_instances: 60000\n"
                                for i in range(200)))
    result = check_limited(binary, "--registry", str(registry), "--ephemeral-range", "none")
    assert result.returncode == USAGE, result.stdout[-2000:] + result.stderr[-2000:]
    assert result.stdout == ""
    assert "portmanager: error: the registry's lattice has 12000000 points" in result.stderr, result.stderr
    assert "more than the analysis limit of 10000000" in result.stderr
    assert "the largest service is 'h000' with 60000" in result.stderr
    json_result = check_limited(binary, "--registry", str(registry), "--ephemeral-range", "none", "--json")
    assert json_result.returncode == USAGE and "analysis limit" in json_result.stderr
