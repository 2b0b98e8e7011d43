"""A fresh virtualenv: `pip install ./bindings/python`, then import and call from outside the repository."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

from conftest import REGISTRY, REPO

CODE = """
import pathlib, portmanager, sys
path = pathlib.Path(portmanager.library_path())
package = pathlib.Path(portmanager.__file__).parent
assert path.parent == package, (path, package)
assert str(package).startswith(sys.prefix), (package, sys.prefix)
assert (package / "py.typed").is_file()
pm = portmanager.PortManager(sys.argv[1])
print(pm.get_port("kafka", 1, "broker_port"), pm.container_name("kafka", 2), portmanager.abi_version())
try:
    pm.get_port("kafka", 1)
except KeyError as error:
    print(type(error).__name__)
"""


def test_pip_install_into_a_fresh_venv(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, symlinks=True).create(env_dir)
    python = env_dir / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTMANAGER", "PYTHON", "VIRTUAL_ENV"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    # Offline when the venv already has what the build needs; otherwise pip fetches setuptools and wheel.
    has_backend = subprocess.run(
        [str(python), "-c", "import setuptools, wheel; assert int(setuptools.__version__.split('.')[0]) >= 61"],
        env=env, capture_output=True,
    ).returncode == 0
    command = [str(python), "-m", "pip", "install", "--quiet", "./bindings/python"]
    if has_backend:
        command.insert(4, "--no-build-isolation")
    install = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stdout + install.stderr

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    run = subprocess.run([str(python), "-c", CODE, str(REGISTRY)], cwd=outside, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["9192", "kafka-development-2", "1", "UnknownPortError"]
