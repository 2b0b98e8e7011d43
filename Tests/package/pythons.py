"""The Python interpreters the wheel is tested on: the oldest and the newest
CPython 3 minor version found on this machine at or above the wheel's
requires-python floor, wherever they are:

- `python3.X` on PATH (a pyenv shim that cannot run that version is skipped);
- pyenv's versions folder ($PYENV_ROOT, else ~/.pyenv): versions/3.X*/bin/python3.X.

Run as a script, it prints what it found, one "3.X PATH" a line.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

FLOOR = (3, 9)      # bindings/python/pyproject.toml: requires-python = ">=3.9"
NEWEST_TRIED = 20   # 3.9 .. 3.20


def _minor_of(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run([python, "-c", "import sys; print('%d %d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    major, minor = out.stdout.split()
    return int(major), int(minor)


def candidates() -> dict[str, Path]:
    """Every usable interpreter found, by "3.X" (the first found for each)."""
    found: dict[str, Path] = {}
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    for minor in range(FLOOR[1], NEWEST_TRIED + 1):
        name = f"python3.{minor}"
        paths = []
        on_path = shutil.which(name)
        if on_path:
            paths.append(on_path)
        paths += sorted(glob.glob(str(pyenv / f"3.{minor}.*" / "bin" / name)), reverse=True)
        for path in paths:
            if _minor_of(path) == (3, minor):
                found[f"3.{minor}"] = Path(path)
                break
    return found


def chosen() -> dict[str, Path]:
    """The oldest and the newest of candidates() (fewer when fewer were found)."""
    found = candidates()
    keys = sorted(found, key=lambda v: int(v.split(".")[1]))
    picked = [keys[0], keys[-1]] if len(keys) >= 2 else keys
    return {key: found[key] for key in picked}


if __name__ == "__main__":
    pythons = chosen()
    for version, path in pythons.items():
        print(version, path)
    sys.exit(0 if len(pythons) >= 2 else 1)
