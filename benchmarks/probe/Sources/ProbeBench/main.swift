// The status of many ports at once (PortProbe.probe(_:), which reads the
// kernel's socket tables once: over netlink, and, forced, from each /proc/net
// table as where netlink is refused), against two baselines measured in the same run:
//   - one bind per port per family per protocol (what a loop over the
//     one-port probe costs), and
//   - running `ss -Htuln` as a process (what a tool shelling out to ss pays).
// Two workloads: every host port of every instance of the shipped registry
// (its own protocols), and 1,000 consecutive ports for TCP and UDP.
#if canImport(Glibc)
import Glibc
#endif
import PortManager

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// The best and the median of `runs` timings of `body`, in milliseconds.
func timings(_ runs: Int, _ body: () -> Void) -> (best: Double, median: Double) {
    var all: [Double] = []
    for _ in 0..<runs {
        let start = now()
        body()
        all.append((now() - start) * 1000)
    }
    all.sort()
    return (all[0], all[all.count / 2])
}

/// One bind per port, per protocol, per family (0.0.0.0, then [::] v6-only),
/// each socket closed at once: the answer without /proc.
func bindEach(_ requests: [PortProbe.Request]) -> Int {
    var inUse = 0
    for request in requests {
        for proto in request.protocols.members {
            for family in [AF_INET, AF_INET6] {
                let fd = socket(family, Int32(proto == .udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue), 0)
                guard fd >= 0 else { continue }
                var one: Int32 = 1
                if proto == .tcp { setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, 4) }
                var rc: Int32
                if family == AF_INET6 {
                    setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, 4)
                    var sa = sockaddr_in6()
                    sa.sin6_family = sa_family_t(AF_INET6)
                    sa.sin6_port = UInt16(request.port).bigEndian
                    rc = withUnsafePointer(to: &sa) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
                    }
                } else {
                    var sa = sockaddr_in()
                    sa.sin_family = sa_family_t(AF_INET)
                    sa.sin_port = UInt16(request.port).bigEndian
                    rc = withUnsafePointer(to: &sa) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                    }
                }
                if rc != 0 && errno == EADDRINUSE { inUse += 1 }
                close(fd)
            }
        }
    }
    return inUse
}

/// `ss -Htuln` as a child process, its output discarded.
func runSS() {
    var pid: pid_t = 0
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("ss"), strdup("-Htuln"), nil]
    let rc = posix_spawnp(&pid, "ss", &actions, nil, argv, environ)
    posix_spawn_file_actions_destroy(&actions)
    argv.forEach { free($0) }
    guard rc == 0 else { fatalError("cannot run ss: \(String(cString: strerror(rc)))") }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
}

func format(_ value: Double) -> String {
    let scaled = (value * 1000).rounded() / 1000
    return String(scaled)
}

func report(_ title: String, _ requests: [PortProbe.Request], runs: Int) throws {
    var inUse = 0
    let bulk = timings(runs) {
        inUse = (try? PortProbe.probe(requests))?.filter { $0.verdict == .inUse }.count ?? -1
    }
    let procNet = timings(runs) { _ = try? PortProbe.probe(requests, tables: .procNet) }
    let binds = timings(runs) { _ = bindEach(requests) }
    let ss = timings(runs) { runSS() }
    let bindCount = requests.reduce(0) { $0 + 2 * $1.protocols.members.count }
    print("\(title): \(requests.count) ports (\(bindCount) binds for the baseline), \(inUse) in use now")
    print("  portmanager status (netlink where allowed):           best \(format(bulk.best)) ms, median \(format(bulk.median)) ms")
    print("  portmanager status, /proc/net (the fallback):         best \(format(procNet.best)) ms, median \(format(procNet.median)) ms")
    print("  one bind per port per family per protocol:           best \(format(binds.best)) ms, median \(format(binds.median)) ms"
        + "  -> ratio \(format(bulk.median / binds.median))")
    print("  ss -Htuln as a process:                               best \(format(ss.best)) ms, median \(format(ss.median)) ms"
        + "  -> ratio \(format(bulk.median / ss.median))")
}

let path = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "../../dynamicconfig/port_registry.yaml"
let registry = try Registry(contentsOf: path)
var shipped: [PortProbe.Request] = []
var instances = 0
for service in registry.services {
    for instance in 0..<service.maxInstances {
        instances += 1
        shipped += try registry.probeRequests(service.name, instance: instance)
    }
}
print("runs: 21 each; ratios are medians (portmanager / baseline); lower is better")
try report("shipped registry, all \(instances) instances", shipped, runs: 21)
let thousand = (40000..<41000).map { PortProbe.Request(port: $0, protocols: .both) }
try report("1,000 ports, TCP and UDP", thousand, runs: 21)
