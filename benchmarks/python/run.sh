#!/usr/bin/env bash
# get_port through the Python binding against the original spec's pure-Python design,
# measured in the same run; prints ns per call and ratios (see bench_get_port.py);
# then a miss against a hit at 10k services (bench_miss.py); then the import
# time against PyYAML's (bench_import.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 benchmarks/python/bench_get_port.py "$@"
# a miss (unknown service) against a hit at 10k services (bench_miss.py).
python3 benchmarks/python/bench_miss.py
# import portmanager against import yaml, in fresh interpreters.
exec python3 benchmarks/python/bench_import.py
