"""What the documentation promises a user, checked against the artifacts: the
man page's examples, the documentation installed where --help points, the
pkg-config file naming SQLite, the rpath advice for a non-standard prefix, and
the Swift dependency snippet under any checkout folder name."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from conftest import BUILD, CLI, REPO, VERSION, artifact, clean_environment

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def documented(pattern: str) -> str:
    """The first match of `pattern` in README.md or docs/*.md (the docs may move; the fact stays)."""
    for path in DOCS:
        found = re.search(pattern, path.read_text(encoding="utf-8"), re.MULTILINE)
        if found:
            return found.group(0)
    pytest.fail(f"no documentation file matches {pattern!r}")


def test_man_page_examples_are_literal_and_unhyphenated() -> None:
    page = artifact(BUILD / "man" / "portmanager.1", "man").read_text(encoding="utf-8")
    assert ".nh" in page.splitlines()
    literal = False
    examples = 0
    for line in page.splitlines():
        if line.startswith(".Bd -literal"):
            literal = True
        elif line == ".Ed":
            literal = False
        elif re.match(r"\s*portmanager (summary|list|get|names|env|compose|check|reserve|release|renew|bind|status|reconcile|run|probe)\b", line):
            assert literal, f"example outside a literal display: {line!r}"
            examples += 1
    assert examples > 20


def test_help_points_to_installed_docs(tmp_path: Path) -> None:
    text = subprocess.run([str(CLI), "--help"], capture_output=True, text=True, env=clean_environment()).stdout
    assert "docs/json.md" not in text and "share/doc/portmanager/json.md" in text
    with tarfile.open(artifact(BUILD / f"portmanager-{VERSION}.tar.gz", "dist")) as archive:
        names = archive.getnames()
    assert f"portmanager-{VERSION}/share/doc/portmanager/json.md" in names


def test_pkg_config_names_sqlite() -> None:
    with tarfile.open(artifact(BUILD / f"portmanager-{VERSION}.tar.gz", "dist")) as archive:
        pc = archive.extractfile(f"portmanager-{VERSION}/lib/pkgconfig/portmanager.pc").read().decode()
    private = [line for line in pc.splitlines() if line.startswith(("Libs.private:", "Requires.private:"))]
    assert any("sqlite3" in line for line in private), pc


def test_rpath_advice_builds_a_program_that_runs_from_a_non_standard_prefix(tmp_path: Path) -> None:
    command = documented(r"^cc app\.c .*-Wl,-rpath,.*$")
    prefix = tmp_path / "prefix"
    installed = subprocess.run(["make", "--no-print-directory", "install", f"PREFIX={prefix}"], cwd=REPO,
                               capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    (tmp_path / "app.c").write_text('#include <stdio.h>\n#include <portmanager.h>\n'
                                    'int main(void) { printf("%s\\n", pm_version_string()); return 0; }\n')
    env = clean_environment(PKG_CONFIG_PATH=str(prefix / "lib" / "pkgconfig"))
    env.pop("LD_LIBRARY_PATH", None)
    built = subprocess.run(["bash", "-c", command + " -o app"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    ran = subprocess.run([str(tmp_path / "app")], env=env, capture_output=True, text=True)
    assert ran.returncode == 0 and ran.stdout.strip() == VERSION, ran.stderr
    # Without the rpath the same program does not find the library: the advice matters.
    bare = command.split(" -Wl,-rpath")[0]
    subprocess.run(["bash", "-c", bare + " -o bare"], cwd=tmp_path, env=env, check=True)
    assert subprocess.run([str(tmp_path / "bare")], env=env, capture_output=True).returncode != 0


def test_swift_dependency_snippet_works_under_any_folder_name(tmp_path: Path) -> None:
    package_line = documented(r'\.package\(name: "portmanager", path: "[^"]*"\)')
    product_line = documented(r'\.product\(name: "PortManager", package: "portmanager"\)')
    (tmp_path / "not-portmanager").symlink_to(REPO)
    app = tmp_path / "app"
    (app / "Sources" / "app").mkdir(parents=True)
    package = re.sub(r'path: "[^"]*"', 'path: "../not-portmanager"', package_line)
    (app / "Package.swift").write_text(
        "// swift-tools-version:6.0\nimport PackageDescription\nlet package = Package(name: \"app\",\n"
        f"    dependencies: [{package}],\n"
        f"    targets: [.executableTarget(name: \"app\", dependencies: [{product_line}])])\n")
    (app / "Sources" / "app" / "main.swift").write_text("import PortManager\n")
    swift = shutil.which("swift", path=clean_environment()["PATH"])
    if swift is None:
        pytest.fail("swift is not on PATH (make test-package puts it there)")
    described = subprocess.run([swift, "package", "--scratch-path", str(tmp_path / "scratch"), "describe"],
                               cwd=app, capture_output=True, text=True, timeout=300, env=clean_environment())
    assert described.returncode == 0, described.stdout + described.stderr


def test_no_development_machine_path_in_shipped_text() -> None:
    """README, CHANGELOG and docs/ ship in the tarball and the deb, bindings/python/README.md in the wheel."""
    machine_paths = re.compile(r"/opt/swift|/root/|/work/|\.pyenv")
    shipped = [REPO / "README.md", REPO / "CHANGELOG.md", REPO / "bindings" / "python" / "README.md",
               *sorted((REPO / "docs").rglob("*.md"))]
    found = [f"{path.relative_to(REPO)}:{number}: {line.strip()}"
             for path in shipped
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if machine_paths.search(line)]
    assert not found, "\n".join(found)


def test_generated_docs_are_current() -> None:
    """The lists docs/ derives from the code (the registry search order, ...) match
    what the built CLI prints: scripts/gen-docs.py writes them, --check compares."""
    result = subprocess.run([str(REPO / "scripts" / "gen-docs.py"), "--check", str(CLI)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
