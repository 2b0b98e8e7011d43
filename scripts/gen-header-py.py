#!/usr/bin/env python3
"""Writes bindings/python/src/portmanager/_header.py: the numbers of
include/portmanager.h that the Python binding passes to the library (every
enum constant and PM_ABI_VERSION), so the header stays the one place they are
written and Python reads them from a file made from it.

    scripts/gen-header-py.py          rewrite the file
    scripts/gen-header-py.py --check  exit 1, naming the file, when it is stale

bindings/python/tests/test_header_constants.py runs --check.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = ROOT / "include" / "portmanager.h"
OUTPUT = ROOT / "bindings" / "python" / "src" / "portmanager" / "_header.py"


def generate() -> str:
    text = re.sub(r"/\*.*?\*/", "", HEADER.read_text(encoding="utf-8"), flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    lines = [
        '"""The numbers of include/portmanager.h the binding passes to the library:',
        "generated from the header by scripts/gen-header-py.py (do not edit; the",
        'python suite fails when this file is stale)."""',
        "",
    ]
    abi = re.search(r"#define\s+PM_ABI_VERSION\s+(\d+)", text)
    if not abi:
        sys.exit("gen-header-py.py: no PM_ABI_VERSION in include/portmanager.h")
    lines += [f"PM_ABI_VERSION = {abi.group(1)}"]
    enums = re.findall(r"typedef\s+enum\s+(\w+)\s*\{(.*?)\}\s*\w+\s*;", text, flags=re.S)
    if not enums:
        sys.exit("gen-header-py.py: no enum in include/portmanager.h")
    for name, body in enums:
        lines += ["", f"# enum {name}"]
        for constant, value in re.findall(r"(\w+)\s*=\s*(-?\d+)", body):
            lines.append(f"{constant} = {value}")
    return "\n".join(lines) + "\n"


def main() -> int:
    wanted = generate()
    current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
    if "--check" in sys.argv[1:]:
        if current != wanted:
            print(f"gen-header-py.py: {OUTPUT.relative_to(ROOT)} is stale; run scripts/gen-header-py.py")
            return 1
        return 0
    if current != wanted:
        OUTPUT.write_text(wanted, encoding="utf-8")
        print(f"gen-header-py.py: wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
