import Glibc
import Testing
@testable import PortManager

// FileReader, the one read loop of the edges: the size cap is exact, a file the
// kernel sizes as 0 (/proc) is read to its end, a directory descriptor works as
// a base, and each option refuses what it promises to refuse.

/// A fresh directory with `files` (name: bytes) in it; removed by the caller with `removeTree`.
private func directory(_ files: [String: [UInt8]]) throws -> String {
    var template = Array("/tmp/pm-filereader-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { throw PortManagerError.invalidArgument("mkdtemp failed") }
    let dir = String(cString: made)
    for (name, bytes) in files {
        let fd = open(dir + "/" + name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PortManagerError.invalidArgument("cannot create \(name)") }
        defer { close(fd) }
        guard bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw PortManagerError.invalidArgument("cannot write \(name)")
        }
    }
    return dir
}

@Suite("FileReader")
struct FileReaderTests {
    @Test("a file of exactly the limit is read; one byte more is refused, with or without fstat")
    func limitIsExact() throws {
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0) }
        let dir = try directory(["f": bytes])
        defer { removeTree(dir) }
        for options: FileReader.Options in [[], [.regularOnly]] {
            #expect(try FileReader.readAll(dir + "/f", options: options, limit: 10_000, initialCapacity: 7) == bytes)
            #expect(throws: FileReadError.self) {
                try FileReader.readAll(dir + "/f", options: options, limit: 9_999, initialCapacity: 7)
            }
        }
        do {
            _ = try FileReader.readAll(dir + "/f", options: [.regularOnly], limit: 9_999)
            Issue.record("read past the limit")
        } catch {
            guard case .tooLarge(size: 10_000) = error else { Issue.record("\(error)"); return }
        }
    }

    @Test("/proc files, whose size fstat gives as 0, are read to their end")
    func procFilesAreReadWhole() throws {
        let maps = try FileReader.readAll("/proc/self/maps", options: [.regularOnly], limit: 1 << 24, initialCapacity: 16)
        #expect(maps.count > 16)
        #expect(maps.last == UInt8(ascii: "\n"))
    }

    @Test("relative to a directory descriptor")
    func readsAtADirectory() throws {
        let dir = try directory(["inner": Array("hello".utf8)])
        defer { removeTree(dir) }
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try #require(fd >= 0)
        defer { close(fd) }
        #expect(try FileReader.readAll("inner", at: fd, options: [.noFollow], limit: 100) == Array("hello".utf8))
        let prefix = "inner".withCString { FileReader.withPrefix($0, at: fd, options: [], capacity: 3) { Array($0) } }
        #expect(prefix == Array("hel".utf8))
    }

    @Test("noFollow refuses a symlink; regularOnly a directory and a FIFO, which nonBlocking opens without a writer")
    func optionsRefuse() throws {
        let dir = try directory(["target": [1, 2, 3]])
        defer { removeTree(dir) }
        #expect(symlink(dir + "/target", dir + "/link") == 0)
        #expect(mkfifo(dir + "/fifo", 0o600) == 0)
        #expect(try FileReader.readAll(dir + "/link", options: [], limit: 10) == [1, 2, 3])
        do {
            _ = try FileReader.readAll(dir + "/link", options: [.noFollow], limit: 10)
            Issue.record("followed a symlink")
        } catch {
            guard case .open(ELOOP) = error else { Issue.record("\(error)"); return }
        }
        for path in [dir, dir + "/fifo"] {
            do {
                _ = try FileReader.readAll(path, options: [.nonBlocking, .regularOnly], limit: 10)
                Issue.record("read \(path)")
            } catch {
                guard case .notRegular = error else { Issue.record("\(error)"); return }
            }
        }
        #expect("\(dir)/missing".withCString { FileReader.withPrefix($0, options: [], capacity: 8) { _ in 1 } } == nil)
    }
}
