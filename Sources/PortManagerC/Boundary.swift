#if canImport(Glibc)
import Glibc
#endif
import CPortManagerHeader
import PortManager

// Marshalling helpers shared by the shims (the *Exports.swift files, one per
// section of include/portmanager.h): handles, errors to statuses, C strings
// and the buffer protocol. No port logic.
//
// Each shim is `@c @implementation` of its declaration in the header (module
// CPortManagerHeader): the compiler checks its name, its parameter and return
// types against the header, so a signature that drifts from the contract does
// not compile. So the shims use the types the header imports as: `pm_status`
// returns (made from a ``Status``, never a number), `OpaquePointer?` for the
// opaque handles, `Int` for `size_t`, `Int32` for `int32_t` and `int`,
// `pm_log_fn?` for the callback.

/// A `const char *` argument.
public typealias CString = UnsafePointer<CChar>
/// A `char *` output buffer.
public typealias CBuffer = UnsafeMutablePointer<CChar>
/// A `size_t *` out-parameter (`needed`, counts), as Swift imports it.
public typealias CSizePointer = UnsafeMutablePointer<Int>

/// The object behind a `pm_registry *`.
final class RegistryHandle: Sendable {
    let registry: Registry
    init(_ registry: Registry) { self.registry = registry }
}

/// Turns a `pm_registry *` back into its handle, or nil for NULL.
@inline(__always)
func handle(_ pointer: OpaquePointer?) -> RegistryHandle? {
    guard let pointer else { return nil }
    return Unmanaged<RegistryHandle>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
}

/// A pointer to a static string's bytes, typed for C.
@inline(__always)
func staticCString(_ text: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// Records `error` as the thread's last error (its message is formed when
/// `pm_last_error` reads it) and returns its status.
func fail(_ error: consuming PortManagerError) -> pm_status {
    let status = error.status
    LastError.set(error)
    return status.cValue
}

/// A missing required argument.
func missing(_ function: StaticString, _ argument: StaticString) -> pm_status {
    fail(.invalidArgument("\(function): \(argument) is NULL"))
}

/// Runs `body`, mapping any thrown ``PortManagerError`` to its status.
@inline(__always)
func guarded(_ body: () throws -> Void) -> pm_status {
    do {
        try body()
        return Status.ok.cValue
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
/// `capacity` is the C `size_t` as Swift imports it (`Int`), read as the
/// unsigned number it is: every capacity up to `SIZE_MAX` that holds the result
/// succeeds (as an `Int`, those above 2^63 would be negative).
func output(_ value: String, _ buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int,
            _ needed: CSizePointer?) throws {
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

/// The documented output protocol for an array of `count` elements, made by
/// `values` only once the buffer is known to hold them: a size query (a buffer
/// too small) makes nothing, so it allocates and logs nothing.
func output<T>(count: Int, _ buffer: UnsafeMutablePointer<T>?, _ capacity: Int, _ needed: CSizePointer?,
               _ values: () throws -> [T]) throws {
    try checkBuffer(buffer, capacity, count, needed)
    let made = try values()
    guard made.count == count else {
        throw PortManagerError.invalidArgument("internal: \(made.count) values made where \(count) were counted")
    }
    if let buffer, !made.isEmpty {
        made.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: count) }
    }
    needed?.pointee = count
}

private func checkBuffer<T>(_ buffer: UnsafeMutablePointer<T>?, _ size_t: Int, _ size: Int,
                            _ needed: CSizePointer?) throws {
    let capacity = UInt(bitPattern: size_t)
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
