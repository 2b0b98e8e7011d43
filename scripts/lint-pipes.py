#!/usr/bin/env python3
"""Refuses pipelines that fail at random under `set -o pipefail`.

A reader that stops early (`grep -q`, `grep -m N`, `grep -l`, `head`, `sed ...q`)
closes the pipe while the writer may still write; the writer dies of SIGPIPE and,
under pipefail, the whole pipeline fails although the reader found what it wanted.
Write `grep -q PATTERN <<< "$(cmd)"` instead.

Usage: scripts/lint-pipes.py [FILE|DIR ...]
       scripts/lint-pipes.py --self-test   (the lint refuses planted offences, passes the fixes)
(default: scripts/ .ci/ benchmarks/ bindings/ Tests/ and every Makefile).
Only files that mention pipefail are checked. Prints FILE:LINE for each
offending pipeline and exits 1 if there is any, 0 otherwise.
"""
from __future__ import annotations

import os
import re
import sys
from typing import Iterator, List

DEFAULT = ["scripts", ".ci", "benchmarks", "bindings", "Tests", "Makefile"]
SKIP_DIRS = {".build", "build", ".git", "__pycache__", ".pytest_cache", "node_modules", "dist"}

# A single `|` (not `||`), then a reader that exits before reading everything.
EARLY_READER = re.compile(
    r"""(?<![|])\|(?![|])\s*
        (?:
            grep\b(?:\s+(?!-)\S+)*?(?:[^|;&]*?\s)?(?:-[A-Za-z]*[qlmL][A-Za-z0-9]*|--quiet|--silent|--max-count\S*|--files-with(?:out)?-match\S*)(?=\s|$)
          | head\b
          | sed\s+(?:-n\s+)?['"]?[^|'"]*q['"]?(?=\s|$)
        )""",
    re.VERBOSE,
)


def files(paths: List[str]) -> Iterator[str]:
    for path in paths:
        if os.path.isdir(path):
            for folder, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
                for name in sorted(names):
                    yield os.path.join(folder, name)
        elif os.path.isfile(path):
            yield path


def offences(path: str) -> Iterator[int]:
    if os.path.abspath(path) == os.path.abspath(__file__):
        return  # this file names the patterns it refuses
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except (UnicodeDecodeError, OSError):
        return
    if not any("pipefail" in line for line in lines):
        return
    for number, line in enumerate(lines, 1):
        code = line.lstrip()
        if code.startswith("#"):
            continue
        if EARLY_READER.search(code):
            yield number


def self_test() -> int:
    """The lint must be able to fail: planted offences are found, their fixes are not."""
    import tempfile
    bar = "|"
    bad = [f"ldd x {bar} grep -q y", f"tail -n 1 log {bar} grep -Eq '^ok$'", f"ls {bar} head -1",
           f"ls {bar} grep -m1 x", f"ls {bar} grep --quiet x", f"ls {bar} sed 1q"]
    good = ['grep -q y <<< "$(ldd x)"', f"ldd x {bar} grep -E 'not found{bar}swift'", f"a {bar}{bar} grep -q b",
            f"# ldd x {bar} grep -q y", f"ls {bar} sed -n 1p"]
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "planted.sh")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("set -o pipefail\n" + "\n".join(bad + good) + "\n")
        found = list(offences(path))
    expected = list(range(2, 2 + len(bad)))
    if found != expected:
        print(f"FAIL: lint-pipes.py flagged lines {found} of a planted file, expected {expected}")
        return 1
    print(f"ok   lint-pipes.py refuses {len(bad)} planted early readers and accepts {len(good)} safe forms")
    return 0


def main(argv: List[str]) -> int:
    if argv == ["--self-test"]:
        return self_test()
    paths = argv or [p for p in DEFAULT if os.path.exists(p)]
    found = [(path, number) for path in files(paths) for number in offences(path)]
    for path, number in found:
        print(f"{path}:{number}: an early-exiting reader in a pipeline under pipefail "
              f"(the writer can die of SIGPIPE); use `grep -q PATTERN <<< \"$(cmd)\"`")
    return 1 if found else 0


if __name__ == "__main__":
    if not sys.argv[1:]:
        os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    sys.exit(main(sys.argv[1:]))
