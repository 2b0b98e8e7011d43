"""The binding's numbers come from include/portmanager.h: _header.py is
generated from it by scripts/gen-header-py.py, and this fails when the header
changed and the file was not regenerated."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_header_constants_are_generated_from_the_header() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen-header-py.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_binding_uses_them() -> None:
    from portmanager import _header, _log, _reservations, _states

    assert _reservations.RESERVE_ADOPT == _header.PM_RESERVE_ADOPT
    assert _states.RECONCILE_DRY_RUN == _header.PM_RECONCILE_DRY_RUN
    assert _log.LOG_OFF == _header.PM_LOG_OFF
