#if canImport(Glibc)
import Glibc
#endif
import PortManager

// Marshalling helpers shared by the `@_cdecl` shims: the thread-local last
// error, the status mapping, C strings and the buffer protocol. No port logic.

/// The object behind a `pm_registry *`.
final class RegistryHandle: Sendable {
    let registry: Registry
    /// The registry's allocation-free index, held directly for the hot path.
    let table: LookupTable
    init(_ registry: Registry) {
        self.registry = registry
        self.table = registry.table
    }
}

/// The C status values, from include/portmanager.h.
enum Status {
    static let ok: Int32 = 0
    static let invalidArgument: Int32 = 1
    static let unknownService: Int32 = 6
    static let bufferTooSmall: Int32 = 9
}

/// Turns a `pm_registry *` back into its handle, or nil for NULL.
@inline(__always)
func handle(_ pointer: OpaquePointer?) -> RegistryHandle? {
    guard let pointer else { return nil }
    return Unmanaged<RegistryHandle>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
}

/// The per-thread last error: a malloc'd C string under a pthread key whose
/// destructor is libc's `free` (a Swift closure would crash a thread exiting
/// after the library was unloaded).
///
/// An unknown service is recorded lazily (``setUnknownService(_:_:)``): its
/// did-you-mean compares the name with every service name, which would make a
/// miss cost thousands of hits. The thread keeps the registry and the name, and
/// the message is formed, with the same text, when ``get()`` first reads it.
enum LastError {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, free)
        return key
    }()

    /// The thread's ``PendingMiss``, created on its first miss. Its destructor is
    /// library code, which is safe because the library is linked `-z nodelete`
    /// (scripts/build.sh): it is never unloaded while a thread could still exit.
    private static let pendingKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { record in
            if let record { Unmanaged<PendingMiss>.fromOpaque(record).release() }
        }
        return key
    }()

    /// An unknown-service failure whose message is not formed yet.
    private final class PendingMiss {
        /// The registry searched; nil when no message is pending.
        var registry: RegistryHandle?
        /// The service name asked for, as the caller's bytes.
        var name: [UInt8] = []
    }

    private static var pending: PendingMiss? {
        guard let record = pthread_getspecific(pendingKey) else { return nil }
        return Unmanaged<PendingMiss>.fromOpaque(record).takeUnretainedValue()
    }

    static func set(_ message: String) {
        if let miss = pending, miss.registry != nil { miss.registry = nil }
        let old = pthread_getspecific(key)
        let copy = strdup(message)
        pthread_setspecific(key, copy)
        free(old)
    }

    /// Records "unknown service" for `name` in `registry` without forming the
    /// message yet, and returns the status. Costs a copy of the name.
    static func setUnknownService(_ registry: RegistryHandle, _ name: UnsafeRawBufferPointer) -> Int32 {
        let miss: PendingMiss
        if let existing = pending {
            miss = existing
        } else {
            miss = PendingMiss()
            pthread_setspecific(pendingKey, Unmanaged.passRetained(miss).toOpaque())
        }
        miss.registry = registry
        miss.name.removeAll(keepingCapacity: miss.name.capacity <= 4096)
        miss.name.append(contentsOf: name)
        if let old = pthread_getspecific(key) {
            pthread_setspecific(key, nil)
            free(old)
        }
        return Status.unknownService
    }

    static func get() -> UnsafePointer<CChar> {
        if let miss = pending, let registry = miss.registry {
            let error = registry.registry.unknownService(String(decoding: miss.name, as: UTF8.self))
            set(error.description)
        }
        if let current = pthread_getspecific(key) {
            return UnsafePointer(current.assumingMemoryBound(to: CChar.self))
        }
        return staticCString("")
    }
}

/// Fails with `PM_ERR_UNKNOWN_SERVICE` (message formed when read) if `service`
/// names no service of `r`; nil if it names one.
@inline(__always)
func unknownService(_ r: RegistryHandle, _ service: CString) -> Int32? {
    let name = bytes(service)
    return r.table.service(name) == nil ? LastError.setUnknownService(r, name) : nil
}

/// A pointer to a static string's bytes, typed for C.
@inline(__always)
func staticCString(_ text: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// Records `error` as the thread's last error and returns its status.
func fail(_ error: PortManagerError) -> Int32 {
    LastError.set(error.description)
    return error.status
}

/// A missing required argument.
func missing(_ function: StaticString, _ argument: StaticString) -> Int32 {
    fail(.invalidArgument("\(function): \(argument) is NULL"))
}

/// Runs `body`, mapping any thrown ``PortManagerError`` to its status.
@inline(__always)
func guarded(_ body: () throws -> Void) -> Int32 {
    do {
        try body()
        return Status.ok
    } catch let error as PortManagerError {
        return fail(error)
    } catch {
        return fail(.invalidArgument("\(error)"))
    }
}

/// A C string argument as Swift text (lossless for UTF-8; invalid bytes become U+FFFD).
@inline(__always)
func text(_ pointer: UnsafePointer<CChar>) -> String {
    String(cString: pointer)
}

/// A C path argument as the bytes it holds: a path need not be UTF-8, and
/// decoding it would turn different names into one.
@inline(__always)
func pathBytes(_ pointer: UnsafePointer<CChar>) -> [UInt8] {
    Array(bytes(pointer))
}

/// A C string argument as raw bytes, without copying.
@inline(__always)
func bytes(_ pointer: UnsafePointer<CChar>) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: pointer, count: strlen(pointer))
}

/// The documented output protocol for strings: copies `value` and its NUL into
/// `buffer` if `capacity` allows, always reporting the size in `needed`.
///
/// `capacity` is the C `size_t` as it is: every capacity up to `SIZE_MAX` that
/// holds the result succeeds (as an `Int`, those above 2^63 would be negative).
func output(_ value: String, _ buffer: UnsafeMutablePointer<CChar>?, _ capacity: UInt,
            _ needed: UnsafeMutablePointer<Int>?) throws {
    let utf8 = Array(value.utf8)
    let size = utf8.count + 1
    try checkBuffer(buffer, capacity, size, needed)
    utf8.withUnsafeBufferPointer { source in
        buffer!.withMemoryRebound(to: UInt8.self, capacity: size) { target in
            if let base = source.baseAddress { target.update(from: base, count: utf8.count) }
            target[utf8.count] = 0
        }
    }
    needed?.pointee = size
}

/// The documented output protocol for arrays of `UInt16`.
func output(_ values: [UInt16], _ buffer: UnsafeMutablePointer<UInt16>?, _ capacity: UInt,
            _ needed: UnsafeMutablePointer<Int>?) throws {
    try checkBuffer(buffer, capacity, values.count, needed)
    if let buffer, !values.isEmpty {
        values.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: values.count) }
    }
    needed?.pointee = values.count
}

private func checkBuffer<T>(_ buffer: UnsafeMutablePointer<T>?, _ capacity: UInt, _ size: Int,
                            _ needed: UnsafeMutablePointer<Int>?) throws {
    if buffer == nil && capacity != 0 {
        throw PortManagerError.invalidArgument("buffer is NULL but capacity is \(capacity)")
    }
    if capacity < UInt(size) {
        needed?.pointee = size
        throw PortManagerError.bufferTooSmall(needed: size)
    }
}

/// A C `int32_t` instance ID as Swift `Int`.
@inline(__always)
func instance(_ value: Int32) -> Int { Int(value) }

/// A port known to be in 1...65535, as `uint16_t`.
@inline(__always)
func port16(_ value: Int) -> UInt16 { UInt16(truncatingIfNeeded: value) }
