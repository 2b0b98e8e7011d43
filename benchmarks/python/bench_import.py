#!/usr/bin/env python3
"""`import portmanager` against `import yaml` (PyYAML), side by side in one run.

Each sample is a fresh interpreter started with -S (no site module, so no .pth
file imports anything first) and -E, whose sys.path is set by hand to the
checkout's bindings/python/src and this interpreter's site-packages; the time is
taken inside it with perf_counter around the one import statement, so it covers
everything the import does (for portmanager: loading libportmanager.so.1 and
checking its ABI) and nothing of the interpreter's start-up. Samples of the two
are interleaved, so a busy machine slows both alike; the best and the median of
each are printed, with their ratio (goal: portmanager <= 1.00x yaml).

Usage: python3 benchmarks/python/bench_import.py [--rounds N]   (after `make lib`)
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "bindings" / "python" / "src"

PROGRAM = """
import sys
sys.path[:0] = {path!r}
from time import perf_counter
start = perf_counter()
import {module}
print(perf_counter() - start)
"""


def sample(module: str) -> float:
    path = [str(SOURCE), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    out = subprocess.run([sys.executable, "-S", "-E", "-c", PROGRAM.format(path=path, module=module)],
                         capture_output=True, text=True, check=True)
    return float(out.stdout) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"portmanager": [], "yaml": []}
    for _ in range(args.rounds):
        for module in times:
            times[module].append(sample(module))
    best = {m: min(v) for m, v in times.items()}
    median = {m: statistics.median(v) for m, v in times.items()}
    print(f"import time, {args.rounds} interleaved fresh interpreters each (python {sys.version.split()[0]})")
    print(f"{'':14}{'best':>10}{'median':>10}")
    for module in times:
        print(f"{module:14}{best[module]:8.2f}ms{median[module]:8.2f}ms")
    print(f"{'ratio':14}{best['portmanager'] / best['yaml']:9.2f}x{median['portmanager'] / median['yaml']:9.2f}x"
          "   (portmanager / yaml; goal <= 1.00x)")
    print(f"RESULT import_portmanager_ms={best['portmanager']:.2f} import_yaml_ms={best['yaml']:.2f} "
          f"ratio={best['portmanager'] / best['yaml']:.2f}")


if __name__ == "__main__":
    main()
