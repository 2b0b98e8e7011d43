"""PortManager.analyze(): the library's whole-lattice analysis (pm_analyze and friends)."""

from __future__ import annotations

import pytest

import portmanager

COLLIDING = "a1:\n  port: 5000\nb1:\n  port: 5100\n"


def test_the_shipped_registry_is_conflict_free(pm: portmanager.PortManager) -> None:
    analysis = pm.analyze(ephemeral_range=None)
    assert analysis.conflict_free and analysis.errors == 0
    assert analysis.total == len(analysis.findings) == analysis.errors + analysis.warnings + sum(
        f.severity == "note" for f in analysis.findings)
    report = analysis.to_dict()
    assert report["errors"] == 0 and report["source"] == pm.source


def test_a_collision_is_an_error_with_location_and_fix() -> None:
    with portmanager.PortManager.from_yaml(COLLIDING, source="c.yaml") as pm:
        analysis = pm.analyze(ephemeral_range=(40000, 50000), reserved_ports="")
    assert not analysis.conflict_free
    assert (analysis.total, analysis.errors, analysis.warnings) == (1, 1, 0)
    finding = analysis.findings[0]
    assert finding.severity == "error"
    assert finding.text.startswith("c.yaml:4:3: error: ") and "5100" in finding.text and "; fix: " in finding.text
    assert analysis.to_dict()["findings"][0]["severity"] == "error"


def test_the_ephemeral_range_is_checked() -> None:
    with portmanager.PortManager.from_yaml("web:\n  port: 45000\n  max_instances: 2\n") as pm:
        assert pm.analyze(ephemeral_range=(40000, 50000)).warnings == 1
        assert pm.analyze(ephemeral_range=(40000, 50000), reserved_ports="45000-45100").warnings == 0
        assert pm.analyze(ephemeral_range=None).warnings == 0


def test_bad_analysis_arguments(pm: portmanager.PortManager) -> None:
    with pytest.raises(portmanager.InvalidArgumentError, match="5-1"):
        pm.analyze(ephemeral_range=(5, 1))
    with pytest.raises(portmanager.InvalidArgumentError, match="'x'"):
        pm.analyze(ephemeral_range=(1, 2), reserved_ports="x")
    with pytest.raises(TypeError, match="ephemeral_range"):
        pm.analyze(ephemeral_range=[1, 2])  # type: ignore[arg-type]


def _chained(services: int, instances: int) -> str:
    return "".join(
        f"s{i:03d}:\n  r_port: \"{1024 + i}-{1033 + i}\"\n  instance_increment: 10\n  max_instances: {instances}\n"
        for i in range(services)
    )


def test_a_dense_chain_is_one_grouped_finding() -> None:
    # 100 ranges 10 wide, bases 1 apart, 600 instances each: 6 million overlapping pairs, one finding.
    with portmanager.PortManager.from_yaml(_chained(100, 600), source="chained.yaml") as pm:
        analysis = pm.analyze(ephemeral_range=None)
    assert (analysis.total, analysis.errors) == (1, 1)
    assert "ranges of 100 ports overlap in a chain" in analysis.findings[0].text
    finding = analysis.to_dict()["findings"][0]
    assert finding["chain"]["points"] == 60000 and len(finding["chain"]["ports"]) == 100
    assert finding["chain"]["pairs"] > 5_000_000 and len(finding["occurrences"]) <= 8


def test_a_lattice_past_the_limit_raises_too_large() -> None:
    # 200 services x 60,000 instances = 12 million points, past the 10 million limit.
    yaml = "".join(f"h{i:03d}:\n  port: {1024 + i}\n  instance_increment: 1\n  max_instances: 60000\n" for i in range(200))
    with portmanager.PortManager.from_yaml(yaml, source="huge.yaml") as pm:
        with pytest.raises(portmanager.TooLargeError, match="12000000 points") as raised:
            pm.analyze(ephemeral_range=None)
    assert raised.value.status == 13 and raised.value.status_name == "PM_ERR_TOO_LARGE"
    assert "analysis limit of 10000000" in str(raised.value) and "'h000'" in str(raised.value)
