// libFuzzer entry point: any bytes must load as a registry or be refused with
// a PortManagerError, and any arguments to the C entry points must get an
// answer or a status; nothing may crash, hang, write past a buffer or grow
// without bound. Built and run by scripts/fuzz.sh (long runs) and
// scripts/fuzz.sh --smoke (a short, fixed-seed run in `make test`).
//
// The registry part is also read as JSON (JSONReader, the Docker client's).
//
// An input is a registry, optionally followed by a NUL and the arguments:
//
//     YAML \0 SERVICE \0 PORT \0 ENVIRONMENT \0 NUMBERS
//
// SERVICE, PORT and ENVIRONMENT are arbitrary bytes (NUL ends them); NUMBERS
// are read 8 bytes at a time as instances, indexes and buffer capacities
// (any size_t, SIZE_MAX included). Inputs without a NUL (the seed corpus) are
// all registry; the harness then asks about the registry's own names.
#if canImport(Glibc)
import Glibc
#endif
import CPortManagerHeader
import PortManager
import PortManagerC

/// The NUMBERS part of an input, read as a stream; 0 once it is used up.
private struct Numbers {
    var bytes: ArraySlice<UInt8>
    mutating func next() -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 8) {
            guard let byte = bytes.popFirst() else { break }
            value |= UInt64(byte) << UInt64(shift)
        }
        return value
    }
    /// An instance: small values most of the time, any Int32 otherwise.
    mutating func instance() -> Int32 {
        let raw = next()
        return raw & 0x100 == 0 ? Int32(truncatingIfNeeded: raw & 0xFF) - 2 : Int32(truncatingIfNeeded: raw >> 16)
    }
    /// A capacity as a C caller could pass it: any size_t (as Swift imports it, `Int`).
    mutating func capacity() -> Int { Int(truncatingIfNeeded: next()) }
    /// A size_t index as the C shims receive it (Swift's Int bit pattern).
    mutating func index() -> Int { Int(bitPattern: UInt(next())) }
}

/// A file the registry is written to for `pm_registry_open_env`, one per process.
private let envFile: String = "/tmp/pm-fuzz-\(getpid()).yaml"

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    _ = pm_set_log_level(100)  // PM_LOG_OFF: allocation logging would only slow the run
    atexit { _ = unlink(envFile) }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = UnsafeBufferPointer(start: data, count: size)
    let cut = input.firstIndex(of: 0) ?? size
    let yaml = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(input)[0..<cut])
    var fields: [[UInt8]] = []
    var numbers = Numbers(bytes: [])
    if cut < size {
        var rest = Array(input[(cut + 1)...])[...]
        for _ in 0..<3 {
            let end = rest.firstIndex(of: 0) ?? rest.endIndex
            fields.append(Array(rest[..<end]))
            rest = end < rest.endIndex ? rest[(end + 1)...] : rest[end...]
        }
        numbers = Numbers(bytes: rest)
    }

    if let registry = try? Registry(yaml: yaml, source: "fuzz") {
        exerciseModel(registry)
    }
    // The same bytes as a Docker engine's answer: JSON read through libyaml.
    _ = try? JSONReader.parse(Array(yaml))
    exerciseC(yaml, fields, &numbers)
    return 0
}

/// The Swift functions behind the C entry points, on a registry that loaded.
private func exerciseModel(_ registry: Registry) {
    for service in registry.services.prefix(16) {
        for instance in [0, service.maxInstances - 1] {
            _ = try? registry.ports(service.name, instance: instance)
            _ = try? registry.containerName(service.name, instance: instance)
        }
    }
    // The analysis, on registries of at most 20,000 lattice points: its memory
    // is bounded (and refused past Analysis's limit), but a larger lattice only
    // slows each run under AddressSanitizer.
    let points = registry.services.reduce(0) { $0 + $1.maxInstances * max(1, $1.ports.count) }
    if points <= 20_000 {
        _ = try? Analysis(registry: registry, options: AnalysisOptions(ephemeralRange: 32768...60999))
    }
    for environment in registry.environments.prefix(8) { _ = try? registry.selecting(environment: environment.name) }
}

