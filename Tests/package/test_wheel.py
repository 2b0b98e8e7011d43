"""The one Python wheel (make wheel): tagged py3-none-manylinux, installed into
fresh venvs of the oldest and the newest Python found on this machine
(Tests/package/pythons.py says where it looks; `make test-package` prints which), run with the checkout, the Swift toolchain,
libyaml and the system's SQLite hidden, passes the original spec's examples
(bindings/python/tests/test_seed_examples.py; README, "The original spec") with the SQLite
the wheel bundles (auditwheel copies libsqlite3.so.0 into portmanager.libs/).

Hiding: the run happens in a private mount namespace (`unshare -m`, root or user
namespaces), where an empty directory is bind-mounted over the checkout and over
the Swift toolchain (found as scripts/swift-env.sh finds it), and an empty file over every libyaml and libsqlite3 shared object the
dynamic loader knows (`ldconfig -p`, symlinks resolved). An empty file cannot be loaded, whatever
the search path, so nothing can reach libyaml; LD_LIBRARY_PATH tricks could not
hide a library from the default search directories. Each namespace is gone when
its process exits.

pytest for each interpreter comes from .build/test-wheels/pyX.Y, which the
interpreter's own pip fills once; installs use --no-index. With fewer than two
interpreters found, the tests fail when CI=true and are skipped, with that
message, elsewhere.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from conftest import BUILD, HEADER, REGISTRY, REPO, VERSION, artifact, clean_environment
from pythons import chosen

PYTHONS = chosen()
TEST_WHEELS = REPO / ".build" / "test-wheels"
PYTEST_REQUIREMENT = "pytest>=7"

HIDE_AND_RUN = r"""
set -eu
empty_dir=$1 empty_file=$2 repo=$3 toolchain=$4; shift 4
mount --bind "$empty_dir" "$repo"
[ -z "$toolchain" ] || [ ! -d "$toolchain" ] || mount --bind "$empty_dir" "$toolchain"
for library in $(ldconfig -p | sed -n 's/^[[:space:]]*\(libyaml\|libsqlite3\)[^ ]* .* => //p'); do
  mount --bind "$empty_file" "$(readlink -f "$library")"
done
exec "$@"
"""

PROBE = """
import ctypes, os, pathlib, sys
import portmanager
for system_library in ("libyaml-0.so.2", "libsqlite3.so.0"):
    try:
        ctypes.CDLL(system_library)
        sys.exit(system_library + " is still loadable")
    except OSError:
        pass
# The SQLite in use is the wheel's own copy.
with open("/proc/self/maps") as maps:
    sqlite = {line.split()[-1] for line in maps if "libsqlite3" in line}
assert sqlite and all("/portmanager.libs/" in path for path in sqlite), sqlite
for hidden in sys.argv[1:]:
    assert not os.listdir(hidden), hidden + " is not hidden"
