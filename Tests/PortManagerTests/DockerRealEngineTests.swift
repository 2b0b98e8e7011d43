#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import PortManager

// The client against the real engine of this host ($DOCKER_HOST, else
// /var/run/docker.sock), read only: it creates nothing, so it runs beside other
// suites' containers. Skipped, with the reason printed, when no engine answers.

/// Why the real-engine test cannot run here, or nil when the engine answers.
private let noEngine: String? = {
    do {
        _ = try DockerEngine.fromEnvironment().containers()
        return nil
    } catch {
        return "\(error)"
    }
}()

@Suite("Docker Engine client against the real engine")
struct DockerRealEngineTests {
    @Test("list and inspect agree for every container; a missing name is nil")
    func realEngine() throws {
        if let noEngine {
            print("SKIPPED: the real-engine Docker test: \(noEngine)")
            return
        }
        let engine = DockerEngine.fromEnvironment()
        let listed = try engine.containers()
        #expect(try engine.container(named: "portmanager-test-no-such-container-\(getpid())") == nil)
        var compared = 0
        for container in listed {
            // Other suites' containers come and go: one removed since the list is nil.
            guard let inspected = try engine.container(named: container.id) else { continue }
            #expect(inspected.id == container.id && inspected.name == container.name)
            #expect(inspected.labels == container.labels)
            // The two shapes give the same ports when the state did not change between the calls.
            if inspected.state == container.state {
                #expect(inspected.ports == container.ports, "\(container.name)")
                compared += 1
            }
        }
        print("the real engine: \(listed.count) containers listed, \(compared) compared whole with their inspection")
        let labelled = try engine.containers(label: "io.portmanager.service")
        #expect(labelled.allSatisfy { $0.labels["io.portmanager.service"] != nil })
    }
}
