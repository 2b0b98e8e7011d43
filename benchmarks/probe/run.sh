#!/usr/bin/env bash
# Benchmarks of the probe (not tests): builds in release and prints each figure
# beside a baseline measured in the same run.
#  1. one port, TCP+UDP on IPv4+IPv6: portmanager.probe(port, "both") through
#     the Python binding against portpicker.is_port_free(port), same port;
#  2. the floor of (1): the system calls of each side alone, in C;
#  3. the status of many ports: every port of the shipped registry, and 1,000
#     ports, against one bind per port per family per protocol and `ss -Htuln`;
#  4. what seeing TCP connections costs those dumps: every state against LISTEN only.
set -euo pipefail
cd "$(dirname "$0")"
. ../../scripts/swift-env.sh
python3 bench_one_port.py
scratch="../../.build-bench-probe"
mkdir -p "$scratch"
cc -O2 -Wall -o "$scratch/syscall_floor" syscall_floor.c
"$scratch/syscall_floor"
swift build -c release --scratch-path "$scratch" >&2
"$scratch/release/ProbeBench" ../../dynamicconfig/port_registry.yaml
cc -O2 -Wall -o "$scratch/netlink_states" netlink_states.c
"$scratch/netlink_states"
