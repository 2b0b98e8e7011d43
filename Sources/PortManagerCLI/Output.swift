#if canImport(Glibc)
import Glibc
#endif

/// Standard output and standard error, written with `write(2)`.
///
/// Data goes to standard output and nothing else does: errors, summaries of
/// findings and library logs go to standard error, so `portmanager env kafka
/// --instance 1 > kafka.env` captures exactly the assignments.
///
/// Output that cannot be written is an error: a full disk (`> /dev/full`) or
/// any other write failure prints `portmanager: error: cannot write to standard
/// output: REASON` and exits 2. A reader that went away (`| head -1`, EPIPE)
/// ends the process quietly, as SIGPIPE would have: no message, killed by
/// SIGPIPE (a shell shows status 141), even when SIGPIPE was ignored.
enum Output {
    /// Writes `text` as it is (no newline added) to standard output.
    static func out(_ text: String) { write(fd: 1, text) }

    /// Writes `text` and a newline to standard output.
    static func line(_ text: String) { write(fd: 1, text + "\n") }

    /// Writes each line, newline-terminated, to standard output in one write.
    static func lines(_ lines: [String]) {
        guard !lines.isEmpty else { return }
        write(fd: 1, lines.joined(separator: "\n") + "\n")
    }

    /// Writes `text` and a newline to standard error.
    static func err(_ text: String) { write(fd: 2, text + "\n") }

    /// `portmanager: error: message` on standard error.
    static func error(_ message: String) { err("portmanager: error: " + message) }

    private static func write(fd: Int32, _ text: String) {
        var text = text
        let failure: Int32? = text.withUTF8 { buffer in
            guard let base = buffer.baseAddress else { return nil }
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, base + offset, buffer.count - offset)
                if n < 0 {
                    let code = errno
                    if code == EINTR { continue }
                    return code
                }
                offset += n
            }
            return nil
        }
        guard let failure, fd == 1 else { return }  // standard error has nowhere to report to
        if failure == EPIPE { endAsIfByBrokenPipe() }
        err("portmanager: error: cannot write to standard output: " + String(cString: strerror(failure)))
        Glibc.exit(Failure.inputError)
    }

    /// Dies of SIGPIPE, as a process that never ignored it does on its first
    /// write to a closed pipe: quietly, with the status shells and callers expect.
    private static func endAsIfByBrokenPipe() -> Never {
        signal(SIGPIPE, SIG_DFL)
        var pipeOnly = sigset_t()
        sigemptyset(&pipeOnly)
        sigaddset(&pipeOnly, SIGPIPE)
        pthread_sigmask(SIG_UNBLOCK, &pipeOnly, nil)
        raise(SIGPIPE)
        Glibc._exit(128 + SIGPIPE)  // not reached unless SIGPIPE cannot be delivered
    }
}

/// Left-aligned text columns, two spaces apart; the last column is not padded.
struct Table {
    private var rows: [[String]] = []

    /// Creates a table with an optional header row.
    init(header: [String]? = nil) {
        if let header { rows.append(header) }
    }

    /// Appends one row.
    mutating func add(_ row: [String]) { rows.append(row) }

    /// The rendered lines, each prefixed with `indent`.
    func render(indent: String = "") -> [String] {
        var widths: [Int] = []
        for row in rows {
            for (i, cell) in row.enumerated() {
                let width = cell.count
                if i < widths.count { widths[i] = max(widths[i], width) } else { widths.append(width) }
            }
        }
        return rows.map { row in
            var line = indent
            for (i, cell) in row.enumerated() {
                line += cell
                if i < row.count - 1 { line += String(repeating: " ", count: widths[i] - cell.count + 2) }
            }
            return line
        }
    }
}

/// "1 service", "2 services": a count and its noun, pluralised with an s.
func counted(_ count: Int, _ noun: String) -> String {
    "\(count) \(noun)\(count == 1 ? "" : "s")"
}
