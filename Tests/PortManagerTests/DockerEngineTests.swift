#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import PortManager
@testable import PortManagerCore

// The Docker Engine client against a fake engine on a unix socket (normal,
// chunked, 404, 500, garbage, not HTTP, a stall, too large), without an engine
// (no socket, refused, $DOCKER_HOST of another scheme, libcurl missing), and
// against the real engine when /var/run/docker.sock answers.

/// Two containers as `GET /containers/json?all=1` lists them (fields as Docker
/// 20-28 write them; the ones the client does not read included).
let listAnswer = #"""
[{"Id":"4f1c0a5e9b7d","Names":["/kafka-development-1"],"Image":"apache/kafka:3.7.0","ImageID":"sha256:1d2c",\#
"Command":"/etc/kafka/docker/run","Created":1717000000,"Ports":[{"IP":"0.0.0.0","PrivatePort":9092,"PublicPort":9192,"Type":"tcp"},\#
{"IP":"::","PrivatePort":9092,"PublicPort":9192,"Type":"tcp"},{"PrivatePort":9999,"Type":"tcp"},\#
{"IP":"127.0.0.1","PrivatePort":53,"PublicPort":10053,"Type":"udp"}],\#
"Labels":{"io.portmanager.service":"kafka","io.portmanager.instance":"1","io.portmanager.environment":"development"},\#
"State":"running","Status":"Up 2 hours","HostConfig":{"NetworkMode":"bridge"},\#
"NetworkSettings":{"Networks":{"bridge":{"IPAddress":"172.17.0.2","MacAddress":"02:42:ac:11:00:02"}}},"Mounts":[]},\#
{"Id":"9a8b7c6d","Names":["/web/db","/db"],"Image":"postgres","ImageID":"sha256:aa","Command":"postgres","Created":1717000001,\#
"Ports":[],"Labels":null,"State":"exited","Status":"Exited (0) 3 days ago","HostConfig":{"NetworkMode":"default"},\#
"NetworkSettings":{"Networks":{}},"Mounts":[{"Type":"volume","Name":"db-data","Destination":"/var/lib/postgresql/data"}]}]
"""#

/// The first of them as `GET /containers/kafka-development-1/json` describes it.
let inspectAnswer = #"""
{"Id":"4f1c0a5e9b7d","Created":"2024-05-29T16:26:40.123456789Z","Path":"/etc/kafka/docker/run","Args":[],\#
"State":{"Status":"running","Running":true,"Paused":false,"Restarting":false,"OOMKilled":false,"Dead":false,"Pid":4242,\#
"ExitCode":0,"Error":"","StartedAt":"2024-05-29T16:26:41Z","FinishedAt":"0001-01-01T00:00:00Z"},\#
"Image":"sha256:1d2c","Name":"/kafka-development-1","RestartCount":0,\#
"HostConfig":{"PortBindings":{"9092/tcp":[{"HostIp":"","HostPort":"9192"}],"53/udp":[{"HostIp":"127.0.0.1","HostPort":"10053"}]}},\#
"Config":{"Hostname":"4f1c0a5e9b7d","Env":["PATH=/usr/bin"],"Image":"apache/kafka:3.7.0",\#
"Labels":{"io.portmanager.environment":"development","io.portmanager.instance":"1","io.portmanager.service":"kafka"}},\#
"NetworkSettings":{"Bridge":"","Ports":{"9092/tcp":[{"HostIp":"0.0.0.0","HostPort":"9192"},{"HostIp":"::","HostPort":"9192"}],\#
"9999/tcp":null,"53/udp":[{"HostIp":"127.0.0.1","HostPort":"10053"}]},"Networks":{"bridge":{"IPAddress":"172.17.0.2"}}}}
"""#

/// What both answers say about kafka-development-1.
let kafka = DockerContainer(
    id: "4f1c0a5e9b7d", name: "kafka-development-1", state: "running",
    labels: ["io.portmanager.service": "kafka", "io.portmanager.instance": "1", "io.portmanager.environment": "development"],
    ports: [
        DockerPublishedPort(hostIP: "0.0.0.0", hostPort: 9192, containerPort: 9092, protocol: "tcp"),
        DockerPublishedPort(hostIP: "::", hostPort: 9192, containerPort: 9092, protocol: "tcp"),
        DockerPublishedPort(hostIP: "127.0.0.1", hostPort: 10053, containerPort: 53, protocol: "udp"),
    ])

/// Runs `body` with a fake engine that answers with `reply`; stops it even when `body` throws.
func withFakeEngine(_ reply: @escaping @Sendable (String) -> FakeReply,
                    _ body: (FakeDockerEngine, DockerEngine) throws -> Void) throws {
    let fake = try FakeDockerEngine(reply: reply)
    defer { fake.stop() }
    try body(fake, DockerEngine(socketPath: fake.socketPath))
}

/// The error `body` throws, or nil (recorded as an issue) when it returns.
func dockerError<R>(_ body: () throws -> R) -> DockerError? {
    do {
        let value = try body()
        Issue.record("expected a DockerError, got \(value)")
        return nil
    } catch let error as DockerError {
        return error
    } catch {
        Issue.record("expected a DockerError, got \(error)")
        return nil
    }
}

/// Seconds since `start` on the monotonic clock.
func seconds(since start: timespec) -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec - start.tv_sec) + Double(now.tv_nsec - start.tv_nsec) / 1e9
}

@Suite("Docker Engine client against a fake engine")
struct DockerEngineTests {
    @Test("the list: every container, running or not, names without '/', link aliases skipped, published ports only")
    func list() throws {
        try withFakeEngine({ _ in .http(200, "OK", listAnswer) }) { fake, engine in
            let containers = try engine.containers()
            #expect(fake.requests == ["GET /containers/json?all=1 HTTP/1.1"])
            #expect(containers.count == 2)
            #expect(containers.first == kafka)
            #expect(containers.first?.isRunning == true)
            let db = containers.last
            #expect(db?.name == "db" && db?.state == "exited" && db?.isRunning == false)
            #expect(db?.labels == [:] && db?.ports == [])
        }
    }

    @Test("a label filter is sent as Docker's filters JSON, percent-encoded")
    func labelFilter() throws {
        try withFakeEngine({ _ in .http(200, "OK", "[]") }) { fake, engine in
            let labelled = try engine.containers(label: "io.portmanager.service")
            let quoted = try engine.containers(label: "a b=\"c\"")
            #expect(labelled == [] && quoted == [])
            #expect(fake.requests == [
                "GET /containers/json?all=1&filters=%7B%22label%22%3A%5B%22io.portmanager.service%22%5D%7D HTTP/1.1",
                "GET /containers/json?all=1&filters=%7B%22label%22%3A%5B%22a%20b%3D%5C%22c%5C%22%22%5D%7D HTTP/1.1",
            ])
        }
    }

    @Test("inspect, answered in chunks: the other JSON shape gives the same container")
    func inspectChunked() throws {
        try withFakeEngine({ _ in .chunked(inspectAnswer, size: 7) }) { fake, engine in
            let inspected = try engine.container(named: "kafka-development-1")
            #expect(inspected == kafka)
            #expect(fake.requests == ["GET /containers/kafka-development-1/json HTTP/1.1"])
        }
    }

    @Test("the list answered in chunks")
    func listChunked() throws {
        try withFakeEngine({ _ in .chunked(listAnswer, size: 100) }) { _, engine in
            let listed = try engine.containers()
            #expect(listed.first == kafka)
        }
    }

    @Test("404 for an inspect is nil; the name is percent-encoded; an empty name asks nothing")
    func notFound() throws {
        let body = #"{"message":"No such container: a b/c"}"#
        try withFakeEngine({ _ in .http(404, "Not Found", body) }) { fake, engine in
            let missing = try engine.container(named: "a b/c")
            let empty = try engine.container(named: "")
            #expect(missing == nil && empty == nil)
            #expect(fake.requests == ["GET /containers/a%20b%2Fc/json HTTP/1.1"])
            // 404 is an answer only for one container: for the list it is a failure.
            let error = dockerError { try engine.containers() }
            guard case .failed(status: 404, let message)? = error else { Issue.record("\(String(describing: error))"); return }
            #expect(message.contains("404") && message.contains("No such container"))
        }
    }

    @Test("500 is .failed, naming the status, the request and the engine's message, escaped and cut")
    func serverError() throws {
        try withFakeEngine({ line in
            line.contains("/containers/json")
                ? .http(500, "Internal Server Error", #"{"message":"boom: \u001b[31mred\nnext"}"#)
                : .http(500, "Internal Server Error", "plain text\u{7}" + String(repeating: "x", count: 500))
        }) { _, engine in
            let error = dockerError { try engine.containers() }
            guard case .failed(status: 500, let message)? = error else { Issue.record("\(String(describing: error))"); return }
            #expect(message == #"the Docker engine answered 500 to GET /containers/json?all=1: 'boom: \u001b[31mred\nnext'"#)
            let other = dockerError { try engine.container(named: "x") }
            guard case .failed(status: 500, let text)? = other else { Issue.record("\(String(describing: other))"); return }
            #expect(text.contains(#"'plain text\u0007xxx"#) && text.hasSuffix("...'") && text.count < 200)
        }
    }

    @Test("garbage is .malformed: not JSON, JSON of another shape, not HTTP at all, nothing at all",
          arguments: [
              (FakeReply.http(200, "OK", "hello world"), "not JSON"),
              (FakeReply.http(200, "OK", "{\"Id\": 1}"), "not a JSON array"),
              (FakeReply.http(200, "OK", "[{\"Id\": 1}]"), "'Id' is a number, not a string"),
              (FakeReply.http(200, "OK", "[7]"), "entry 0 is a number, not an object"),
              (FakeReply.http(200, "OK", #"[{"Id":"a","Names":["/x"],"State":"running","Ports":[{"PublicPort":70000,"PrivatePort":1,"Type":"tcp"}]}]"#),
               "Ports[].PublicPort is not a port number"),
              (FakeReply.http(200, "OK", #"[{"Id":"a","Names":["/x"],"State":"running","Labels":{"k":1}}]"#), "label 'k' is a number"),
              (FakeReply.http(200, "OK", #"[{"Id":"a","Names":[],"State":"running"}]"#), "'Names' is empty"),
              (FakeReply.bytes(Array("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n".utf8)), "in HTTP"),
              (FakeReply.bytes(Array("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n[1, 2".utf8)), "in HTTP"),
              (FakeReply.bytes([]), "in HTTP"),
          ] as [(FakeReply, String)])
    func garbage(reply: FakeReply, words: String) throws {
        try withFakeEngine({ _ in reply }) { _, engine in
            let error = dockerError { try engine.containers() }
            guard case .malformed(let message)? = error else { Issue.record("\(String(describing: error))"); return }
            #expect(message.contains(words), "\(message)")
            #expect(message.contains("GET /containers/json?all=1"))
        }
    }

    @Test("an inspect answer of another shape is .malformed, naming the field")
    func inspectGarbage() throws {
        try withFakeEngine({ _ in .http(200, "OK", #"{"Id":"a","Name":"/x","State":"running"}"#) }) { _, engine in
            let error = dockerError { try engine.container(named: "x") }
            guard case .malformed(let message)? = error else { Issue.record("\(String(describing: error))"); return }
            #expect(message.contains("'State.Status' is missing"), "\(message)")
        }
    }

    @Test("an answer larger than the cap is .malformed, with a Content-Length and chunked")
    func tooLarge() throws {
        let big = "[" + Array(repeating: "1", count: 2000).joined(separator: ",") + "]"
        for reply in [FakeReply.http(200, "OK", big), FakeReply.chunked(big, size: 100)] {
            try withFakeEngine({ _ in reply }) { _, engine in
                var small = engine
                small.maximumBody = 1024
                let error = dockerError { try small.containers() }
                guard case .malformed(let message)? = error else { Issue.record("\(String(describing: error))"); return }
                #expect(message.contains("larger than 1024 bytes"), "\(message)")
            }
        }
    }

    @Test("an engine that accepts and never answers is .timeout after the default 2 s")
    func stall() throws {
        try withFakeEngine({ _ in .stall }) { _, engine in
            #expect(engine.timeoutMilliseconds == DockerEngine.defaultTimeoutMilliseconds)
            var start = timespec()
            clock_gettime(CLOCK_MONOTONIC, &start)
            let error = dockerError { try engine.containers() }
            let elapsed = seconds(since: start)
            guard case .timeout(let message)? = error else { Issue.record("\(String(describing: error))"); return }
            #expect(message.contains("did not answer GET /containers/json?all=1 within 2000 ms"), "\(message)")
            #expect(elapsed < 10, "the timeout took \(elapsed) s")
        }
    }

    @Test("8 threads asking at once each get the whole answer")
    func threads() async throws {
        let fake = try FakeDockerEngine(reply: { _ in .http(200, "OK", listAnswer) })
        defer { fake.stop() }
        let engine = DockerEngine(socketPath: fake.socketPath)
        let results = await withTaskGroup(of: [DockerContainer]?.self) { group in
            for _ in 0..<8 { group.addTask { try? engine.containers() } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 8)
        #expect(results.allSatisfy { $0?.first == kafka })
    }
}

@Suite("Docker Engine client without an engine")
struct DockerUnavailableTests {
    /// The message of `.unavailable`, checked to start with the prefix.
    private func unavailable(_ engine: DockerEngine) -> String {
        let error = dockerError { try engine.containers() }
        guard case .unavailable(let message)? = error else { Issue.record("\(String(describing: error))"); return "" }
        #expect(message.hasPrefix(DockerError.unavailablePrefix), "\(message)")
        #expect(error?.description == message)
        return message
    }

    @Test("no socket at the path; a file that is not a socket; a socket nobody listens on")
    func noSocket() throws {
        let fake = try FakeDockerEngine(reply: { _ in .stall })
        let directory = fake.directory
        fake.stop()   // the directory and its socket are gone
        #expect(unavailable(DockerEngine(socketPath: directory + "/docker.sock")).contains("no socket at \(directory)/docker.sock"))

        // A socket file left by an engine that died: bound, then closed.
        var template = Array("/tmp/portmanager-docker-XXXXXX".utf8CString)
        let made = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!)! })
        defer { removeTree(made) }
        let path = made + "/docker.sock"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        close(fd)
        #expect(bound == 0)
        #expect(unavailable(DockerEngine(socketPath: path)).contains("cannot connect to \(path): Connection refused"))

        let file = made + "/plain"
        close(open(file, O_CREAT | O_WRONLY, 0o600))
        #expect(unavailable(DockerEngine(socketPath: file)).hasSuffix("\(file) is not a socket"))
        #expect(unavailable(DockerEngine(socketPath: "")).contains("empty"))
        #expect(unavailable(DockerEngine(socketPath: "/a\u{0}b")).contains("NUL"))
        #expect(unavailable(DockerEngine(socketPath: "/" + String(repeating: "s", count: 200))).contains("longer than 107 bytes"))
    }

    @Test("$DOCKER_HOST: unix://PATH is the socket, unset or empty the default, another scheme refused by name")
    func dockerHost() throws {
        let defaultPath = Array(DockerEngine.defaultSocketPath.utf8)
        #expect(DockerEngine.fromEnvironment(dockerHost: nil).socketPath == defaultPath)
        #expect(DockerEngine.fromEnvironment(dockerHost: []).socketPath == defaultPath)
        #expect(DockerEngine.fromEnvironment(dockerHost: Array("unix://".utf8)).socketPath == defaultPath)
        #expect(DockerEngine.fromEnvironment(dockerHost: Array("unix:///run/user/1000/docker.sock".utf8)).socketPath
                == Array("/run/user/1000/docker.sock".utf8))
        for host in ["tcp://10.0.0.1:2375", "ssh://me@box", "npipe:////./pipe/docker_engine", "/var/run/docker.sock"] {
            let engine = DockerEngine.fromEnvironment(dockerHost: Array(host.utf8))
            let message = unavailable(engine)
            #expect(message == "Docker not available: $DOCKER_HOST is '\(host)'; portmanager reaches only an engine's unix socket (unix://PATH)")
            let inspect = dockerError { try engine.container(named: "x") }
            #expect(inspect == .unavailable(message))
        }
        // Its text reaches the message escaped.
        let hostile = unavailable(DockerEngine.fromEnvironment(dockerHost: Array("tcp://x\n\u{1b}[2J".utf8) + [0xFF]))
        #expect(hostile.contains(#"'tcp://x\n\u001b[2J\xff'"#), "\(hostile)")
    }

    @Test("the environment's own $DOCKER_HOST is read")
    func environment() {
        let engine = DockerEngine.fromEnvironment()
        if let value = getenv(DockerEngine.hostVariable), value.pointee != 0 {
            let host = Array(UnsafeRawBufferPointer(start: value, count: strlen(value)))
            #expect(engine.socketPath == DockerEngine.fromEnvironment(dockerHost: host).socketPath)
        } else {
            #expect(engine.socketPath == Array(DockerEngine.defaultSocketPath.utf8))
        }
    }

    @Test("libcurl that cannot be loaded: .unavailable naming it, and nothing asked")
    func noLibcurl() throws {
        try withFakeEngine({ _ in .http(200, "OK", "[]") }) { fake, engine in
            var missing = engine
            missing.curlLibrary = "libportmanager-test-no-such-curl.so.4"
            let message = unavailable(missing)
            #expect(message.contains("libcurl") && message.contains("libportmanager-test-no-such-curl.so.4"), "\(message)")
            #expect(unavailable(missing) == message)   // not cached: asked again, refused again
            #expect(fake.requests == [])
            let listed = try engine.containers()      // the real one still works
            #expect(listed == [])
        }
    }
}
