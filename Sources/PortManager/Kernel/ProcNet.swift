#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import PortManagerCore

/// One socket of the kernel's tables `/proc/net/tcp`, `tcp6`, `udp` and `udp6`.
public struct ProcNetSocket: Sendable, Hashable {
    /// `.tcp` or `.udp`.
    public let protocols: PortProtocols
    /// The local address (4 bytes from `tcp`/`udp`, 16 from `tcp6`/`udp6`).
    public let address: IPAddress
    /// The local port.
    public let port: Int
    /// The kernel's state number (`st`): 0x0A LISTEN, 0x07 CLOSE (bound, not
    /// listening; for UDP: unconnected), 0x06 TIME_WAIT, 0x01 ESTABLISHED.
    public let state: UInt8
    /// The owner's user ID.
    public let uid: Int
    /// The socket's inode, which `/proc/PID/fd/N` links name as `socket:[INODE]`;
    /// 0 for sockets no descriptor holds (TIME_WAIT).
    public let inode: UInt64
    /// For an IPv6 socket, whether it is IPv6-only (`IPV6_V6ONLY`), as netlink
    /// reports it; nil where unknown (`/proc/net` does not show the flag).
    public let v6only: Bool?

    init(protocols: PortProtocols, address: IPAddress, port: Int, state: UInt8, uid: Int, inode: UInt64,
         v6only: Bool? = nil) {
        self.protocols = protocols
        self.address = address
        self.port = port
        self.state = state
        self.uid = uid
        self.inode = inode
        self.v6only = v6only
    }

    /// TCP LISTEN.
    public static let listen: UInt8 = 0x0A
    /// TCP CLOSE: a socket bound but not listening (nor connected).
    public static let close: UInt8 = 0x07

    /// True when the socket holds its port against a new bind, as `ss -l` and
    /// Docker see it: a TCP socket listening or bound without listening, or any
    /// UDP socket a process holds. TCP connections (ESTABLISHED, TIME_WAIT, ...)
    /// do not: a server binds with SO_REUSEADDR, as Docker does.
    public var holdsPort: Bool {
        if protocols == .udp { return inode != 0 }
        return state == ProcNetSocket.listen || (state == ProcNetSocket.close && inode != 0)
    }

    /// True for a TCP connection (ESTABLISHED, TIME_WAIT, SYN_SENT, ...: any
    /// state but LISTEN and CLOSE) on its local port: the client's ephemeral
    /// port of an outgoing connection, or the server's accepted side. It keeps a
    /// bind on that port from succeeding unless both it and the binding socket
    /// have SO_REUSEADDR (Linux's rule; for TIME_WAIT, the flag of the socket
    /// that closed), a flag the tables do not show: the probe binds to decide.
    public var isConnection: Bool {
        protocols == .tcp && state != ProcNetSocket.listen && state != ProcNetSocket.close
    }

    /// ``holdsPort`` or ``isConnection``: the sockets a probe reads.
    public var mayHoldPort: Bool { holdsPort || isConnection }

    /// `127.0.0.1:9092` or `[::]:9092`.
    public var endpoint: String { "\(address.bracketed):\(port)" }
}

/// Reading the kernel's socket tables, and finding which process holds a
/// socket, as `ss -p` does. Parsing takes the text, so fixtures can test it;
/// a malformed line is an error naming the file and line, never a crash.
public enum ProcNet {
    /// The four tables: path, protocol, and whether addresses are IPv6.
    public static let tables: [(path: String, protocols: PortProtocols, ipv6: Bool)] = [
        ("/proc/net/tcp", .tcp, false), ("/proc/net/tcp6", .tcp, true),
        ("/proc/net/udp", .udp, false), ("/proc/net/udp6", .udp, true),
    ]

    /// Parses one table. `path` names the file in errors.
    ///
    /// - Throws: ``PortManagerError/io(path:reason:)`` naming the line for a
    ///   header that is not the kernel's, or a line without the kernel's fields
    ///   (`N: ADDR:PORT ADDR:PORT ST TX:RX TR:WHEN RETR UID TIMEOUT INODE ...`).
    public static func parse(_ text: String, path: String, protocols: PortProtocols, ipv6: Bool) throws -> [ProcNetSocket] {
        var copy = text
        return try copy.withUTF8 { try parse(bytes: UnsafeRawBufferPointer($0), path: path, protocols: protocols, ipv6: ipv6) }
    }