library = pathlib.Path(portmanager.library_path())
assert library.parent == pathlib.Path(portmanager.__file__).parent, library
assert str(library).startswith(sys.prefix), (library, sys.prefix)
print("%d.%d" % sys.version_info[:2], portmanager.__version__, portmanager.library_version())
"""


def swift_toolchain() -> str:
    """The Swift toolchain's root directory by the rule of scripts/swift-env.sh ("" for none or the system's)."""
    found = run(["bash", "-c", '. scripts/swift-env.sh && printf %s "$SWIFT_TOOLCHAIN"'], cwd=REPO)
    return found.stdout


def the_wheel() -> Path:
    wheels = sorted((BUILD / "wheel").glob("portmanager-*.whl"))
    if len(wheels) != 1:
        pytest.fail(f"expected one wheel in {BUILD / 'wheel'}, found {[w.name for w in wheels]}; run `make wheel`")
    return wheels[0]


def interpreter(which: int) -> tuple[Path, str]:
    """The oldest (0) or the newest (1) Python found, and its "3.X"."""
    if len(PYTHONS) < 2:
        message = (f"the wheel is tested on two Python versions, and only {sorted(PYTHONS) or 'none'} was found "
                   "(python3.X on PATH or under pyenv's versions; Tests/package/pythons.py)")
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    minor, python = list(PYTHONS.items())[which]
    return python, minor


def run(command: list, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


def pytest_wheels(python: Path, minor: str) -> Path:
    """A folder of wheels from which `pip --no-index` installs pytest for this interpreter."""
    folder = TEST_WHEELS / f"py{minor}"
    if not any(folder.glob("pytest-*.whl")):
        folder.mkdir(parents=True, exist_ok=True)
        run([python, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "-d", folder, PYTEST_REQUIREMENT],
            env=clean_environment(PIP_DISABLE_PIP_VERSION_CHECK="1"), timeout=600)
    return folder


def test_one_wheel_tagged_py3_none_manylinux() -> None:
    wheel = artifact(the_wheel(), "wheel")
    assert wheel.name.startswith(f"portmanager-{VERSION}-py3-none-manylinux_") and wheel.name.endswith("_x86_64.whl")
    plat = wheel.name[len(f"portmanager-{VERSION}-py3-none-"):-len(".whl")]
    show = run(["python3", "-m", "auditwheel", "show", wheel])
    assert f'consistent\nwith the following platform tag: "{plat}"' in show.stdout, show.stdout
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        wheel_info = archive.read(f"portmanager-{VERSION}.dist-info/WHEEL").decode()
    assert "portmanager/libportmanager.so.1" in names
    # The CLI behind the `portmanager` console script, and the default registry it and the binding find.
    assert "portmanager/bin/portmanager" in names and "portmanager/share/portmanager/port_registry.yaml" in names
    assert [name for name in names if name.endswith("/entry_points.txt")], names
    # SQLite is not part of the manylinux policy: the wheel carries its own.
    assert [name for name in names if name.startswith("portmanager.libs/libsqlite3")], names
    assert f"Tag: py3-none-{plat}" in wheel_info.splitlines()
    assert "Root-Is-Purelib: false" in wheel_info.splitlines()


@pytest.mark.parametrize("which", [0, 1], ids=["oldest-python", "newest-python"])
def test_wheel_runs_the_original_spec_examples_with_checkout_and_libyaml_hidden(tmp_path: Path, which: int) -> None:
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-m", "true"]).returncode != 0:
        pytest.fail("cannot create a mount namespace (unshare -m) to hide libyaml and the checkout")
    python, minor = interpreter(which)
    dist = tmp_path / "dist"
    dist.mkdir()
    wheel = Path(shutil.copy(the_wheel(), dist))
    venv = tmp_path / "venv"
    run([python, "-m", "venv", "--without-pip", venv], timeout=120)
    env = clean_environment(PIP_DISABLE_PIP_VERSION_CHECK="1")
    run([python, "-m", "pip", "--python", venv / "bin" / "python", "install", "--quiet", "--no-index",
         "--find-links", pytest_wheels(python, minor), wheel, PYTEST_REQUIREMENT],
        env=env, cwd=tmp_path, timeout=600)

    # The original spec's examples with their conftest, the registry and the header, away from the checkout.
    copy = tmp_path / "copy"
    tests = copy / "bindings" / "python" / "tests"
    tests.mkdir(parents=True)
    for name in ("conftest.py", "test_seed_examples.py"):
        shutil.copy(REPO / "bindings" / "python" / "tests" / name, tests)
    (copy / "dynamicconfig").mkdir()
    shutil.copy(REGISTRY, copy / "dynamicconfig")
    (copy / "include").mkdir()
    shutil.copy(HEADER, copy / "include")
    empty_dir, empty_file = tmp_path / "empty", tmp_path / "empty.so"
    empty_dir.mkdir()
    empty_file.write_bytes(b"")

    toolchain = swift_toolchain()
    hide = ["unshare", "-m", "/bin/sh", "-c", HIDE_AND_RUN, "sh", empty_dir, empty_file, REPO, toolchain]
    hidden = [REPO] + ([toolchain] if toolchain else [])
    probe = run(hide + [venv / "bin" / "python", "-c", PROBE, *hidden], env=env, cwd=copy, timeout=120)
    assert probe.stdout.split() == [minor, VERSION, VERSION], probe.stdout
    tested = run(hide + [venv / "bin" / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                         "bindings/python/tests/test_seed_examples.py"],
                 env=dict(env, PORTMANAGER_TEST_INSTALLED="1"), cwd=copy, timeout=300)
    assert " passed" in tested.stdout and "failed" not in tested.stdout, tested.stdout

    # Outside any checkout, with no registry of the user's: the `portmanager` command and the
    # README's Python example find the registry shipped in the wheel.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    alone = dict(env, HOME=str(elsewhere), XDG_CONFIG_HOME=str(elsewhere), PORTMANAGER_STATE_DIR=str(tmp_path / "state"))
    got = run(hide + [venv / "bin" / "portmanager", "get", "kafka", "--instance", "1", "--port", "broker_port"],
              env=alone, cwd=elsewhere, timeout=120)
    assert got.stdout.strip() == "9192", got.stdout
    assert run(hide + [venv / "bin" / "portmanager", "--version"], env=alone, cwd=elsewhere).stdout.strip() == VERSION
    example = readme_python_example()
    ran = run(hide + [venv / "bin" / "python", "-c", example + "\nprint('example ran')"], env=alone, cwd=elsewhere,
              timeout=120)
    assert ran.stdout.strip().endswith("example ran"), ran.stdout


def readme_python_example() -> str:
    """The first ```python block under README.md's "## Python" heading."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("```python\n", text.index("\n## Python\n")) + len("```python\n")
    return text[start:text.index("```", start)]
