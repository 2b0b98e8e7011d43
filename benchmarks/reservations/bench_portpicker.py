"""pm.reserve + release (Python, 3-port service, no probe) beside portpicker.pick_unused_port(), in one run."""
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bindings" / "python" / "src"))
import portmanager  # noqa: E402

try:
    import portpicker
except ImportError:
    print("portpicker is not installed (pip install portpicker); skipping")
    raise SystemExit(0)

YAML = "bench:\n  a_port: 45200\n  b_port: 45201\n  c_port: 45202\n  max_instances: 4\n"


def best(body, n=500, rounds=5):
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n):
            body()
        times.append((time.perf_counter() - t0) / n)
    return sorted(times)[len(times) // 2]


with tempfile.TemporaryDirectory() as folder:
    pm = portmanager.PortManager.from_yaml(YAML)
    state = Path(folder) / "state"

    def reserve_release(probe):
        def body():
            pm.release("bench", pm.reserve("bench", 0, owner="bench", probe=probe, state_dir=state).instance,
                       owner="bench", state_dir=state)
        return body

    reserve_release(False)()
    ours = best(reserve_release(False))
    probed = best(reserve_release(True))
    picker = best(portpicker.pick_unused_port)
    print("Python, median of 5 rounds of 500:")
    print(f"  pm.reserve + pm.release (3 ports, no probe) {ours * 1e6:8.1f} us")
    print(f"  pm.reserve + pm.release (3 ports, probe)    {probed * 1e6:8.1f} us")
    print(f"  portpicker.pick_unused_port() (1 port)      {picker * 1e6:8.1f} us   "
          f"ratio (no probe) {ours / picker:.2f}x, (probe) {probed / picker:.2f}x")
