#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import PortManagerCore

/// The kernel's socket tables over netlink (`NETLINK_SOCK_DIAG`, what `ss`
/// uses): TCP sockets in every state (listening, bound, and connections, whose
/// local ports a bind may not take) and bound UDP sockets, IPv4 and IPv6, with
/// their owners' user IDs and their inodes (for ``ProcNet/processes(holding:root:)``).
///
/// It answers what `/proc/net/tcp`, `tcp6`, `udp` and `udp6` answer, faster:
/// the kernel filters the dumps to the ports asked for, so only the sockets of
/// those ports are sent and parsed (the connection hash is still walked, as
/// reading `/proc/net/tcp` walks it).
///
/// The kernel may refuse (seccomp or a container's policy: `EPERM`; a kernel
/// without the `inet_diag` module: `ENOENT`; no netlink: `EAFNOSUPPORT`):
/// that is ``Unavailable``, and callers read `/proc/net` instead. Replies are
/// parsed strictly: a message whose length does not fit the datagram, a
/// message shorter than its structure, an unknown message type or a reply to
/// another request is an error (``PortManagerError/io(path:reason:)``), never a crash.
enum SockDiag {
    /// Why netlink cannot answer here; `/proc/net` can.
    struct Unavailable: Error, Equatable {
        let reason: String
    }

    /// The name errors give for the kernel's replies.
    static let name = "netlink NETLINK_SOCK_DIAG"

    // The kernel's ABI (linux/netlink.h, linux/sock_diag.h, linux/inet_diag.h).
    static let netlinkSockDiag: Int32 = 4           // NETLINK_SOCK_DIAG
    static let sockDiagByFamily: UInt16 = 20        // SOCK_DIAG_BY_FAMILY
    static let messageNoop: UInt16 = 1              // NLMSG_NOOP
    static let messageError: UInt16 = 2             // NLMSG_ERROR
    static let messageDone: UInt16 = 3              // NLMSG_DONE
    static let flagsDumpRequest: UInt16 = 0x301     // NLM_F_REQUEST | NLM_F_DUMP
    static let attributeBytecode: UInt16 = 1        // INET_DIAG_REQ_BYTECODE
    static let attributeV6Only: UInt16 = 11         // INET_DIAG_SKV6ONLY (a u8)
    static let bytecodeSourceAtLeast: UInt8 = 2     // INET_DIAG_BC_S_GE
    static let bytecodeSourceAtMost: UInt8 = 3      // INET_DIAG_BC_S_LE
    static let headerSize = 16                      // struct nlmsghdr
    static let requestSize = 56                     // struct inet_diag_req_v2
    static let messageSize = 72                     // struct inet_diag_msg
    static let errorSize = 20                       // struct nlmsgerr (error, then the request's header)
    /// Every state, for both protocols. TCP: LISTEN holds its port; a
    /// connection (ESTABLISHED, TIME_WAIT, ...) may hold its local port against
    /// a bind (``ProcNetSocket/isConnection``: the probe binds to decide). UDP:
    /// unconnected sockets are CLOSE, connected ones ESTABLISHED; all hold.
    static let tcpStates: UInt32 = 0xFFFF_FFFF
    static let udpStates: UInt32 = 0xFFFF_FFFF

