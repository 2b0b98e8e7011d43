#!/usr/bin/env python3
"""get_port through the Python binding against the original spec's pure-Python design, in one run.

The baseline is the original spec's PortManager as its document describes it: the
registry loaded into dicts, then per call a dict lookup, the range check, the
arithmetic and a log call (disabled unless INFO is on). Its registry holds the
same numbers as the library's (read through the binding, so no YAML package is
needed).

Every variant is timed in interleaved rounds and the best round is kept, so a
busy machine slows all of them alike. Figures are nanoseconds per call and
ratios to the baseline: a ratio at or below 1.00 means "no slower than pure Python".

Usage: python3 benchmarks/python/bench_get_port.py [--calls N] [--rounds R]
(from the repository root, after `make lib`).
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import sys
import timeit
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bindings" / "python" / "src"))

import portmanager  # noqa: E402
from portmanager import _lib  # noqa: E402

seed_logger = logging.getLogger("seed.port_manager")


class SeedPortManager:
    """The original spec's pure-Python design (base/port_manager.py), reduced to get_port."""

    def __init__(self, registry: Dict[str, Dict[str, Any]]) -> None:
        self._registry = registry

    def get_port(self, service: str, instance_id: int = 0, port_type: str = "port") -> int:
        if service not in self._registry:
            raise ValueError(f"Unknown service: {service}")
        config = self._registry[service]
        max_instances = config.get("max_instances", 10)
        if instance_id < 0 or instance_id >= max_instances:
            raise ValueError(f"instance_id {instance_id} out of range for {service} (max {max_instances})")
        if port_type not in config:
            raise ValueError(f"Unknown port type {port_type} for {service}")
        base_port = config[port_type]
        increment = config.get("instance_increment", 100)
        final_port = base_port + (instance_id * increment)
        seed_logger.info(
            "port_manager_port_allocated service=%s instance=%s type=%s port=%s base=%s increment=%s",
            service, instance_id, port_type, final_port, base_port, increment,
        )
        return final_port


def seed_registry(pm: portmanager.PortManager) -> Dict[str, Dict[str, Any]]:
    """The registry as the original spec held it after yaml.safe_load."""
    registry: Dict[str, Dict[str, Any]] = {}
    for service in pm.list_services():
        info = pm.service_info(service)
        config: Dict[str, Any] = {"instance_increment": info.increment, "max_instances": info.max_instances}
        for port in info.ports:
            config[port] = pm.port_definition(service, port).base
        registry[service] = config
    return registry


def measure(variants: Dict[str, Callable[[], Any]], calls: int, rounds: int) -> Dict[str, float]:
    """Best nanoseconds per call of each variant over interleaved rounds."""
    best = {name: float("inf") for name in variants}
    for _ in range(rounds):
        for name, function in variants.items():
            seconds = timeit.timeit(function, number=calls)
            best[name] = min(best[name], seconds / calls * 1e9)
    return best


def report(title: str, results: Dict[str, float], baseline: str) -> None:
    print(f"\n{title}")
    base = results[baseline]
    for name, ns in results.items():
        print(f"  {name:<52} {ns:8.0f} ns   x{ns / base:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000, help="calls per timing (default 200000)")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds; the best counts (default 7)")
    args = parser.parse_args()

    registry_path = REPO / "dynamicconfig" / "port_registry.yaml"
    pm = portmanager.PortManager(registry_path)
    seed = SeedPortManager(seed_registry(pm))
    assert all(
        seed.get_port(a.service, a.instance, a.port_type) == pm.get_port(a.service, a.instance, a.port_type)
        for a in pm.allocations()
    ), "baseline and binding disagree"

    handle = pm._handle.acquire()  # held for the raw calls below; released at the end
    out = ctypes.c_uint16()
    out_ref = ctypes.byref(out)
    raw_get_port = _lib.lib.pm_get_port
    raw_abi = _lib.lib.pm_abi_version

    def raw() -> None:
        raw_get_port(handle, b"kafka", 1, b"broker_port", out_ref)

    variants: Dict[str, Callable[[], Any]] = {
        "seed pure Python get_port (baseline)": lambda: seed.get_port("kafka", 1, "broker_port"),
        "binding get_port": lambda: pm.get_port("kafka", 1, "broker_port"),
        "binding get_port, default args": lambda: pm.get_port("mongodb"),
        "bare ctypes call: pm_abi_version()": raw_abi,
        "bare ctypes call: pm_get_port(...) (no cache)": raw,
        "binding, C round trip every call (cache bypassed)": lambda: pm._get_port("kafka", 1, "broker_port"),
        "binding container_name (remembered)": lambda: pm.container_name("kafka", 1),
        "binding get_ports (remembered, new dict)": lambda: pm.get_ports("kafka", 1),
    }
    print(f"portmanager {portmanager.__version__}, library {portmanager.library_version()} at {portmanager.library_path()}")
    print(f"Python {sys.version.split()[0]}; best of {args.rounds} interleaved rounds of {args.calls} calls")
    results = measure(variants, args.calls, args.rounds)
    report("Logging off (the portmanager and seed loggers below INFO):", results, "seed pure Python get_port (baseline)")

    class Count(logging.Handler):
        def __init__(self) -> None:
            super().__init__()
            self.count = 0

        def emit(self, record: logging.LogRecord) -> None:
            record.getMessage()
            self.count += 1

    counter = Count()
    for logger in (seed_logger, logging.getLogger("portmanager")):
        logger.addHandler(counter)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    portmanager.sync_log_level()
    logged = measure(
        {
            "seed pure Python get_port, INFO on (baseline)": variants["seed pure Python get_port (baseline)"],
            "binding get_port, INFO on (remembered line)": variants["binding get_port"],
        },
        max(1, args.calls // 10), args.rounds,
    )
    report("Logging on (every allocation formatted and handled):", logged, "seed pure Python get_port, INFO on (baseline)")
    pm._handle.release()
    pm.close()

    ratio = results["binding get_port"] / results["seed pure Python get_port (baseline)"]
    print(f"\nget_port ratio binding / seed pure Python = {ratio:.2f} "
          f"({'no slower' if ratio <= 1.0 else 'SLOWER'} than the original spec's design)")


if __name__ == "__main__":
    main()
