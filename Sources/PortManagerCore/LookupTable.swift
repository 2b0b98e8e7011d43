/// A flat, read-only index of a registry for the hot path behind `pm_get_port`.
///
/// Names are stored once in a byte pool and found by an open-addressing hash
/// table, so a lookup straight from a `const char *` builds no Swift `String`,
/// touches no reference counts and allocates nothing. Built once per registry;
/// immutable afterwards, so any number of threads may read it.
///
/// `@unchecked Sendable`: its storage is raw buffers (`UnsafeMutableBufferPointer`),
/// which the compiler cannot prove safe to share; they are written only by
/// `init` and freed only by `deinit`, and every other member reads.
package final class LookupTable: @unchecked Sendable {
    struct Service {
        var nameStart: Int32, nameLength: Int32
        var firstPort: Int32, portCount: Int32
        var increment: Int32, maxInstances: Int32
    }

    struct Port {
        var nameStart: Int32, nameLength: Int32
        var base: Int32
    }

    /// The outcome of a lookup: ``Status/ok``, ``Status/unknownService``,
    /// ``Status/unknownPort`` or ``Status/instanceOutOfRange``; on success the
    /// host port, and the indexes of the service and of its port.
    package struct Hit {
        package var status: Status
        package var port: Int32
        package var service: Int32
        package var portIndex: Int32
    }

    let pool: UnsafeMutableBufferPointer<UInt8>
    let services: UnsafeMutableBufferPointer<Service>
    let ports: UnsafeMutableBufferPointer<Port>
    let slots: UnsafeMutableBufferPointer<Int32>
    let mask: Int
    let offset: Int32

    /// Indexes `services`; `offset` is the environment offset added to every host port.
    package init(_ definitions: [ServiceDefinition], offset: Int) {
        var bytes: [UInt8] = []
        var serviceRows: [Service] = []
        var portRows: [Port] = []
        func intern(_ name: String) -> (Int32, Int32) {
            let start = Int32(bytes.count)
            bytes.append(contentsOf: name.utf8)
            return (start, Int32(bytes.count) - start)
        }
        for service in definitions {
            let (start, length) = intern(service.name)
            serviceRows.append(Service(nameStart: start, nameLength: length, firstPort: Int32(portRows.count),
                                       portCount: Int32(service.ports.count),
                                       increment: Int32(clamping: service.increment),
                                       maxInstances: Int32(clamping: service.maxInstances)))
            for port in service.ports {
                let (start, length) = intern(port.name)
                portRows.append(Port(nameStart: start, nameLength: length, base: Int32(clamping: port.base)))
            }
        }
        var capacity = 8
        while capacity < definitions.count * 2 { capacity <<= 1 }
        pool = .allocate(capacity: max(bytes.count, 1))
        _ = pool.initialize(from: bytes)
        services = .allocate(capacity: max(serviceRows.count, 1))
        _ = services.initialize(from: serviceRows)
        ports = .allocate(capacity: max(portRows.count, 1))
        _ = ports.initialize(from: portRows)
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: -1)
        mask = capacity - 1
        self.offset = Int32(clamping: offset)
        for (index, row) in serviceRows.enumerated() {
            let name = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(pool)[Int(row.nameStart)..<Int(row.nameStart + row.nameLength)])
            var slot = LookupTable.hash(name) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(index)
        }
    }

    deinit {
        pool.deallocate()
        services.deallocate()
        ports.deallocate()
        slots.deallocate()
    }

    /// FNV-1a over the bytes, folded.
    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    @inline(__always)
    func equal(_ start: Int32, _ length: Int32, _ key: UnsafeRawBufferPointer) -> Bool {
        guard Int(length) == key.count else { return false }
        let base = pool.baseAddress! + Int(start)
        for i in 0..<key.count where base[i] != key[i] { return false }
        return true
    }

    /// The index of the service named by `name`'s bytes, or nil.
    @inline(__always)
    package func service(_ name: UnsafeRawBufferPointer) -> Int? {
        var slot = LookupTable.hash(name) & mask
        while true {
            let candidate = Int(slots[slot])
            if candidate < 0 { return nil }
            let row = services[candidate]
            if equal(row.nameStart, row.nameLength, name) { return candidate }
            slot = (slot + 1) & mask
        }
    }

    /// Resolves service, port and instance to a host port without allocating.
    @inline(__always)
    package func lookup(service name: UnsafeRawBufferPointer, instance: Int32, port portName: UnsafeRawBufferPointer) -> Hit {
        guard let s = service(name) else { return Hit(status: .unknownService, port: 0, service: -1, portIndex: -1) }
        let row = services[s]
        var p = Int(row.firstPort)
        let end = p + Int(row.portCount)
        while p < end {
            let port = ports[p]
            if equal(port.nameStart, port.nameLength, portName) {
                guard instance >= 0 && instance < row.maxInstances else {
                    return Hit(status: .instanceOutOfRange, port: 0, service: Int32(s), portIndex: Int32(p) - row.firstPort)
                }
                // instancePort(base:instance:increment:offset:) with wrapping
                // arithmetic: the table's numbers were checked at build, and the
                // hot path keeps no overflow trap.
                return Hit(status: .ok, port: port.base &+ instance &* row.increment &+ offset,
                           service: Int32(s), portIndex: Int32(p) - row.firstPort)
            }
            p += 1
        }
        return Hit(status: .unknownPort, port: 0, service: Int32(s), portIndex: -1)
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
