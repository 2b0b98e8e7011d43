"""The binding's type hints hold: ``mypy --strict`` finds nothing in bindings/python/src.

mypy is pinned in Tests/requirements.txt. It checks for Python 3.10, the oldest
version this mypy can target (the package itself supports 3.9). Its cache is
kept under .build, outside the source tree.
"""

from __future__ import annotations

import subprocess
import sys

from conftest import BINDING, REPO


def test_mypy_strict_finds_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--python-version", "3.10",
         "--cache-dir", str(REPO / ".build" / "mypy-cache"), "src"],
        cwd=BINDING, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout, result.stdout
