#!/usr/bin/env python3
"""Reads `go test -bench` output of benchmarks/go (several rounds) and prints
the best CPU time per call of each benchmark and the ratio

    Port / (MapLookup + CgoFloor)        goal: <= 2.00

The best round of each is kept, so a busy machine slows all of them alike.
Usage: python3 benchmarks/go/ratio.py BENCH_OUTPUT_FILE
"""

import re
import sys

# "BenchmarkPort   2000000   566.4 ns/op   151.2 cpu-ns/op": the CPU time is used
# (a shared machine inflates wall time unevenly); the wall time is shown too.
LINE = re.compile(r"^Benchmark(\w+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op\s+([\d.]+) cpu-ns/op")


def main() -> int:
    best, wall = {}, {}
    with open(sys.argv[1], encoding="utf-8") as output:
        for line in output:
            match = LINE.match(line)
            if match:
                name, ns, cpu = match.group(1), float(match.group(2)), float(match.group(3))
                best[name] = min(cpu, best.get(name, cpu))
                wall[name] = min(ns, wall.get(name, ns))
    missing = [n for n in ("Port", "MapLookup", "CgoFloor") if n not in best]
    if missing:
        print(f"ratio.py: no figures for {', '.join(missing)} in {sys.argv[1]}", file=sys.stderr)
        return 1
    rounds = sum(1 for line in open(sys.argv[1], encoding="utf-8") if line.startswith("BenchmarkPort"))
    print(f"best of {rounds} rounds, ns per call:   CPU time   (wall time)")
    for name in ("Port", "RawGetPort", "MapLookup", "CgoFloor", "CgoFloorShaped"):
        if name in best:
            print(f"  {name:<16} {best[name]:8.1f}   ({wall[name]:.1f})")
    budget = best["MapLookup"] + best["CgoFloor"]
    ratio = best["Port"] / budget
    print(f"Port / (MapLookup + CgoFloor), CPU time: {best['Port']:.1f} / {budget:.1f} = {ratio:.2f}   (goal <= 2.00)")
    wall_ratio = wall["Port"] / (wall["MapLookup"] + wall["CgoFloor"])
    print(f"the same in wall time:                   {wall_ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
