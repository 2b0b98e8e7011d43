"""The status numbers are written once, in include/portmanager.h: errors.py reads them from the library."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import portmanager
from portmanager import _lib, errors

SOURCE = Path(errors.__file__).read_text(encoding="utf-8")


def test_errors_py_writes_no_status_number() -> None:
    # Neither a class's `STATUS = 6` nor a `6: "PM_ERR_..."` table: the names are the header's
    # enumerators, the numbers come from pm_status_str.
    assert not re.search(r"^\s*STATUS\s*=\s*\d", SOURCE, re.M)
    assert not re.search(r"\d+\s*:\s*[\"']PM_", SOURCE)
    assert not re.search(r"``PM_\w+`` \(\d+\)", SOURCE)


def test_numbers_and_names_come_from_the_library() -> None:
    count = len(portmanager.STATUS_NAMES)
    assert count >= 17
    assert dict(portmanager.STATUS_NAMES) == {value: _lib.status_name(value) for value in range(count)}
    assert _lib.status_name(count) == "PM_ERR_UNKNOWN_STATUS"
    for cls in errors._CLASSES:
        assert _lib.status_name(cls.STATUS) == cls.STATUS_NAME, cls
        assert type(errors.error_for_status(cls.STATUS, "m")) is cls
    assert portmanager.PortManagerError.STATUS is None
    # Every status but PM_OK and the retired PM_ERR_LEASED has its class.
    assert sorted(cls.STATUS_NAME for cls in errors._CLASSES) == sorted(
        name for name in portmanager.STATUS_NAMES.values() if name not in ("PM_OK", "PM_ERR_LEASED"))


def test_import_makes_no_status_call() -> None:
    # `import portmanager` stays cheap: the table is read on first use, not at import.
    code = "import portmanager, portmanager.errors as e; print(e._names is None, e._classes is None)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**__import__("os").environ, "PYTHONPATH": str(Path(errors.__file__).parents[1])})
    assert result.stdout.split() == ["True", "True"], result.stderr