    /// A netlink socket for the kernel's socket tables; -1 with errno set.
    static func openSocket() -> Int32 {
        socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), netlinkSockDiag)
    }

    /// The sockets of `protocols` that hold or may hold a port (``ProcNetSocket/mayHoldPort``),
    /// both families, limited to `ports` when given; the families the kernel has
    /// are those whose `/proc/net` tables exist under `root`, as for ``ProcNet/snapshot(root:protocols:)``.
    ///
    /// - Throws: ``Unavailable`` when the kernel will not answer over netlink;
    ///   ``PortManagerError/io(path:reason:)`` for a malformed reply.
    static func snapshot(protocols: PortProtocols, ports: ClosedRange<Int>? = nil, root: String = "/proc",
                         open: () -> Int32 = openSocket) throws -> ProcNet.Snapshot {
        let fd = open()
        guard fd >= 0 else { throw Unavailable(reason: "socket: " + String(cString: strerror(errno))) }
        defer { close(fd) }
        // A kernel that never answers must not hang the probe.
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 8)
        defer { buffer.deallocate() }
        var byPort: [Int: [ProcNetSocket]] = [:]
        var sockets: [ProcNetSocket] = []
        var seq: UInt32 = 0
        for proto in [PortProtocols.tcp, .udp] where protocols.contains(proto) {
            for family in [UInt8(AF_INET), UInt8(AF_INET6)] {
                seq += 1
                sockets.removeAll(keepingCapacity: true)
                try dump(fd, request: request(seq: seq, family: family, protocols: proto, ports: ports),
                         seq: seq, family: family, protocols: proto, buffer: buffer, into: &sockets)
                for socket in sockets where socket.mayHoldPort && ports.map({ $0.contains(socket.port) }) ?? true {
                    byPort[socket.port, default: []].append(socket)
                }
            }
        }
        func exists(_ table: String) -> Bool { access(root + "/net/" + table, F_OK) == 0 }
        let tcp = protocols.contains(.tcp), udp = protocols.contains(.udp)
        return ProcNet.Snapshot(byPort: byPort,
                                hasIPv6: (tcp && exists("tcp6")) || (udp && exists("udp6")) || (!tcp && !udp),
                                hasIPv4: (tcp && exists("tcp")) || (udp && exists("udp")) || (!tcp && !udp),
                                source: .netlink)
    }

    /// One dump: sends `request`, reads replies until the kernel's NLMSG_DONE.
    static func dump(_ fd: Int32, request: [UInt8], seq: UInt32, family: UInt8, protocols: PortProtocols,
                     buffer: UnsafeMutableRawBufferPointer, into sockets: inout [ProcNetSocket]) throws {
        while true {
            let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            if sent == request.count { break }
            if sent < 0 && errno == EINTR { continue }
            throw Unavailable(reason: "send: " + (sent < 0 ? String(cString: strerror(errno)) : "short write"))
        }
        var done = false
        while !done {
            var from = sockaddr_storage()
            var fromLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            var iov = iovec(iov_base: buffer.baseAddress, iov_len: buffer.count)
            let received = withUnsafeMutablePointer(to: &from) { address in
                withUnsafeMutablePointer(to: &iov) { vector -> Int in
                    var header = msghdr()
                    header.msg_name = UnsafeMutableRawPointer(address)
                    header.msg_namelen = fromLength
                    header.msg_iov = vector
                    header.msg_iovlen = 1
                    let n = recvmsg(fd, &header, 0)
                    fromLength = header.msg_namelen
                    if n >= 0 && header.msg_flags & Int32(MSG_TRUNC) != 0 { return -2 }
                    return n
                }
            }
            if received == -2 { throw malformed("a reply longer than \(buffer.count) bytes") }
            if received < 0 {
                if errno == EINTR { continue }
                throw Unavailable(reason: "recvmsg: " + String(cString: strerror(errno)))
            }
            // Only the kernel (port ID 0) answers; unprivileged processes cannot
            // send to this socket, but a reply from anyone else is not one.
            let sender = withUnsafeBytes(of: from) { $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self) }
            guard fromLength >= 8, sender == 0 else { continue }
            done = try parse(UnsafeRawBufferPointer(rebasing: buffer[0..<received]), seq: seq, family: family,
                             protocols: protocols, into: &sockets)
        }
    }

    /// One request: `struct nlmsghdr`, `struct inet_diag_req_v2` and, for
    /// `ports`, the bytecode `sport >= first && sport <= last`.
    static func request(seq: UInt32, family: UInt8, protocols: PortProtocols, ports: ClosedRange<Int>?) -> [UInt8] {
        var bytes: [UInt8] = []
        let length = headerSize + requestSize + (ports == nil ? 0 : 20)
        bytes.reserveCapacity(length)
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) } }
        append(UInt32(length))
        append(sockDiagByFamily)
        append(flagsDumpRequest)
        append(seq)
        append(UInt32(0))                                            // port ID: the kernel's
        bytes += [family, UInt8(protocols == .udp ? IPPROTO_UDP : IPPROTO_TCP), 0, 0]
        append(protocols == .udp ? udpStates : tcpStates)
        bytes += [UInt8](repeating: 0, count: 48)                     // struct inet_diag_sockid: any
        if let ports {
            append(UInt16(20))                                       // struct nlattr: length, type
            append(attributeBytecode)
            // Each comparison is two 4-byte ops {code, yes, no}, the port in the second's `no`;
            // `yes` goes to the next comparison, `no` past the end (reject).
            bytes += [bytecodeSourceAtLeast, 8]; append(UInt16(20))
            bytes += [0, 0]; append(UInt16(truncatingIfNeeded: ports.lowerBound))
            bytes += [bytecodeSourceAtMost, 8]; append(UInt16(12))
            bytes += [0, 0]; append(UInt16(truncatingIfNeeded: ports.upperBound))
        }
        return bytes
    }

    /// Parses one datagram of replies to request `seq`, appending each socket.
    /// Returns true when the dump is complete (NLMSG_DONE).
    ///
    /// - Throws: ``PortManagerError/io(path:reason:)`` for a malformed reply;
    ///   ``Unavailable`` when the kernel answers with an error code.
    static func parse(_ datagram: UnsafeRawBufferPointer, seq: UInt32, family: UInt8, protocols: PortProtocols,
                      into sockets: inout [ProcNetSocket]) throws -> Bool {
        var offset = 0
        var index = 0
        guard !datagram.isEmpty else { throw malformed("an empty reply") }
        while offset < datagram.count {
            index += 1
            guard datagram.count - offset >= headerSize else {
                throw malformed("message \(index): \(datagram.count - offset) bytes where a header takes \(headerSize)")
            }
            let length = Int(datagram.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            let type = datagram.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)
            let messageSeq = datagram.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
            guard length >= headerSize, length <= datagram.count - offset else {
                throw malformed("message \(index): length \(length) outside \(headerSize)...\(datagram.count - offset)")
            }
            guard messageSeq == seq else {
                throw malformed("message \(index): sequence number \(messageSeq), not the request's \(seq)")
            }
            let payload = UnsafeRawBufferPointer(rebasing: datagram[(offset + headerSize)..<(offset + length)])
            // Messages are padded to 4 bytes; the last one may end the datagram unpadded.
            offset = min(datagram.count, offset + (length + 3) & ~3)
            switch type {
            case messageDone:
                if payload.count >= 4 {
                    let code = payload.loadUnaligned(as: Int32.self)
                    if code < 0 { throw Unavailable(reason: "the dump failed: " + String(cString: strerror(-code))) }
                }
                guard offset == datagram.count else { throw malformed("message \(index): data after the end of the dump") }
                return true
            case messageError:
                guard payload.count >= errorSize else {
                    throw malformed("message \(index): an error of \(payload.count) bytes where the kernel writes \(errorSize)")
                }
                let code = payload.loadUnaligned(as: Int32.self)
                guard code < 0 else { return true }              // an acknowledgement
                throw Unavailable(reason: String(cString: strerror(-code)))
            case messageNoop:
                continue
            case sockDiagByFamily:
                sockets.append(try diagSocket(payload, index: index, family: family, protocols: protocols))
            default:
                throw malformed("message \(index): unknown type \(type)")
            }
        }
        return false
    }

    /// One `struct inet_diag_msg` and its attributes (checked; INET_DIAG_SKV6ONLY read).
    static func diagSocket(_ payload: UnsafeRawBufferPointer, index: Int, family: UInt8, protocols: PortProtocols) throws -> ProcNetSocket {
        guard payload.count >= messageSize else {
            throw malformed("message \(index): a socket of \(payload.count) bytes where the kernel writes \(messageSize)")
        }
        guard payload[0] == family else {
            throw malformed("message \(index): address family \(payload[0]) in the reply to a dump of family \(family)")
        }
        var at = messageSize
        var v6only: Bool?
        while at < payload.count {
            guard payload.count - at >= 4 else { throw malformed("message \(index): \(payload.count - at) bytes of attributes") }
            let length = Int(payload.loadUnaligned(fromByteOffset: at, as: UInt16.self))
            let type = payload.loadUnaligned(fromByteOffset: at + 2, as: UInt16.self) & 0x3FFF  // without NLA_F_ flags
            guard length >= 4, length <= payload.count - at else {
                throw malformed("message \(index): an attribute of length \(length) outside 4...\(payload.count - at)")
            }
            if type == attributeV6Only {
                guard length >= 5 else { throw malformed("message \(index): an empty INET_DIAG_SKV6ONLY") }
                v6only = payload[at + 4] != 0
            }
            at = min(payload.count, at + (length + 3) & ~3)
        }
        let port = Int(UInt16(bigEndian: payload.loadUnaligned(fromByteOffset: 4, as: UInt16.self)))
        let address = Array(payload[8..<(family == UInt8(AF_INET6) ? 24 : 12)])
        return ProcNetSocket(protocols: protocols, address: IPAddress(bytes: address), port: port,
                             state: payload[1], uid: Int(payload.loadUnaligned(fromByteOffset: 64, as: UInt32.self)),
                             inode: UInt64(payload.loadUnaligned(fromByteOffset: 68, as: UInt32.self)),
                             v6only: family == UInt8(AF_INET6) ? v6only : nil)
    }

    static func malformed(_ what: String) -> PortManagerError {
        .io(path: name, reason: "malformed reply: " + what)
    }
}