/// The C entry points with the input's names, instances and capacities.
private func exerciseC(_ yaml: UnsafeRawBufferPointer, _ fields: [[UInt8]], _ numbers: inout Numbers) {
    var handle: OpaquePointer?
    var empty: CChar = 0
    let status = yaml.baseAddress.map {
        pm_registry_open_string($0.assumingMemoryBound(to: CChar.self), yaml.count, "fuzz", &handle)
    } ?? pm_registry_open_string(&empty, 0, "fuzz", &handle)
    _ = pm_last_error()
    guard Status(status) == .ok, let registry = handle else { return }
    defer { pm_registry_close(registry) }

    // Names to ask about: the input's own, then the registry's first services.
    var services: [[UInt8]] = fields.isEmpty ? [] : [fields[0]]
    var count = 0
    _ = pm_service_count(registry, &count)
    for index in 0..<min(count, 3) { if let name = string(registry, index) { services.append(name) } }
    let portName = fields.count > 1 ? fields[1] : Array("port".utf8)

    for service in services {
        cString(service) { s in
            cString(portName) { p in
                let instance = numbers.instance()
                var port: UInt16 = 0, last: UInt16 = 0
                _ = pm_get_port(registry, s, instance, p, &port)
                _ = pm_last_error()
                _ = pm_get_port_range(registry, s, instance, p, &port, &last)
                _ = pm_get_container_port(registry, s, instance, p, &port)
                var base: UInt16 = 0, width: UInt16 = 0, container: UInt16 = 0
                _ = pm_port_definition(registry, s, p, &base, &width, &container)
                var increment: Int32 = 0, maxInstances: Int32 = 0, ports = 0
                _ = pm_service_info(registry, s, &increment, &maxInstances, &ports)
                _ = pm_last_error()

                sized(&numbers) { pm_container_name(registry, s, instance, $0, $1, $2) }
                sized(&numbers) { pm_volume_name(registry, s, instance, $0, $1, $2) }
                sized(&numbers) { pm_instance_docker_json(registry, s, instance, $0, $1, $2) }
                sized(&numbers) { pm_instance_env(registry, s, instance, nil, $0, $1, $2) }
                sized(&numbers) { pm_instance_env(registry, s, instance, p, $0, $1, $2) }
                let index = numbers.index()
                sized(&numbers) { pm_port_name(registry, s, index, $0, $1, $2) }
                sizedPorts(&numbers) { pm_get_ports(registry, s, instance, $0, $1, $2) }
            }
        }
    }
    let index = numbers.index()
    sized(&numbers) { pm_service_name(registry, index, $0, $1, $2) }
    sized(&numbers) { pm_registry_source(registry, $0, $1, $2) }

    // An environment by name needs a file: pm_registry_open_env.
    if fields.count > 2 {
        let written: Bool = {
            guard let file = fopen(envFile, "wb") else { return false }
            defer { fclose(file) }
            return yaml.isEmpty || fwrite(yaml.baseAddress, 1, yaml.count, file) == yaml.count
        }()
        if written {
            cString(fields[2]) { environment in
                var selected: OpaquePointer?
                if Status(pm_registry_open_env(envFile, environment, &selected)) == .ok {
                    var offset: Int32 = 0
                    sized(&numbers) { pm_registry_environment(selected, $0, $1, $2, &offset) }
                    pm_registry_close(selected)
                }
                _ = pm_last_error()
            }
        }
    }
}

/// Runs `body` with `bytes` as a NUL-terminated C string.
private func cString(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) -> Void) {
    (bytes + [0]).withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) } }
}

/// The name of service `index`, or nil.
private func string(_ registry: OpaquePointer, _ index: Int) -> [UInt8]? {
    var needed = 0
    _ = pm_service_name(registry, index, nil, 0, &needed)
    guard needed > 0 else { return nil }
    var buffer = [CChar](repeating: 0, count: needed)
    guard Status(pm_service_name(registry, index, &buffer, needed, &needed)) == .ok else { return nil }
    return buffer.dropLast().map { UInt8(bitPattern: $0) }
}

/// The buffer protocol with an arbitrary capacity: the buffer is exactly as
/// large as the size first reported, so AddressSanitizer catches any write past
/// `needed`, whatever capacity the caller claims.
private func sized(_ numbers: inout Numbers,
                   _ call: (UnsafeMutablePointer<CChar>?, Int, UnsafeMutablePointer<Int>?) -> pm_status) {
    var needed = 0
    guard Status(call(nil, 0, &needed)) == .bufferTooSmall, needed > 0, needed <= 1 << 24 else { _ = pm_last_error(); return }
    let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: needed)
    defer { buffer.deallocate() }
    let claimed = numbers.capacity()
    // A claim below `needed` must be refused without writing; one at or above it
    // may write at most `needed` bytes.
    _ = call(buffer, UInt(bitPattern: claimed) < UInt(needed) ? claimed : needed, &needed)
    _ = call(buffer, claimed, nil)
    _ = pm_last_error()
}

/// ``sized(_:_:)`` for arrays of ports.
private func sizedPorts(_ numbers: inout Numbers,
                        _ call: (UnsafeMutablePointer<UInt16>?, Int, UnsafeMutablePointer<Int>?) -> pm_status) {
    var needed = 0
    guard Status(call(nil, 0, &needed)) == .bufferTooSmall, needed > 0, needed <= 1 << 20 else { _ = pm_last_error(); return }
    let buffer = UnsafeMutablePointer<UInt16>.allocate(capacity: needed)
    defer { buffer.deallocate() }
    _ = call(buffer, numbers.capacity(), &needed)
    _ = pm_last_error()
}
