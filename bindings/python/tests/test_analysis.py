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