    /// As ``parse(_:path:protocols:ipv6:)``, over bytes; `onlyHolders` keeps only
    /// sockets that hold or may hold a port (``ProcNetSocket/mayHoldPort``).
    static func parse(bytes: UnsafeRawBufferPointer, path: String, protocols: PortProtocols, ipv6: Bool,
                      onlyHolders: Bool = false) throws -> [ProcNetSocket] {
        var result: [ProcNetSocket] = []
        var lineNumber = 0
        var start = 0
        let count = bytes.count
        while start < count {
            var end = start
            while end < count && bytes[end] != 0x0A { end += 1 }
            lineNumber += 1
            let line = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
            start = end + 1
            if lineNumber == 1 {
                guard isHeader(line) else {
                    throw malformed(path, lineNumber, line, "the first line is not the table header ('sl local_address ...')")
                }
                continue
            }
            let socket = try parseLine(line, path: path, lineNumber: lineNumber, protocols: protocols, ipv6: ipv6)
            if !onlyHolders || socket.mayHoldPort {
                result.append(socket)
            }
        }
        if lineNumber == 0 { throw PortManagerError.io(path: path, reason: "the file is empty; the kernel writes a header line") }
        return result
    }

    private static func isHeader(_ line: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        while i < line.count && line[i] == 0x20 { i += 1 }
        return i + 2 <= line.count && line[i] == UInt8(ascii: "s") && line[i + 1] == UInt8(ascii: "l")
    }

    /// Fields of one line, without allocation: at most `fields.count` ranges.
    private static func parseLine(_ line: UnsafeRawBufferPointer, path: String, lineNumber: Int,
                                  protocols: PortProtocols, ipv6: Bool) throws -> ProcNetSocket {
        var fields: (Range<Int>, Range<Int>, Range<Int>, Range<Int>, Range<Int>, Range<Int>, Range<Int>, Range<Int>,
                     Range<Int>, Range<Int>) = (0..<0, 0..<0, 0..<0, 0..<0, 0..<0, 0..<0, 0..<0, 0..<0, 0..<0, 0..<0)
        var n = 0
        var i = 0
        while i < line.count && n < 10 {
            let b = line[i]
            if b == 0x20 || b == 0x09 { i += 1; continue }
            let s = i
            while i < line.count && line[i] != 0x20 && line[i] != 0x09 { i += 1 }
            switch n {
            case 0: fields.0 = s..<i
            case 1: fields.1 = s..<i
            case 2: fields.2 = s..<i
            case 3: fields.3 = s..<i
            case 4: fields.4 = s..<i
            case 5: fields.5 = s..<i
            case 6: fields.6 = s..<i
            case 7: fields.7 = s..<i
            case 8: fields.8 = s..<i
            default: fields.9 = s..<i
            }
            n += 1
        }
        // The kernel ends every line with a newline and writes no blank lines.
        if n == 0 { throw malformed(path, lineNumber, line, "a blank line") }
        guard n == 10 else { throw malformed(path, lineNumber, line, "\(n) fields where the kernel writes at least 10") }
        guard fields.0.count >= 2, line[fields.0.upperBound - 1] == UInt8(ascii: ":"),
              decimal(line, fields.0.lowerBound..<(fields.0.upperBound - 1)) != nil else {
            throw malformed(path, lineNumber, line, "the slot number is not 'N:'")
        }
        let addressDigits = ipv6 ? 32 : 8
        let local = fields.1
        guard local.count == addressDigits + 5, line[local.lowerBound + addressDigits] == UInt8(ascii: ":"),
              let port = hex(line, (local.lowerBound + addressDigits + 1)..<local.upperBound), port <= 65535,
              let address = addressBytes(line, local.lowerBound, digits: addressDigits) else {
            throw malformed(path, lineNumber, line, "the local address is not \(addressDigits) hex digits ':' 4 hex digits")
        }
        let remote = fields.2
        guard remote.count == addressDigits + 5, line[remote.lowerBound + addressDigits] == UInt8(ascii: ":"),
              allHex(line, remote.lowerBound..<(remote.lowerBound + addressDigits)),
              hex(line, (remote.lowerBound + addressDigits + 1)..<remote.upperBound) != nil else {
            throw malformed(path, lineNumber, line, "the remote address is not \(addressDigits) hex digits ':' 4 hex digits")
        }
        guard fields.3.count == 2, let state = hex(line, fields.3) else {
            throw malformed(path, lineNumber, line, "the state is not 2 hex digits")
        }
        guard colonPair(line, fields.4), colonPair(line, fields.5), hex(line, fields.6) != nil else {
            throw malformed(path, lineNumber, line, "the queue, timer or retransmit fields are not hex")
        }
        guard let uid = decimal(line, fields.7) else { throw malformed(path, lineNumber, line, "the uid is not a number") }
        guard decimal(line, fields.8) != nil else { throw malformed(path, lineNumber, line, "the timeout is not a number") }
        guard let inode = decimal(line, fields.9) else { throw malformed(path, lineNumber, line, "the inode is not a number") }
        return ProcNetSocket(protocols: protocols, address: IPAddress(bytes: address), port: Int(port),
                             state: UInt8(state), uid: Int(uid), inode: inode)
    }

