"""Build hook: ships a self-contained libportmanager.so.1 inside the package.

`pip install ./bindings/python` (from the repository) runs this. The library is
taken, in order, from:

1. ``$PORTMANAGER_PREBUILT_LIB``: a libportmanager.so.1 built elsewhere;
2. the checkout's ``build/lib/libportmanager.so.1``, first (re)built with
   ``scripts/build.sh lib`` when it is missing or older than any Swift source,
   the header, the linker map or Package.swift.

The package's version is ``PM_VERSION_STRING`` of include/portmanager.h (the
one place it is written); the built package's ``_version.py`` holds it.

The wheel holds native code but no CPython extension (ctypes loads the library),
so it is tagged ``py3-none-<platform>``: one wheel for every CPython 3.
``scripts/build-wheel.sh`` (``make wheel``) then runs ``auditwheel repair``,
which checks the library against the manylinux policies, retags the wheel
``py3-none-manylinux_…_x86_64`` and bundles any non-system library it needs
(none today: libyaml is linked statically).

No sdist is published: building needs the whole repository (Swift, found
as scripts/swift-env.sh finds it, and libyaml-dev), and ``python setup.py sdist`` says so.
Everything else about the package is in pyproject.toml.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist
from setuptools.dist import Distribution

try:  # setuptools >= 70.1 has its own; older ones use the wheel package's
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:
    from wheel.bdist_wheel import bdist_wheel

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
LIBRARY = REPO / "build" / "lib" / "libportmanager.so.1"
CLI = REPO / "build" / "bin" / "portmanager"
REGISTRY = REPO / "dynamicconfig" / "port_registry.yaml"
HEADER = REPO / "include" / "portmanager.h"
SONAME = "libportmanager.so.1"


def header_version() -> str:
    """``PM_VERSION_STRING`` of the checkout's include/portmanager.h."""
    if not HEADER.is_file():
        raise SystemExit(
            f"cannot build the portmanager Python package: {HEADER} does not exist. The package is built "
            "from a checkout of the portmanager repository (it needs Swift, found as scripts/swift-env.sh finds it, and libyaml-dev); "
            "no sdist is published. Install the wheel, or run `pip install ./bindings/python` in a checkout."
        )
    for line in HEADER.read_text(encoding="utf-8").splitlines():
        if line.startswith("#define PM_VERSION_STRING "):
            return line.split('"')[1]
    raise SystemExit(f"{HEADER} has no PM_VERSION_STRING")


def _inputs() -> Iterator[Path]:
    """Every file the library is built from."""
    for folder in ("Sources", "include"):
        yield from (path for path in (REPO / folder).rglob("*") if path.is_file())
    for name in ("Package.swift", "scripts/libportmanager.map", "scripts/build.sh"):
        yield REPO / name


def _stale() -> bool:
    if not LIBRARY.exists():
        return True
    built = LIBRARY.stat().st_mtime
    return any(path.stat().st_mtime > built for path in _inputs() if path.exists())


def find_library() -> Path:
    """A fresh self-contained libportmanager.so.1 to ship (see the module docstring)."""
    prebuilt = os.environ.get("PORTMANAGER_PREBUILT_LIB", "")
    if prebuilt:
        path = Path(prebuilt)
        if not path.is_file():
            raise SystemExit(f"PORTMANAGER_PREBUILT_LIB={prebuilt}: no such file")
        return path
    script = REPO / "scripts" / "build.sh"
    if not script.is_file():
        raise SystemExit(
            f"cannot build libportmanager: {script} does not exist (not a checkout of the repository). "
            "Set PORTMANAGER_PREBUILT_LIB to a built libportmanager.so.1."
        )
    if _stale():
        print(f"building libportmanager with {script} lib", flush=True)
        subprocess.run(["bash", str(script), "lib"], cwd=str(REPO), check=True)
    if not LIBRARY.is_file():
        raise SystemExit(f"{script} lib did not produce {LIBRARY}")
    return LIBRARY


class BuildWithLibrary(build_py):
    """build_py that also copies libportmanager.so.1 into the built package and
    writes the header's version into its _version.py."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install loads the checkout's build/lib copy and reads the header
        version_file = Path(self.build_lib) / "portmanager" / "_version.py"
        version_file.write_text(
            '"""The package\'s version: PM_VERSION_STRING of include/portmanager.h, written by setup.py."""\n\n'
            f'__version__ = "{header_version()}"\n'
        )
        target = Path(self.build_lib) / "portmanager" / SONAME
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(find_library(), target)
        target.chmod(0o755)
        # The CLI (the `portmanager` console script runs it) and the default
        # registry, laid out as PREFIX/bin and PREFIX/share so the CLI finds it.
        cli = Path(os.environ.get("PORTMANAGER_PREBUILT_CLI") or CLI)
        if not cli.is_file():
            raise SystemExit(f"{cli} is missing: run `make cli` (or set PORTMANAGER_PREBUILT_CLI)")
        shipped_cli = Path(self.build_lib) / "portmanager" / "bin" / "portmanager"
        shipped_cli.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cli, shipped_cli)
        subprocess.run(["strip", "--remove-section=.comment", "--remove-section=.note", str(shipped_cli)], check=True)
        shipped_cli.chmod(0o755)
        registry = Path(self.build_lib) / "portmanager" / "share" / "portmanager" / "port_registry.yaml"
        registry.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REGISTRY, registry)


class PlatformWheel(bdist_wheel):
    """Tags the wheel ``py3-none-<platform>``: the package is pure Python over
    ctypes, so any CPython 3 can use it, but the library inside is native."""

    def get_tag(self) -> tuple[str, str, str]:
        _, _, platform = super().get_tag()
        return "py3", "none", platform


class NoSdist(sdist):
    """Refuses to build an sdist, with what to do instead."""

    def run(self) -> None:
        raise SystemExit(
            "portmanager publishes no sdist: the package ships libportmanager.so.1, which is built from the "
            "whole repository (Swift, found as scripts/swift-env.sh finds it, and libyaml-dev). Install the wheel (`make wheel` builds "
            "build/wheel/portmanager-*.whl), or run `pip install ./bindings/python` in a checkout."
        )


class BinaryDistribution(Distribution):
    """Marks the distribution as holding native code, so the wheel gets a platform tag."""

    def has_ext_modules(self) -> bool:
        return True


setup(
    version=header_version(),
    cmdclass={"build_py": BuildWithLibrary, "bdist_wheel": PlatformWheel, "sdist": NoSdist},
    distclass=BinaryDistribution,
)
