#!/usr/bin/env python3
"""A Python miss (an unknown service) against a Python hit on the same 10k-service registry, in one run.

    hit          pm.get_port(known, 0)                      the baseline
    miss         pm.get_port(typo, 0) raising UnknownServiceError, caught,
                 its message not read                       goal <= 10x the hit
    miss + str   the same, and str(error): the message with its did-you-mean,
                 formed by the library when read
    fresh miss   a name never asked before (the manager remembers a miss as
                 it remembers a hit, so repeated misses make no library call;
                 a fresh one makes the call and captures the failure)

Variants are timed in interleaved rounds, the best round kept, so a busy
machine slows them alike. Not a test: prints figures only.

Usage: python3 benchmarks/python/bench_miss.py [--services N] [--rounds R]
(from the repository root, after `make lib`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bindings" / "python" / "src"))

import portmanager  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    options = parser.parse_args()
    count = options.services
    yaml = "".join(f"service-{i:05d}:\n  port: {1024 + i % 60000}\n  max_instances: 1\n" for i in range(count))
    pm = portmanager.PortManager.from_yaml(yaml, source="generated.yaml")
    hits = [f"service-{k * count // 8:05d}" for k in range(8)]
    misses = [f"servcie-{k * count // 8:05d}" for k in range(8)]
    try:
        pm.get_port(misses[3], 0)
    except portmanager.UnknownServiceError as error:
        assert f"did you mean '{hits[3]}'?" in str(error), str(error)
    get_port = pm.get_port
    error_type = portmanager.UnknownServiceError

    def hit(n: int) -> None:
        for i in range(n):
            get_port(hits[i & 7], 0)

    def miss(n: int) -> None:
        for i in range(n):
            try:
                get_port(misses[i & 7], 0)
            except error_type:
                pass

    fresh_names = iter([f"servcie-x{i}" for i in range(options.rounds * 20_000)])

    def fresh(n: int) -> None:
        for _ in range(n):
            try:
                get_port(next(fresh_names), 0)
            except error_type:
                pass
            if len(pm._misses) > 200:
                pm._misses.clear()  # stay under the bound; clearing is not timed apart, it is cheap

    def miss_read(n: int) -> None:
        for i in range(n):
            try:
                get_port(misses[i & 7], 0)
            except error_type as error:
                str(error)

    calls = {hit: 200_000, miss: 50_000, fresh: 20_000, miss_read: 2_000}
    best = {variant: float("inf") for variant in calls}
    for _ in range(options.rounds):
        for variant, n in calls.items():
            start = time.perf_counter()
            variant(n)
            best[variant] = min(best[variant], (time.perf_counter() - start) / n)
    base = best[hit]
    print(f"python get_port, {count} services (best of {options.rounds} interleaved rounds)")
    print(f"  hit                          {base * 1e9:10.1f} ns   1.00x")
    print(f"  miss, message not read       {best[miss] * 1e9:10.1f} ns   {best[miss] / base:5.2f}x the hit   goal <= 10x")
    print(f"  fresh miss, message not read {best[fresh] * 1e9:10.1f} ns   {best[fresh] / base:5.2f}x the hit")
    print(f"  miss + str(error), repeated  {best[miss_read] * 1e9:10.1f} ns   {best[miss_read] / base:5.2f}x the hit")
    print(f"RESULT services={count} hit_ns={base * 1e9:.1f} miss_ns={best[miss] * 1e9:.1f} "
          f"fresh_miss_ns={best[fresh] * 1e9:.1f} miss_str_ns={best[miss_read] * 1e9:.1f}")
    pm.close()


if __name__ == "__main__":
    main()
