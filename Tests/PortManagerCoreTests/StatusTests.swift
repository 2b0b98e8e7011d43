#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import PortManagerCore

// `Status` is the one status vocabulary: its values and names come from
// include/portmanager.h through module CPortManagerHeader. These tests read the
// header's text, as Tests/c/check_abi.py reads it for the signature table and
// the built library's pm_status_str, and check that every Swift use agrees.

/// include/portmanager.h's `enum pm_status`, as (name, value) in source order.
private func headerStatuses() -> [(name: String, value: Int32)] {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    let path = parts.joined(separator: "/") + "/include/portmanager.h"
    guard let file = fopen(path, "rb") else { return [] }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&chunk, 1, chunk.count, file)
        bytes.append(contentsOf: chunk[0..<n])
        if n < chunk.count { break }
    }
    let text = String(decoding: bytes, as: UTF8.self)
    guard let start = text.firstRange(of: "typedef enum pm_status {"),
          let end = text[start.upperBound...].firstRange(of: "} pm_status;") else { return [] }
    var result: [(name: String, value: Int32)] = []
    for line in text[start.upperBound..<end.lowerBound].split(separator: "\n") {
        let code = line.split(separator: "/**<", maxSplits: 1).first ?? ""
        let fields = code.split(whereSeparator: { $0 == " " || $0 == "=" || $0 == "," })
        guard fields.count == 2, fields[0].hasPrefix("PM_"), let value = Int32(fields[1]) else { continue }
        result.append((String(fields[0]), value))
    }
    return result
}

/// One error of each kind, with the name of the status the header gives it.
private let errorSamples: [(PortManagerError, String)] = {
    let here = SourceLocation(file: "<test>", line: 1, column: 1)
    return [
        (.invalidArgument("x"), "PM_ERR_INVALID_ARGUMENT"),
        (.registryNotFound(searched: []), "PM_ERR_NOT_FOUND"),
        (.io(path: "p", reason: "r"), "PM_ERR_IO"),
        (.parse(Diagnostic(here, "m")), "PM_ERR_PARSE"),
        (.invalidRegistry([]), "PM_ERR_INVALID_REGISTRY"),
        (.unknownService("s", suggestion: nil), "PM_ERR_UNKNOWN_SERVICE"),
        (.unknownPort(service: "s", port: "p", available: []), "PM_ERR_UNKNOWN_PORT"),
        (.instanceOutOfRange(service: "s", instance: 9, maxInstances: 1), "PM_ERR_INSTANCE_OUT_OF_RANGE"),
        (.bufferTooSmall(needed: 1), "PM_ERR_BUFFER_TOO_SMALL"),
        (.probeFailed(host: "h", port: 1, reason: "r"), "PM_ERR_PROBE_FAILED"),
        (.unknownEnvironment("e", available: []), "PM_ERR_UNKNOWN_ENVIRONMENT"),
        (.tooLarge("x"), "PM_ERR_TOO_LARGE"),
        (.reserved(service: "s", instance: 0, reason: "r"), "PM_ERR_RESERVED"),
        (.notOwner(service: "s", instance: 0, reason: "r"), "PM_ERR_NOT_OWNER"),
        (.state(path: "p", reason: "r"), "PM_ERR_STATE"),
        (.docker("Docker not available: x"), "PM_ERR_DOCKER"),
    ]
}()

private func kafkaRegistry() -> Registry {
    let here = SourceLocation(file: "<test>", line: 1, column: 1)
    return Registry(source: "<test>", services: [
        ServiceDefinition(name: "kafka", ports: [PortDefinition(name: "broker_port", base: 9092, location: here)],
                          location: here),
        ServiceDefinition(name: "redis", ports: [PortDefinition(name: "port", base: 6379, location: here)],
                          location: here),
    ])
}

@Suite("Status: the header's pm_status, named once")
struct StatusTests {
    @Test("Status.all is the header's enum: every name and value, in order, contiguous from PM_OK")
    func matchesTheHeader() {
        let header = headerStatuses()
        #expect(header.count >= 17, "read \(header.count) statuses from include/portmanager.h")
        #expect(Status.all.map(\.name) == header.map(\.name))
        #expect(Status.all.map(\.rawValue) == header.map(\.value))
        #expect(header.map(\.value) == Array(0..<Int32(header.count)), "pm_status values are not contiguous from 0")
    }

