"""One version, written in include/portmanager.h: every artifact reports the same."""
from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import CLI, LIBRARY, REPO, VERSION, artifact, clean_environment, header_macro


def test_header_macros_agree_with_each_other() -> None:
    parts = [int(header_macro(f"PM_VERSION_{part}")) for part in ("MAJOR", "MINOR", "PATCH")]
    assert VERSION == "{}.{}.{}".format(*parts)


def test_library_reports_the_header_version() -> None:
    library = ctypes.CDLL(str(artifact(LIBRARY, "lib")))
    library.pm_version_string.restype = ctypes.c_char_p
    library.pm_version_number.restype = ctypes.c_uint32
    library.pm_abi_version.restype = ctypes.c_uint32
    major, minor, patch = (int(p) for p in VERSION.split("."))
    assert library.pm_version_string().decode() == VERSION
    assert library.pm_version_number() == major * 10000 + minor * 100 + patch
    assert library.pm_abi_version() == int(header_macro("PM_ABI_VERSION"))


def test_cli_version_is_the_library_version() -> None:
    out = subprocess.run([str(artifact(CLI, "cli")), "--version"], env=clean_environment(),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == VERSION + "\n"


def test_pkg_config_file_has_the_header_version(tmp_path: Path) -> None:
    artifact(LIBRARY, "lib"), artifact(CLI, "cli")
    prefix = tmp_path / "prefix"
    install = subprocess.run(["scripts/install.sh", str(prefix)], cwd=REPO, env=clean_environment(),
                             capture_output=True, text=True, timeout=120)
    assert install.returncode == 0, install.stderr
    env = clean_environment(PKG_CONFIG_PATH=str(prefix / "lib" / "pkgconfig"))
    out = subprocess.run(["pkg-config", "--modversion", "portmanager"], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == VERSION
    assert (prefix / "lib" / f"libportmanager.so.{header_macro('PM_ABI_VERSION')}.{VERSION}").is_file()


def test_python_package_metadata_has_the_header_version(tmp_path: Path) -> None:
    """The wheel's metadata, its _version.py, and `portmanager.__version__` from a checkout."""
    env = clean_environment(PORTMANAGER_PREBUILT_LIB=str(artifact(LIBRARY, "lib")), PIP_DISABLE_PIP_VERSION_CHECK="1")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                            "-w", str(tmp_path), str(REPO / "bindings" / "python")],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = tmp_path.glob("portmanager-*.whl")
    assert wheel.name.startswith(f"portmanager-{VERSION}-")
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(f"portmanager-{VERSION}.dist-info/METADATA").decode()
        version_py = archive.read("portmanager/_version.py").decode()
    assert f"\nVersion: {VERSION}\n" in metadata
    assert f'__version__ = "{VERSION}"' in version_py
    checkout = subprocess.run([sys.executable, "-c", "import portmanager; print(portmanager.__version__)"],
                              env=dict(env, PYTHONPATH=str(REPO / "bindings" / "python" / "src")),
                              cwd=tmp_path, capture_output=True, text=True)
    assert checkout.returncode == 0, checkout.stderr
    assert checkout.stdout.strip() == VERSION