    /// The kernel prints each 32-bit word of an address as the hex of the
    /// word read in host byte order: its bytes in memory are the address's.
    private static func addressBytes(_ line: UnsafeRawBufferPointer, _ start: Int, digits: Int) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(digits / 2)
        var at = start
        while at < start + digits {
            guard let word = hex(line, at..<(at + 8)) else { return nil }
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: word)) { out.append(contentsOf: $0) }
            at += 8
        }
        return out
    }

    private static func allHex(_ line: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        range.allSatisfy { i in
            let b = line[i]
            return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
        }
    }

    private static func hexPair(_ line: UnsafeRawBufferPointer, _ range: Range<Int>, split: Int) -> Bool {
        hex(line, range.lowerBound..<split) != nil && hex(line, (split + 1)..<range.upperBound) != nil
    }

    private static func colonPair(_ line: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        guard let colon = range.first(where: { line[$0] == UInt8(ascii: ":") }) else { return false }
        return hexPair(line, range, split: colon)
    }

    /// 1 to 16 hex digits.
    private static func hex(_ line: UnsafeRawBufferPointer, _ range: Range<Int>) -> UInt64? {
        guard !range.isEmpty, range.count <= 16 else { return nil }
        var value: UInt64 = 0
        for i in range {
            let b = line[i]
            let digit: UInt8
            switch b {
            case 0x30...0x39: digit = b - 0x30
            case 0x41...0x46: digit = b - 0x41 + 10
            case 0x61...0x66: digit = b - 0x61 + 10
            default: return nil
            }
            value = value << 4 | UInt64(digit)
        }
        return value
    }

    /// 1 to 19 decimal digits.
    private static func decimal(_ line: UnsafeRawBufferPointer, _ range: Range<Int>) -> UInt64? {
        guard !range.isEmpty, range.count <= 19 else { return nil }
        var value: UInt64 = 0
        for i in range {
            let b = line[i]
            guard b >= 0x30 && b <= 0x39 else { return nil }
            value = value * 10 + UInt64(b - 0x30)
        }
        return value
    }

    private static func malformed(_ path: String, _ line: Int, _ text: UnsafeRawBufferPointer, _ what: String) -> PortManagerError {
        .io(path: path, reason: "line \(line) is malformed: \(what): \(RegistryBuilder.quote(String(decoding: text, as: UTF8.self)))")
    }

    // MARK: Reading

    /// The sockets that hold or may hold ports (``ProcNetSocket/mayHoldPort``), from all four
    /// tables, each file read once; and which address families the kernel has.
    public struct Snapshot: Sendable {
        /// Sockets holding or maybe holding a port (``ProcNetSocket/mayHoldPort``), by port.
        public let byPort: [Int: [ProcNetSocket]]
        /// False when `/proc/net/tcp6` does not exist: the kernel has no IPv6.
        public let hasIPv6: Bool
        /// False when `/proc/net/tcp` does not exist.
        public let hasIPv4: Bool
        /// Where the sockets were read: ``PortProbe/Tables/netlink`` or ``PortProbe/Tables/procNet``.
        public let source: PortProbe.Tables

        /// The holding sockets of `port` for `protocols`.
        public func sockets(port: Int, protocols: PortProtocols) -> [ProcNetSocket] {
            (byPort[port] ?? []).filter { protocols.contains($0.protocols) }
        }
    }

    /// Reads the four tables under `root` (normally `/proc`).
    ///
    /// - Throws: ``PortManagerError/io(path:reason:)`` for a table that exists
    ///   but cannot be read, or a malformed line (naming file and line).
    /// Only the tables of `protocols` are read (TCP: `tcp`, `tcp6`; UDP: `udp`, `udp6`).
    public static func snapshot(root: String = "/proc", protocols: PortProtocols = .both) throws -> Snapshot {
        var byPort: [Int: [ProcNetSocket]] = [:]
        var present = [Bool](repeating: false, count: tables.count)
        for (index, table) in tables.enumerated() where protocols.contains(table.protocols) {
            let path = root + table.path.dropFirst("/proc".count)
            guard let bytes = try readFile(path) else { continue }
            present[index] = true
            let sockets = try bytes.withUnsafeBytes {
                try parse(bytes: $0, path: path, protocols: table.protocols, ipv6: table.ipv6, onlyHolders: true)
            }
            for socket in sockets { byPort[socket.port, default: []].append(socket) }
        }
        // A family is there when a table of it that was read exists (or none was read).
        func has(_ a: Int, _ b: Int) -> Bool {
            present[a] || present[b] || !(protocols.contains(tables[a].protocols) || protocols.contains(tables[b].protocols))
        }
        return Snapshot(byPort: byPort, hasIPv6: has(1, 3), hasIPv4: has(0, 2), source: .procNet)
    }

    /// A whole file, or nil when it does not exist. `/proc` files report size 0,
    /// so read until EOF (``FileReader``). At most 256 MiB.
    static func readFile(_ path: String) throws -> [UInt8]? {
        do throws(FileReadError) {
            return try FileReader.readAll(path, options: [.noFollow, .nonBlocking], limit: 1 << 28,
                                          initialCapacity: 1 << 16)
        } catch {
            switch error {
            case .open(ENOENT): return nil
            case .open(let code), .stat(let code), .read(let code):
                throw PortManagerError.io(path: path, reason: String(cString: strerror(code)))
            case .tooLarge:
                throw PortManagerError.io(path: path, reason: "larger than 256 MiB")
            case .notRegular(let mode):  // not asked for (no .regularOnly)
                throw PortManagerError.io(path: path, reason: "it is \(FileReader.kind(mode))")
            }
        }
    }

    // MARK: Processes

    /// A process holding a socket.
    public struct Process: Sendable, Hashable {
        /// Its process ID.
        public let pid: Int
        /// Its command name from `/proc/PID/comm`, escaped as log values are
        /// (``Log/escape(_:)``): a name with spaces or control characters is a
        /// quoted JSON string literal, so it cannot forge a line.
        public let command: String
    }

    /// The processes whose descriptors are the sockets `inodes`, found by reading
    /// the `/proc/PID/fd` links this user may read, as `ss -p` does. Inodes of
    /// processes of other users (unreadable links) are absent from the result.
    public static func processes(holding inodes: Set<UInt64>, root: String = "/proc") -> [UInt64: Process] {
        var found: [UInt64: Process] = [:]
        guard !inodes.isEmpty, let proc = opendir(root) else { return found }
        defer { closedir(proc) }
        var link = [CChar](repeating: 0, count: 64)
        while found.count < inodes.count, let entry = readdir(proc) {
            let name = direntName(entry)
            guard let first = name.utf8.first, first >= 0x31 && first <= 0x39, let pid = Int(name) else { continue }
            let fdDirectory = "\(root)/\(name)/fd"
            guard let fds = opendir(fdDirectory) else { continue }
            var mine: [UInt64] = []
            while let fdEntry = readdir(fds) {
                let fdName = direntName(fdEntry)
                if fdName.hasPrefix(".") { continue }
                let n = readlink(fdDirectory + "/" + fdName, &link, link.count - 1)
                guard n > 9 else { continue }
                // "socket:[12345]"
                let text = link.prefix(n).map { UInt8(bitPattern: $0) }
                guard text.starts(with: Array("socket:[".utf8)), text.last == UInt8(ascii: "]") else { continue }
                var inode: UInt64 = 0
                var ok = true
                for b in text.dropFirst(8).dropLast() {
                    guard b >= 0x30 && b <= 0x39 else { ok = false; break }
                    inode = inode &* 10 &+ UInt64(b - 0x30)
                }
                if ok && inodes.contains(inode) && found[inode] == nil { mine.append(inode) }
            }
            closedir(fds)
            guard !mine.isEmpty else { continue }
            let process = Process(pid: pid, command: command(root: root, pid: name))
            for inode in mine { found[inode] = process }
        }
        return found
    }

    /// The name of a directory entry, read in place up to its NUL (strlen): the
    /// bytes after it in the entry are not written by the kernel, and copying the
    /// whole `d_name` array would read them.
    static func direntName(_ entry: UnsafeMutablePointer<dirent>) -> String {
        let offset = MemoryLayout<dirent>.offset(of: \dirent.d_name) ?? 19
        let start = UnsafeRawPointer(entry) + offset
        let length = strlen(start.assumingMemoryBound(to: CChar.self))
        return String(decoding: Array(UnsafeRawBufferPointer(start: start, count: length)), as: UTF8.self)
    }

    /// `/proc/PID/comm`, escaped and cut to 64 characters; `?` when unreadable.
    static func command(root: String, pid: String) -> String {
        guard let bytes = try? readFile("\(root)/\(pid)/comm") else { return "?" }
        var text = String(decoding: bytes.prefix(256), as: UTF8.self)
        if text.last == "\n" { text.removeLast() }
        if text.count > 64 { text = String(text.prefix(61)) + "..." }
        return text.isEmpty ? "?" : Log.escape(text)
    }
}
