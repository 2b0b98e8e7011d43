#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import PortManagerCore

/// The one file reader of the edges: every file the library reads (a registry,
/// `/proc` tables and process files, `/proc/sys` settings) is opened and read
/// here, so the read loop (to the end of the file, retrying reads a signal
/// interrupts) and the size cap are written once.
///
/// - ``readAll(_:at:options:limit:initialCapacity:)``: a whole file, at most
///   `limit` bytes, or a ``FileReadError`` the caller turns into its message.
/// - ``withPrefix(_:at:options:capacity:_:)``: at most `capacity` bytes into a
///   stack buffer, without allocating (process files read per owner check).
///
/// Files are opened `O_RDONLY | O_CLOEXEC | O_NOCTTY`, plus ``Options`` as the
/// caller needs, by path or relative to a directory descriptor (`openat`).
/// The registry's own read, with its messages, is ``read(_:)-([UInt8])``.
enum FileReader {
    /// How a file is opened and what is accepted.
    struct Options: OptionSet {
        let rawValue: Int
        /// `O_NOFOLLOW`: a symbolic link as the last component is refused (`ELOOP`).
        static let noFollow = Options(rawValue: 1)
        /// `O_NONBLOCK`: a FIFO without a writer cannot block the open. A
        /// regular file never blocks, so the flag can stay set for the reads.
        static let nonBlocking = Options(rawValue: 2)
        /// `fstat` after the open: anything but a regular file is refused, and
        /// the file's size sizes the buffer (`/proc` files report 0 and are read
        /// in chunks all the same).
        static let regularOnly = Options(rawValue: 4)

        var openFlags: Int32 {
            O_RDONLY | O_CLOEXEC | O_NOCTTY | (contains(.noFollow) ? O_NOFOLLOW : 0)
                | (contains(.nonBlocking) ? O_NONBLOCK : 0)
        }
    }

    /// Opens `path` (relative to `directory`, by default the working directory)
    /// for reading; the descriptor, or the errno of `openat`.
    static func open(_ path: UnsafePointer<CChar>, at directory: Int32 = AT_FDCWD,
                     options: Options) -> Result<Int32, FileReadError> {
        let fd = openat(directory, path, options.openFlags)
        return fd >= 0 ? .success(fd) : .failure(.open(errno))
    }

    /// Reads from `fd` into `buffer` until it is full or the file ends, retrying
    /// a read that a signal interrupted (`EINTR`): the bytes read, and 0 or the
    /// errno of the read that failed (the bytes before it are kept).
    static func fill(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> (count: Int, error: Int32) {
        guard let base = buffer.baseAddress else { return (0, 0) }
        var total = 0
        while total < buffer.count {
            let n = Glibc.read(fd, base + total, buffer.count - total)
            if n > 0 { total += n; continue }
            if n == 0 { break }
            let code = errno
            if code == EINTR { continue }
            return (total, code)
        }
        return (total, 0)
    }

    /// ``readAll(_:at:options:limit:initialCapacity:)`` of a Swift path string.
    static func readAll(_ path: String, at directory: Int32 = AT_FDCWD, options: Options, limit: Int,
                        initialCapacity: Int = 4096) throws(FileReadError) -> [UInt8] {
        try path.withCString { path in
            Result { () throws(FileReadError) in
                try readAll(path, at: directory, options: options, limit: limit, initialCapacity: initialCapacity)
            }
        }.get()
    }

    /// The file at `path`, whole: at most `limit` bytes (a longer one is
    /// ``FileReadError/tooLarge(size:)``). The buffer starts at the size `fstat`
    /// gives (with ``Options/regularOnly``), else at `initialCapacity`, and
    /// doubles as needed: files whose size the kernel does not tell (`/proc`)
    /// are read to their end.
    static func readAll(_ path: UnsafePointer<CChar>, at directory: Int32 = AT_FDCWD, options: Options, limit: Int,
                        initialCapacity: Int = 4096) throws(FileReadError) -> [UInt8] {
        let fd = try open(path, at: directory, options: options).get()
        defer { close(fd) }
        var capacity = max(1, min(initialCapacity, limit + 1))
        if options.contains(.regularOnly) {
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw .stat(errno) }
            guard (info.st_mode & S_IFMT) == S_IFREG else { throw .notRegular(info.st_mode) }
            let size = Int(info.st_size)
            if size > limit { throw .tooLarge(size: size) }
            capacity = size + 1  // one byte more, to notice growth
        }
        var bytes = [UInt8](repeating: 0, count: capacity)
        var filled = 0
        while true {
            if filled == bytes.count {
                guard bytes.count <= limit else { throw .tooLarge(size: nil) }
                let grown = min(limit + 1, bytes.count + max(4096, bytes.count))
                bytes.append(contentsOf: repeatElement(0, count: grown - bytes.count))
            }
            let (count, error) = bytes.withUnsafeMutableBytes { fill(fd, UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }
            filled += count
            if error != 0 { throw .read(error) }
            if filled < bytes.count { break }  // the file ended before the buffer did
        }
        bytes.removeSubrange(filled...)
        return bytes
    }

    /// What a file that is not a regular file is, for the message that refuses it.
    static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFSOCK: return "a socket"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        default: return "an unknown kind of file"
        }
    }

    /// Reads at most `capacity` bytes of the file at `path` into a stack buffer
    /// and runs `body` on them; nil when the file cannot be opened. A read that
    /// fails ends the bytes there. Allocates nothing (for `/proc/PID/stat`
    /// and `comm`, read at every owner check).
    static func withPrefix<R>(_ path: UnsafePointer<CChar>, at directory: Int32 = AT_FDCWD, options: Options,
                              capacity: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R?) -> R? {
        guard case .success(let fd) = open(path, at: directory, options: options) else { return nil }
        defer { close(fd) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer in
            let (count, _) = fill(fd, UnsafeMutableRawBufferPointer(buffer))
            return body(UnsafeBufferPointer(rebasing: buffer[0..<count]))
        }
    }
}

/// Why ``FileReader`` could not read a file; each caller words it (a registry
/// names the file and says what a registry must be; `/proc` readers give the errno).
enum FileReadError: Error {
    /// `openat` failed with this errno.
    case open(Int32)
    /// `fstat` failed with this errno.
    case stat(Int32)
    /// Not a regular file (``FileReader/Options/regularOnly``): its `st_mode`.
    case notRegular(mode_t)
    /// Larger than the caller's limit: the size `fstat` gave, or nil when found
    /// while reading.
    case tooLarge(size: Int?)
    /// `read` failed with this errno.
    case read(Int32)
}

/// Calls `body` with `path` as a NUL-terminated C string.
///
/// - Throws: ``PortManagerError/invalidArgument(_:)`` when `path` holds a NUL byte,
///   which no file name can.
func withCPath<R>(_ path: [UInt8], _ body: (UnsafePointer<CChar>) throws -> R) throws -> R {
    guard !path.contains(0) else {
        throw PortManagerError.invalidArgument("the path \(PathText.shown(path)) holds a NUL byte")
    }
    return try (path + [0]).withUnsafeBufferPointer { buffer in
        try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
    }
}

/// The text of errno `code`, as `strerror` gives it.
func describe(errno code: Int32) -> String { String(cString: strerror(code)) }
