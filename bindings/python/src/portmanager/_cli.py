"""The ``portmanager`` command a wheel installs: it runs the portmanager CLI
shipped inside the package (``portmanager/bin/portmanager``, the same binary
as ``make cli`` builds), with the same arguments, exit status and output.
The CLI finds the registry shipped beside it (``portmanager/share/portmanager``)
last, as an installed CLI finds its PREFIX/share/portmanager one."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

CLI = Path(__file__).resolve().parent / "bin" / "portmanager"


def main() -> NoReturn:
    """Replaces this process with the shipped CLI."""
    if not os.access(CLI, os.X_OK):
        sys.stderr.write(f"portmanager: {CLI} is missing: this installation of the Python package has no CLI "
                         "(an editable install uses the checkout's build/bin/portmanager)\n")
        sys.exit(2)
    os.execv(str(CLI), [str(CLI), *sys.argv[1:]])