    @Test("every header status has its Swift name")
    func swiftNamesCoverTheHeader() {
        let named: [Status] = [.ok, .invalidArgument, .notFound, .io, .parse, .invalidRegistry, .unknownService,
                               .unknownPort, .instanceOutOfRange, .bufferTooSmall, .probeFailed, .unknownEnvironment,
                               .leased, .tooLarge, .reserved, .notOwner, .state, .docker]
        #expect(named == Status.all)
        #expect(Status.ok.name == "PM_OK" && Status.unknownService.description == "PM_ERR_UNKNOWN_SERVICE")
    }

    @Test("a value the header does not define is PM_ERR_UNKNOWN_STATUS")
    func unknownValues() {
        let past = Int32(Status.all.count)
        for value in [past, past + 1, -1, 100, Int32.max, Int32.min] {
            let status = Status(rawValue: value)
            #expect(!status.isDefined)
            #expect(status.name == "PM_ERR_UNKNOWN_STATUS", "\(value)")
        }
        #expect(Status.ok.cName == Status.ok.cName, "names are static storage")
    }

    @Test("each PortManagerError maps to its header status; every status but PM_OK and the retired PM_ERR_LEASED is reached")
    func errorsMapToTheHeader() {
        for (error, name) in errorSamples {
            #expect(error.status.name == name, "\(error)")
        }
        #expect(Set(errorSamples.map(\.0.status)) == Set(Status.all).subtracting([.ok, .leased]))
    }

    @Test("the lookup table answers in Status")
    func lookupTableStatuses() {
        let registry = kafkaRegistry()
        func status(_ service: String, _ instance: Int32, _ port: String) -> Status {
            service.withUTF8Bytes { s in port.withUTF8Bytes { p in registry.table.lookup(service: s, instance: instance, port: p).status } }
        }
        #expect(status("kafka", 1, "broker_port") == .ok)
        #expect(status("kafak", 0, "broker_port") == .unknownService)
        #expect(status("kafka", 0, "port") == .unknownPort)
        #expect(status("kafka", 10, "broker_port") == .instanceOutOfRange)
        #expect(status("kafka", -1, "broker_port") == .instanceOutOfRange)
    }
}

@Suite("An unknown service's did-you-mean is worked out when the message is read")
struct LazySuggestionTests {
    @Test("the error thrown for an unknown service holds a deferred search, not an answer")
    func deferredUntilRead() throws {
        let registry = kafkaRegistry()
        var caught: PortManagerError?
        do { _ = try registry.port("kafak", name: "broker_port") } catch { caught = error as? PortManagerError }
        guard case .unknownService(let name, let suggestion)? = caught else {
            Issue.record("expected unknownService, got \(String(describing: caught))")
            return
        }
        #expect(name == "kafak")
        #expect(suggestion.isDeferred)
        #expect(suggestion.value == "kafka")
        #expect(caught?.description == "unknown service 'kafak'; did you mean 'kafka'?")
        // The same through service(named:), which every String-based call uses.
        #expect(throws: PortManagerError.unknownService("redsi", suggestion: "redis")) { try registry.service(named: "redsi") }
        guard case .unknownService(_, let other) = registry.unknownService("zookeeper") else {
            Issue.record("expected unknownService")
            return
        }
        #expect(other.isDeferred && other.value == nil)
    }

    @Test("a fixed suggestion equals a deferred one with the same answer")
    func equality() {
        let registry = kafkaRegistry()
        #expect(registry.unknownService("kafak") == .unknownService("kafak", suggestion: "kafka"))
        #expect(registry.unknownService("kafak") != .unknownService("kafak", suggestion: nil))
        #expect(registry.unknownService("kafak").hashValue == PortManagerError.unknownService("kafak", suggestion: "kafka").hashValue)
        #expect(!DidYouMean("kafka").isDeferred && DidYouMean(nil).value == nil)
    }
}
