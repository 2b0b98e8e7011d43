"""make dist and make deb: what they hold, where, stripped; the Debian package
unpacked with dpkg -x builds bindings/c/pm-env through pkg-config; lintian finds
no errors."""
from __future__ import annotations

import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from conftest import BUILD, REPO, VERSION, artifact, clean_environment

MULTIARCH = subprocess.run(["gcc", "-print-multiarch"], capture_output=True, text=True).stdout.strip()
ARCH = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()
REAL = f"libportmanager.so.1.{VERSION}"

# Files below PREFIX that every installation holds (make install, make dist, make deb).
INSTALLED = [
    "bin/portmanager",
    "include/portmanager.h",
    "include/portmanager.sig",
    "share/portmanager/port_registry.yaml",
]


def is_stripped(path: Path) -> bool:
    sections = subprocess.run(["readelf", "-S", "-W", str(path)], capture_output=True, text=True, check=True).stdout
    return ".symtab" not in sections and ".debug_info" not in sections


def test_dist_tarball_is_laid_out_for_prefix(tmp_path: Path) -> None:
    tarball = artifact(BUILD / f"portmanager-{VERSION}.tar.gz", "dist")
    top = f"portmanager-{VERSION}"
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
        assert all(name == top or name.startswith(top + "/") for name in names), names
        assert {(m.uid, m.gid) for m in archive.getmembers()} == {(0, 0)}
        archive.extractall(tmp_path)
    root = tmp_path / top
    for name in INSTALLED + [f"lib/{REAL}", "lib/pkgconfig/portmanager.pc", "share/doc/portmanager/LICENSE"]:
        assert (root / name).is_file(), name
    assert (root / "lib" / "libportmanager.so.1").readlink() == Path(REAL)
    assert (root / "lib" / "libportmanager.so").readlink() == Path("libportmanager.so.1")
    pc = (root / "lib" / "pkgconfig" / "portmanager.pc").read_text()
    assert "prefix=/usr/local\n" in pc and f"Version: {VERSION}\n" in pc
    assert is_stripped(root / "bin" / "portmanager") and is_stripped(root / "lib" / REAL)
    out = subprocess.run([str(root / "bin" / "portmanager"), "--version"], env=clean_environment(),
                         capture_output=True, text=True, timeout=60)
    assert out.stdout == VERSION + "\n", out.stderr


def deb() -> Path:
    return artifact(BUILD / f"portmanager_{VERSION}_{ARCH}.deb", "deb")


def test_deb_fields_and_contents() -> None:
    fields = subprocess.run(["dpkg-deb", "--field", str(deb())], capture_output=True, text=True, check=True).stdout
    assert "Package: portmanager\n" in fields and f"Version: {VERSION}\n" in fields
    depends = [line for line in fields.splitlines() if line.startswith("Depends: ")]
    assert depends and "libc6" in depends[0] and "libyaml-0-2" in depends[0], fields
    listing = subprocess.run(["dpkg-deb", "--contents", str(deb())], capture_output=True, text=True, check=True).stdout
    for name in INSTALLED + [f"lib/{MULTIARCH}/{REAL}", f"lib/{MULTIARCH}/pkgconfig/portmanager.pc",
                             "share/doc/portmanager/copyright"]:
        assert f" ./usr/{name}" in listing, name
    assert " root/root " in listing and "/build/" not in listing


def test_deb_unpacked_builds_pm_env_through_pkg_config(tmp_path: Path) -> None:
    root = tmp_path / "root"
    subprocess.run(["dpkg", "-x", str(deb()), str(root)], check=True)
    libdir = root / "usr" / "lib" / MULTIARCH
    assert is_stripped(root / "usr" / "bin" / "portmanager") and is_stripped(libdir / REAL)
    env = clean_environment(PKG_CONFIG_PATH=str(libdir / "pkgconfig"), PKG_CONFIG_SYSROOT_DIR=str(root))
    env.pop("PKG_CONFIG_LIBDIR", None)
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "portmanager"], env=env,
                           capture_output=True, text=True, check=True).stdout.split()
    assert f"-I{root}/usr/include" in flags and f"-L{libdir}" in flags and "-lportmanager" in flags, flags
    registry = subprocess.run(["pkg-config", "--variable=registry", "portmanager"], env=env,
                              capture_output=True, text=True, check=True).stdout.strip()
    assert registry == f"{root}/usr/share/portmanager/port_registry.yaml"  # pkg-config adds the sysroot
    pm_env = tmp_path / "pm-env"
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", str(REPO / "bindings" / "c" / "pm-env.c"),
                    "-o", str(pm_env), *flags], env=env, check=True)
    run_env = clean_environment(LD_LIBRARY_PATH=str(libdir))
    loaded = subprocess.run(["ldd", str(pm_env)], env=run_env, capture_output=True, text=True, check=True).stdout
    assert f"libportmanager.so.1 => {libdir}/libportmanager.so.1" in loaded, loaded
    out = subprocess.run([str(pm_env), "--registry", registry, "kafka", "1"], env=run_env,
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "KAFKA_BROKER_PORT=9192" in out.stdout.splitlines()
    assert "KAFKA_CONTAINER_NAME=kafka-development-1" in out.stdout.splitlines()
    cli = subprocess.run([str(root / "usr" / "bin" / "portmanager"), "get", "kafka", "--instance", "1",
                          "--port", "broker_port", "--registry", registry],
                         env=clean_environment(), capture_output=True, text=True, timeout=60)
    assert cli.stdout == "9192\n", cli.stderr


def test_lintian_reports_no_errors() -> None:
    if shutil.which("lintian") is None:
        pytest.skip("lintian is not installed (apt-get install lintian; .ci/run installs it)")
    out = subprocess.run(["lintian", "--tag-display-limit", "0", str(deb())], capture_output=True, text=True, timeout=600)
    errors = [line for line in out.stdout.splitlines() if line.startswith("E: ")]
    assert errors == [], out.stdout
    assert out.returncode == 0, out.stdout + out.stderr
