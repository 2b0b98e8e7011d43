#if canImport(Glibc)
import Glibc
#endif
import PortManagerCore

/// What the fake engine does with one request.
enum FakeReply: Sendable {
    /// Writes these bytes, then closes the connection.
    case bytes([UInt8])
    /// Reads the request and never answers (the connection is closed at ``FakeDockerEngine/stop()``).
    case stall

    /// A whole HTTP/1.1 answer with a Content-Length.
    static func http(_ status: Int, _ reason: String, _ body: String) -> FakeReply {
        .bytes(Array(("HTTP/1.1 \(status) \(reason)\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body).utf8))
    }

    /// A 200 answer in `Transfer-Encoding: chunked`, the body cut into chunks of `size` bytes.
    static func chunked(_ body: String, size: Int) -> FakeReply {
        var out = Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        let bytes = Array(body.utf8)
        var start = 0
        while start < bytes.count {
            let chunk = bytes[start..<min(start + size, bytes.count)]
            out += Array((String(chunk.count, radix: 16) + "\r\n").utf8) + chunk + Array("\r\n".utf8)
            start += size
        }
        return .bytes(out + Array("0\r\n\r\n".utf8))
    }
}

/// A Docker engine played on a unix socket in a private temporary directory,
/// by one thread that answers each request (read up to its blank line) with
/// what `reply` says for its request line (`GET /containers/json?all=1 HTTP/1.1`).
/// ``stop()`` ends the thread, closes every connection and removes the directory.
final class FakeDockerEngine: @unchecked Sendable {
    let directory: String
    let socketPath: String
    /// The request lines received, in order.
    var requests: [String] { received.read() }

    private let reply: @Sendable (String) -> FakeReply
    private let received = Locked<[String]>([])
    private let listener: Int32
    private var wake: [Int32] = [-1, -1]
    private var thread = pthread_t()
    private var stalled: [Int32] = []
    private var stopped = false

    init(reply: @escaping @Sendable (String) -> FakeReply) throws {
        var template = Array("/tmp/portmanager-docker-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw PortManagerError.invalidArgument("mkdtemp failed")
        }
        directory = String(cString: made)
        socketPath = directory + "/docker.sock"
        self.reply = reply
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in socketPath.utf8.enumerated() { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard listener >= 0, bound == 0, listen(listener, 64) == 0, pipe(&wake) == 0 else {
            close(listener)
            removeTree(directory)
            throw PortManagerError.invalidArgument("cannot listen on \(socketPath): \(String(cString: strerror(errno)))")
        }
        wake.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
        let context = Unmanaged.passRetained(self).toOpaque()
        guard pthread_create(&thread, nil, { context in
            let engine = Unmanaged<FakeDockerEngine>.fromOpaque(context!).takeRetainedValue()
            engine.serve()
            return nil
        }, context) == 0 else {
            Unmanaged<FakeDockerEngine>.fromOpaque(context).release()
            close(listener)
            removeTree(directory)
            throw PortManagerError.invalidArgument("pthread_create failed")
        }
    }

    /// Ends the thread, closes the stalled connections and the socket, removes the directory.
    func stop() {
        guard !stopped else { return }
        stopped = true
        var byte: UInt8 = 1
        _ = write(wake[1], &byte, 1)
        pthread_join(thread, nil)
        stalled.forEach { _ = close($0) }
        close(listener)
        close(wake[0])
        close(wake[1])
        removeTree(directory)
    }

    /// The server loop: accepts until woken through the pipe.
    private func serve() {
        while true {
            var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0), pollfd(fd: wake[0], events: Int16(POLLIN), revents: 0)]
            guard poll(&fds, 2, -1) >= 0 || errno == EINTR else { return }
            if fds[1].revents != 0 { return }
            guard fds[0].revents != 0 else { continue }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
            let line = readRequest(connection)
            received.withLock { $0.append(line) }
            switch reply(line) {
            case .stall:
                stalled.append(connection)
            case .bytes(let bytes):
                var sent = 0
                while sent < bytes.count {
                    let n = bytes[sent...].withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if n <= 0 { break }
                    sent += n
                }
                close(connection)
            }
        }
    }

    /// The request's first line, read up to the blank line that ends its head
    /// (a GET has no body); at most 64 KiB, waiting at most 5 s.
    private func readRequest(_ connection: Int32) -> String {
        var head: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while head.count < 65536, !head.ends(with: Array("\r\n\r\n".utf8)) {
            var fd = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
            guard poll(&fd, 1, 5000) > 0 else { break }
            let n = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            head += buffer[..<n]
        }
        let line = head.prefix { $0 != UInt8(ascii: "\r") }
        return String(decoding: line, as: UTF8.self)
    }
}

extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
