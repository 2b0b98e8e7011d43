"""Tests of what the project ships: the version every artifact reports, the
Python wheel, the release tarball and the Debian package.

They check the built artifacts (build/lib, build/bin, build/wheel, build/*.tar.gz,
build/*.deb); `make test-package` builds them first.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HEADER = REPO / "include" / "portmanager.h"
BUILD = REPO / "build"
LIBRARY = BUILD / "lib" / "libportmanager.so.1"
CLI = BUILD / "bin" / "portmanager"
REGISTRY = REPO / "dynamicconfig" / "port_registry.yaml"


def header_macro(name: str) -> str:
    """The value of `#define NAME VALUE` in include/portmanager.h, quotes removed."""
    prefix = f"#define {name} "
    lines = [line for line in HEADER.read_text(encoding="utf-8").splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, (name, lines)
    return lines[0][len(prefix):].strip().strip('"')


VERSION = header_macro("PM_VERSION_STRING")


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without PORTMANAGER_*, PYTHON* and venv settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTMANAGER_", "PYTHON", "VIRTUAL_ENV"))}
    env["SWIFT_BACKTRACE"] = "enable=no"
    env.update(extra)
    return env


def artifact(path: Path, make_target: str) -> Path:
    """`path`, failing the test with the make target that builds it when it is missing."""
    if not path.exists():
        pytest.fail(f"{path} is missing; run `make {make_target}` (or `make test-package`)")
    return path
