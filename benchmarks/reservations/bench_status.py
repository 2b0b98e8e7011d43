#!/usr/bin/env python3
"""`portmanager status` against a `sqlite3` SELECT of the same rows, in one run.

For 1k, 3k and 10k reservations: a registry of N/10 services x 10 instances
(one port each), every instance reserved by a name, in a temporary state
directory. The rows are made through the Python binding (pm_reserve, no probe),
so the bench follows the store's schema wherever it goes. Then, in interleaved
rounds (best kept, so a busy machine slows both alike):

    status     build/bin/portmanager status --registry R --state-dir D
               (reads every reservation, probes every port, prints a table)
    baseline   sqlite3 D/reservations.db 'SELECT * FROM reservation JOIN port
               ON port.reservation = reservation.id': the same rows, from the
               sqlite3 command-line tool

Times are each process's CPU time (user + system, from getrusage), not wall
time, so that a loaded machine disturbs them less.
Prints both times, their ratio (goal <= 2x at 10k), and the growth exponent of
each (the slope of log time over log N, least squares; goal <= 1.1 for status).
Not a test: prints figures only.

Usage: python3 benchmarks/reservations/bench_status.py [--sizes 1000,3000,10000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bindings" / "python" / "src"))

import portmanager  # noqa: E402

CLI = Path(os.environ.get("PORTMANAGER_CLI", REPO / "build" / "bin" / "portmanager"))
SELECT = "SELECT * FROM reservation JOIN port ON port.reservation = reservation.id"


def make_store(root: Path, reservations: int) -> tuple[Path, Path]:
    services = reservations // 10
    registry = root / "registry.yaml"
    registry.write_text("".join(
        f"bench{s:05d}:\n  port: {20000 + s * 10}\n  instance_increment: 1\n  max_instances: 10\n"
        for s in range(services)))
    state = root / "state"
    state.mkdir(mode=0o700)
    with portmanager.PortManager(registry) as pm:
        for s in range(services):
            for instance in range(10):
                pm.reserve(f"bench{s:05d}", instance, owner=f"bench-{s}-{instance}", probe=False, state_dir=state)
    return registry, state


def cpu(command: list[str]) -> float:
    """The CPU time (user + system) of one run of `command`: on a loaded machine
    it varies far less than wall time, which also counts other processes' turns."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "PORTMANAGER_LOG": "error"})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def slope(xs: list[float], ys: list[float]) -> float:
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,3000,10000")
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    sizes = [int(n) for n in options.sizes.split(",")]
    if not CLI.exists() or shutil.which("sqlite3") is None:
        print(f"bench_status: needs {CLI} (make cli) and the sqlite3 command-line tool; skipped")
        return
    results = []
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="pm-bench-status-") as tmp:
            registry, state = make_store(Path(tmp), n)
            status = [str(CLI), "status", "--registry", str(registry), "--state-dir", str(state)]
            select = ["sqlite3", str(state / "reservations.db"), SELECT]
            rows = subprocess.run(select, check=True, capture_output=True, text=True).stdout.count("\n")
            assert rows == n, f"{rows} rows selected, {n} reserved"
            best_status = best_select = float("inf")
            for _ in range(options.rounds):
                best_status = min(best_status, cpu(status))
                best_select = min(best_select, cpu(select))
            results.append((n, best_status, best_select))
    print(f"status against a sqlite3 SELECT of the same rows (best of {options.rounds} interleaved rounds, CPU time)")
    print("reservations   status_ms   sqlite3_ms   ratio")
    for n, s, q in results:
        print(f"{n:12d}   {s * 1e3:9.1f}   {q * 1e3:10.1f}   {s / q:5.2f}x")
    if len(results) > 1:
        ns = [float(n) for n, _, _ in results]
        print(f"growth exponent: status {slope(ns, [s for _, s, _ in results]):.2f} (goal <= 1.1), "
              f"sqlite3 {slope(ns, [q for _, _, q in results]):.2f}")
        # The fit is flattered by the fixed start-up cost; the last step shows the growth itself.
        (n1, s1, q1), (n2, s2, q2) = results[-2], results[-1]
        step = math.log(n2 / n1)
        print(f"between {n1} and {n2}: status {math.log(s2 / s1) / step:.2f}, sqlite3 {math.log(q2 / q1) / step:.2f}")
    n, s, q = results[-1]
    print(f"RESULT reservations={n} status_ms={s * 1e3:.1f} sqlite3_ms={q * 1e3:.1f} ratio={s / q:.2f} (goal <= 2x)")


if __name__ == "__main__":
    main()
