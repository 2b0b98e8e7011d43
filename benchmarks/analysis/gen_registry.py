#!/usr/bin/env python3
"""Writes a synthetic registry of N services to standard output, the shape of
AnalysisBench's `synthetic(N)`: 3 ports per service, 10 instances, increment
100, bases spread over 1024..64535 by the same LCG (seed 42), redrawn when
two ports of one service would collide (the loader refuses those). At 10k
services and more the points cannot all be distinct, so collisions are many.

    gen_registry.py N > registry.yaml
"""
import sys

MASK = (1 << 64) - 1


def main() -> None:
    services = int(sys.argv[1])
    state = 42
    out = sys.stdout
    for s in range(services):
        out.write(f"svc{s}:\n")
        bases: list[int] = []
        while len(bases) < 3:
            state = (state * 6364136223846793005 + 1442695040888963407) & MASK
            base = 1024 + (state >> 33) % (63_500 - 1024)
            if all((base - b) % 100 or abs(base - b) >= 1000 for b in bases):
                bases.append(base)
        for p, base in enumerate(bases):
            out.write(f"  p{p}_port: {base}\n")
        out.write("  instance_increment: 100\n  max_instances: 10\n")


if __name__ == "__main__":
    main()