extension PortProbe {
    /// Where the kernel's socket tables are read, for holders and for many ports at once.
    public enum Tables: Sendable, Hashable {
        /// Netlink (``netlink``) where the kernel allows it, else `/proc/net`;
        /// always `/proc/net` when the probe's `procRoot` is not `/proc`.
        case automatic
        /// `NETLINK_SOCK_DIAG` only: a kernel that refuses is an error.
        case netlink
        /// `/proc/net/tcp`, `tcp6`, `udp` and `udp6` only.
        case procNet
    }

    /// The holding sockets of `protocols` on `ports` (nil: all), from `tables`.
    /// `open` makes the netlink socket (tests pass one that fails).
    ///
    /// - Throws: ``PortManagerError/io(path:reason:)`` for a malformed reply or
    ///   table, or when `tables` is ``Tables/netlink`` and the kernel refuses.
    static func snapshot(_ procRoot: String, _ protocols: PortProtocols, ports: ClosedRange<Int>?, _ tables: Tables,
                         open: () -> Int32 = SockDiag.openSocket) throws -> ProcNet.Snapshot {
        if tables == .netlink || (tables == .automatic && procRoot == "/proc") {
            do {
                return try SockDiag.snapshot(protocols: protocols, ports: ports, root: procRoot, open: open)
            } catch let refused as SockDiag.Unavailable {
                if tables == .netlink { throw PortManagerError.io(path: SockDiag.name, reason: refused.reason) }
            }
        }
        return try ProcNet.snapshot(root: procRoot, protocols: protocols)
    }
}
