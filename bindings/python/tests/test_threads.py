"""Many threads calling one manager, and the process-wide one, at once."""

from __future__ import annotations

import logging
import threading
from typing import List

import pytest

import portmanager
from conftest import REGISTRY

THREADS = 16
ROUNDS = 300


def expected_table(pm: portmanager.PortManager) -> List[tuple]:
    return [(a.service, a.instance, a.port_type, a.host_port) for a in pm.allocations()]


def hammer(pm: portmanager.PortManager, table: List[tuple], errors: List[BaseException], barrier: threading.Barrier) -> None:
    try:
        barrier.wait()
        for round_ in range(ROUNDS):
            service, instance, port_type, port = table[round_ % len(table)]
            assert pm.get_port(service, instance, port_type) == port
            try:
                pm.get_port(service, 99, port_type)
            except portmanager.InstanceOutOfRangeError as error:
                assert "instance 99" in str(error)  # this thread's own message
            else:
                raise AssertionError("instance 99 allocated")
            if round_ % 50 == 0:
                assert pm.container_name("kafka", 1) == "kafka-development-1"
                assert pm.get_ports("kafka", 2) == {"broker_port": 9292, "controller_port": 19293}
    except BaseException as error:  # noqa: BLE001 - reported by the main thread
        errors.append(error)


def run_threads(pm: portmanager.PortManager) -> None:
    table = expected_table(pm)
    errors: List[BaseException] = []
    barrier = threading.Barrier(THREADS)
    threads = [threading.Thread(target=hammer, args=(pm, table[i::3], errors, barrier)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_many_threads_one_manager(pm: portmanager.PortManager) -> None:
    run_threads(pm)


def test_many_threads_with_logging_enabled(pm: portmanager.PortManager, restore_logging: None) -> None:
    # Every call crosses into C and logs through the callback from every thread.
    records: List[str] = []
    lock = threading.Lock()

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            with lock:
                records.append(record.getMessage())

    handler = Collect()
    logger = logging.getLogger("portmanager")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        run_threads(pm)
    finally:
        logger.removeHandler(handler)
    allocations = [r for r in records if r.startswith("port_manager_port_allocated ")]
    # Each round: one get_port, plus get_ports' two ports every 50 rounds.
    assert len(allocations) == THREADS * (ROUNDS + 2 * (ROUNDS // 50))


def test_close_while_threads_call_never_crashes() -> None:
    for _ in range(20):
        pm = portmanager.PortManager(REGISTRY)
        stop = threading.Event()
        outcomes: List[str] = []

        def call() -> None:
            while not stop.is_set():
                try:
                    pm.container_name("kafka", 3)
                    pm.get_port("mongodb", 2)
                except portmanager.InvalidArgumentError as error:
                    assert "closed" in str(error)
                    outcomes.append("closed")
                    return

        threads = [threading.Thread(target=call) for _ in range(4)]
        for thread in threads:
            thread.start()
        pm.close()
        for thread in threads:
            thread.join(timeout=30)
        stop.set()
        assert outcomes == ["closed"] * 4
        assert pm._handle._pointer is None  # freed once the last call in flight returned
