"""The contention baseline: a pure-Python reservation table under fcntl.flock.

    python3 bench_flock.py DIR PROCESSES CYCLES   prints "flock: N cycles/s"

What it does, to match bench_reserve.c's contention workload: PROCESSES forked
workers each run CYCLES reserve+release cycles. A cycle picks one of two
services at random (as the C workers pick "bench" or "other"), takes the lowest
free of its 8 slots and releases it; when every slot is taken the attempt is
refused and retried at once, as pm_reserve's PM_ERR_RESERVED is. Each
reserve and each release is one critical section: flock(LOCK_EX) on the table
file, read the whole table (16 slots of 8 bytes: the owner's pid, 0 for free),
change one slot, write it back with pwrite, unlock.

How durable it is: the write reaches the page cache before the lock is
released, so a reservation survives the crash of any process, as the store's
(WAL, synchronous=NORMAL) does; like the store, it does not fsync per change.

What it does not do, so the comparison favours the baseline: no owner's
liveness is checked (a slot of a killed process stays taken), no ports are
recorded or checked across services, no TTLs, no schema, no checks of the
directory or file, and no torn-write protection (a slot is 8 bytes in one
pwrite, which a process crash cannot tear).
"""
import fcntl
import os
import random
import struct
import sys
import time

SERVICES, SLOTS = 2, 8
SIZE = SERVICES * SLOTS * 8


def worker(path: str, seed: int, cycles: int) -> None:
    rng = random.Random(seed)
    fd = os.open(path, os.O_RDWR)
    me = os.getpid()
    done = 0
    while done < cycles:
        service = rng.randrange(SERVICES)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            table = struct.unpack(f"{SERVICES * SLOTS}q", os.pread(fd, SIZE, 0))
            base = service * SLOTS
            slot = next((i for i in range(SLOTS) if table[base + i] == 0), None)
            if slot is not None:
                os.pwrite(fd, struct.pack("q", me), (base + slot) * 8)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
        if slot is None:
            continue  # every slot taken: try again, as the C workers do
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            os.pwrite(fd, struct.pack("q", 0), (base + slot) * 8)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
        done += 1
    os.close(fd)


def main() -> int:
    folder, processes, cycles = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "table")
    with open(path, "wb") as table:
        table.write(bytes(SIZE))
    start = time.perf_counter()
    children = []
    for p in range(processes):
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                worker(path, p * 7919 + 1, cycles)
                code = 0
            finally:
                os._exit(code)
        children.append(pid)
    failed = sum(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0 for pid in children)
    seconds = time.perf_counter() - start
    print(f"flock: {processes} processes x {cycles} cycles: {seconds:.2f} s, {processes * cycles / seconds:.0f} cycles/s"
          + (" (SOME WORKERS FAILED)" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
