/// An open-addressing hash table from names (as UTF-8 bytes) to array indices.
///
/// It lets the C entry points look a service up straight from a `const char *`
/// without building a Swift `String`, which keeps `pm_get_port` in the tens of
/// nanoseconds.
struct NameIndex: Sendable, Hashable {
    private var names: [[UInt8]] = []
    private var slots: [Int32] = []
    private var mask: Int = 0

    init(_ keys: [String]) {
        names = keys.map { Array($0.utf8) }
        var capacity = 8
        while capacity < keys.count * 2 { capacity <<= 1 }
        mask = capacity - 1
        slots = Array(repeating: -1, count: capacity)
        for (index, name) in names.enumerated() {
            var slot = name.withUnsafeBytes { NameIndex.hash($0) } & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(index)
        }
    }

    /// FNV-1a over the bytes.
    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            h = (h ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    /// The index of `key`, or nil.
    @inline(__always)
    func find(_ key: UnsafeRawBufferPointer) -> Int? {
        var slot = NameIndex.hash(key) & mask
        while true {
            let candidate = Int(slots[slot])
            if candidate < 0 { return nil }
            if NameIndex.equal(names[candidate], key) { return candidate }
            slot = (slot + 1) & mask
        }
    }

    @inline(__always)
    static func equal(_ stored: [UInt8], _ key: UnsafeRawBufferPointer) -> Bool {
        guard stored.count == key.count else { return false }
        return stored.withUnsafeBytes { own in
            own.count == 0 || memcmpBytes(own, key)
        }
    }

    @inline(__always)
    private static func memcmpBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        for i in 0..<a.count where a[i] != b[i] { return false }
        return true
    }
}

extension String {
    /// Runs `body` over the string's UTF-8 bytes without copying when possible.
    @inline(__always)
    package func withUTF8Bytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var copy = self
        return try copy.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
    }
}
