#if canImport(Glibc)
import Glibc
#endif
import Testing
import PortManager

// The shared conformance vectors (Tests/conformance/vectors.txt), run through the
// Swift API. The C/libffi suite (Tests/c) and the Python binding's tests run the
// same file and must get the same answers; the format is described in the file.

/// The repository root, from this file's path (Tests/PortManagerTests/...).
private let repositoryRoot: String = {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

/// The `pm_status` names of include/portmanager.h: every one (``Status/all``).
private let statusNames: Set<String> = Set(Status.all.map(\.name))

/// One query line of the vectors file.
struct ConformanceVector: Sendable, CustomTestStringConvertible {
    /// `vectors.txt:LINE`.
    let location: String
    /// The command and its arguments.
    let words: [String]
    /// The expected answer: `ok`, values, or `error STATUS: TEXT`.
    let expected: String
    /// The YAML of the registry the query names, or nil when the file defines none.
    let yaml: String?
    /// A problem with the line itself, reported as a failure.
    let malformed: String?

    var testDescription: String { "\(location): \(words.joined(separator: " ")) => \(expected)" }
}

/// Parses the vectors file: registries (`registry NAME` + `| yaml` lines) and queries.
private func loadVectors() -> [ConformanceVector] {
    let path = repositoryRoot + "/Tests/conformance/vectors.txt"
    guard let text = readWholeFile(path) else {
        return [ConformanceVector(location: path, words: ["read"], expected: "", yaml: nil,
                                  malformed: "cannot read \(path)")]
    }
    var registries: [String: String] = [:]
    var current: String?
    var vectors: [ConformanceVector] = []
    for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let line = rawLine.hasSuffix("\r") ? String(rawLine.dropLast()) : String(rawLine)
        let location = "vectors.txt:\(index + 1)"
        if line.hasPrefix("|") {
            if let name = current {
                let body = line.hasPrefix("| ") ? String(line.dropFirst(2)) : String(line.dropFirst())
                registries[name, default: ""] += body + "\n"
            } else {
                vectors.append(ConformanceVector(location: location, words: [line], expected: "", yaml: nil,
                                                 malformed: "a YAML line outside a registry"))
            }
            continue
        }
        current = nil
        if line.isEmpty || line.hasPrefix("#") { continue }
        if line.hasPrefix("registry ") {
            let name = String(line.dropFirst("registry ".count))
            current = name
            registries[name] = ""
            continue
        }
        guard let arrow = line.firstRange(of: " => ") else {
            vectors.append(ConformanceVector(location: location, words: [line], expected: "", yaml: nil,
                                             malformed: "expected 'COMMAND ARG... => EXPECTED'"))
            continue
        }
        let words = line[..<arrow.lowerBound].split(separator: " ").map(String.init)
        let expected = String(line[arrow.upperBound...])
        let yaml = words.count >= 2 ? registries[words[1]] : nil
        vectors.append(ConformanceVector(location: location, words: words, expected: expected, yaml: yaml,
                                         malformed: yaml == nil ? "unknown registry" : nil))
    }
    return vectors
}

private func readWholeFile(_ path: String) -> String? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&chunk, 1, chunk.count, file)
        if n > 0 { bytes.append(contentsOf: chunk[0..<n]) }
        if n < chunk.count { break }
    }
    return String(decoding: bytes, as: UTF8.self)
}

private let vectors = loadVectors()

/// What a query gave: an answer, or a status name and message.
private enum Outcome: Equatable {
    case answer(String)
    case failure(status: String, message: String)
}

/// Runs one query against the Swift API.
private func run(_ vector: ConformanceVector) -> Outcome {
    do {
        let registry = try Registry(yaml: vector.yaml ?? "", source: vector.words[1])
        let w = vector.words
        func instance(_ text: String) throws -> Int {
            guard let value = Int(text) else { throw PortManagerError.invalidArgument("bad instance '\(text)' in vector") }
            return value
        }
        switch (w[0], w.count) {
        case ("open", 2):
            return .answer("ok")
        case ("services", 2):
            return .answer(registry.serviceNames.joined(separator: " "))
        case ("get_port", 5):
            return .answer(String(try registry.port(w[2], instance: try instance(w[3]), name: w[4])))
        case ("get_ports", 4):
            return .answer(try registry.ports(w[2], instance: try instance(w[3])).map { String($0.hostPort) }
                .joined(separator: " "))
        case ("container_name", 4):
            return .answer(try registry.containerName(w[2], instance: try instance(w[3])))
        case ("volume_name", 4):
            return .answer(try registry.volumeName(w[2], instance: try instance(w[3])))
        case ("allocation_line", 5):
            return .answer(Log.allocationMessage(try registry.allocation(w[2], instance: try instance(w[3]), name: w[4])))
        case ("reserve", let n) where n >= 5 && (n - 3) % 2 == 0:
            var template = Array("/tmp/pm-vector-XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else { return .failure(status: "MKDTEMP", message: "mkdtemp failed") }
            let directory = String(cString: made)
            defer {
                for file in ["reservations.db", "reservations.db-wal", "reservations.db-shm"] {
                    unlink(directory + "/state/" + file)
                }
                rmdir(directory + "/state")
                rmdir(directory)
            }
            var answers: [String] = []
            for i in stride(from: 3, to: n - 1, by: 2) {
                let reservation = try registry.reserve(
                    w[2], instance: w[i] == "any" ? nil : try instance(w[i]), owner: .name(OwnerName(w[i + 1])), probe: false,
                    stateDirectory: directory + "/state", containers: .unknown)  // the store's answers, whatever containers run
                answers.append(String(reservation.instance))
            }
            return .answer(answers.joined(separator: " "))
        default:
            return .failure(status: "UNKNOWN_QUERY", message: "unknown query '\(w[0])' with \(w.count - 1) arguments")
        }
    } catch let error as PortManagerError {
        return .failure(status: error.status.name, message: error.description)
    } catch {
        return .failure(status: "NOT_A_PORTMANAGER_ERROR", message: "\(error)")
    }
}

@Suite("Conformance vectors (Tests/conformance/vectors.txt)")
struct ConformanceTests {
    @Test("the vectors file holds queries")
    func fileHasVectors() {
        #expect(statusNames.contains("PM_ERR_LEASED") && statusNames.count == Status.all.count && statusNames.count >= 17)
        #expect(vectors.count >= 50, "only \(vectors.count) vectors were read")
        #expect(vectors.contains { $0.words.first == "open" && $0.expected.hasPrefix("error ") })
    }

    @Test("each vector gives the expected answer or error", arguments: vectors)
    func vector(_ vector: ConformanceVector) {
        if let problem = vector.malformed {
            Issue.record("\(vector.location): \(problem)")
            return
        }
        let outcome = run(vector)
        if vector.expected.hasPrefix("error ") {
            let spec = vector.expected.dropFirst("error ".count)
            let status = String(spec.prefix { $0 != ":" })
            let text = spec.drop { $0 != ":" }.dropFirst().drop { $0 == " " }
            #expect(!text.isEmpty, "\(vector.location): the vector gives no message text")
            #expect(statusNames.contains(status), "\(vector.location): '\(status)' is not a pm_status name")
            guard case .failure(let actual, let message) = outcome else {
                Issue.record("\(vector.location): expected \(status), got \(outcome)")
                return
            }
            #expect(actual == status, "\(vector.location): \(message)")
            #expect(message.contains(text), "\(vector.location): '\(message)' does not contain '\(text)'")
        } else {
            #expect(outcome == .answer(vector.expected), "\(vector.location)")
        }
    }
}
