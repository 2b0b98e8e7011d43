#!/usr/bin/env bash
# Core benchmarks: pm_get_port from C and registry loading,
# each against a baseline measured in the same run, plus PyYAML's CSafeLoader
# on the same file for comparison. Not a test: prints figures only.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -e build/lib/libportmanager.so ] || scripts/build.sh lib
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc -O2 -std=gnu11 -Iinclude benchmarks/core/bench_core.c -o "$out/bench_core" \
   -Lbuild/lib -lportmanager -Wl,-rpath,"$PWD/build/lib" $(pkg-config --cflags --libs yaml-0.1)
"$out/bench_core" dynamicconfig/port_registry.yaml
python3 - <<'PY'
import time
try:
    import yaml
except ImportError:
    print("PyYAML not installed; skipping its comparison"); raise SystemExit(0)
text = open("dynamicconfig/port_registry.yaml").read()
loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
best = min((lambda t0: (time.perf_counter() - t0))(time.perf_counter()) if False else
           (lambda: (lambda t0: ([yaml.load(text, Loader=loader) for _ in range(200)], time.perf_counter() - t0)[1])(time.perf_counter()))()
           for _ in range(5)) / 200
print(f"PyYAML {loader.__name__} parse only:          {best*1e6:9.1f} us   (for comparison with pm_registry_open_string above)")
PY
