import Testing
@testable import PortManagerCore

@Suite("Self-collision arithmetic agrees with brute force")
struct SelfCollisionPropertyTests {
    /// Every pair of (port, instance) intervals of the service, compared directly.
    private func bruteForcePairs(_ service: ServiceDefinition) -> Set<[Int]> {
        var pairs = Set<[Int]>()
        let ports = service.ports
        for p in ports.indices {
            for q in p..<ports.count {
                search: for i in 0..<service.maxInstances {
                    for j in 0..<service.maxInstances where !(p == q && i == j) {
                        let a = ports[p].base + i * service.increment, b = ports[q].base + j * service.increment
                        if a <= b + ports[q].count - 1 && b <= a + ports[p].count - 1 {
                            pairs.insert([p, q])
                            break search
                        }
                    }
                }
            }
        }
        return pairs
    }

    @Test func randomServices() {
        var state: UInt64 = 0x5EED
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        let here = SourceLocation(file: "<test>", line: 1, column: 1)
        var collided = 0
        for _ in 0..<3000 {
            let portCount = 1 + next(4)
            let ports = (0..<portCount).map { index in
                PortDefinition(name: "p\(index)_port", base: 1000 + next(60), count: 1 + next(4), location: here)
            }
            let maxInstances = 1 + next(6)
            let increment = maxInstances == 1 ? next(3) : 1 + next(25)
            let service = ServiceDefinition(name: "svc", ports: ports, increment: increment,
                                            maxInstances: maxInstances, location: here)
            let expected = bruteForcePairs(service)
            let found = SelfCollision.find(in: service)
            #expect(found.count == expected.count, "ports \(ports.map { ($0.base, $0.count) }) inc \(increment) max \(maxInstances)")
            #expect(Set(found.map { [$0.ports.0, $0.ports.1] }) == expected)
            // Each reported pair names valid, distinct instances whose intervals really overlap.
            for problem in found {
                let (p, q) = problem.ports, (i, j) = problem.instances
                #expect((0..<maxInstances).contains(i) && (0..<maxInstances).contains(j) && !(p == q && i == j))
                let a = ports[p].base + i * increment, b = ports[q].base + j * increment
                #expect(a <= b + ports[q].count - 1 && b <= a + ports[p].count - 1, "\(problem.message)")
            }
            collided += expected.isEmpty ? 0 : 1
        }
        #expect(collided > 300, "the generator must produce collisions to test anything")
    }
}
