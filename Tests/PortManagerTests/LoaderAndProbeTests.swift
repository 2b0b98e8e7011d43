import Glibc
import Testing
@testable import PortManager

/// A fresh directory under /tmp, removed by the caller with `removeTree`.
private func temporaryDirectory() -> String {
    var template = Array("/tmp/portmanager-test-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
}

private func write(_ text: String, to path: String) {
    let file = fopen(path, "w")!
    fputs(text, file)
    fclose(file)
}

/// Tests that change the working directory or environment variables run one at a time.
@Suite("Loading files and the default registry", .serialized)
struct LoaderTests {
    @Test func readsAFileAndNamesItInErrors() throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        write("svc:\n  port: 4000\n", to: dir + "/good.yaml")
        #expect(try Registry(contentsOf: dir + "/good.yaml").port("svc") == 4000)
        write("svc:\n  port: 4000\n  max_instancse: 3\n", to: dir + "/bad.yaml")
        #expect {
            try Registry(contentsOf: dir + "/bad.yaml")
        } throws: { error in
            "\(error)".hasPrefix(dir + "/bad.yaml:3:3: unknown key 'max_instancse'")
        }
    }

    @Test("paths are bytes: a name that is not UTF-8 opens, and shows escaped")
    func bytePaths() throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        let first = Array(dir.utf8) + [0x2F, 0x72, 0xFF, 0xFE]  // "/r\xff\xfe"
        let second = Array(dir.utf8) + [0x2F, 0x72, 0xFF, 0xFD]
        for (path, text) in [(first, "one:\n  port: 4001\n"), (second, "two:\n  port: 4002\n")] {
            let file = (path + [0]).withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { fopen($0.baseAddress!, "w")! } }
            fputs(text, file)
            fclose(file)
        }
        let one = try Registry.open(pathBytes: first)
        #expect(one.serviceNames == ["one"])
        #expect(one.source == dir + "/r\\xff\\xfe")
        #expect(try Registry(contentsOfPath: second).serviceNames == ["two"])
        #expect(throws: PortManagerError.registryNotFound(searched: [dir + "/r\\xff\\xfc (no such file)"])) {
            try Registry(contentsOfPath: Array(dir.utf8) + [0x2F, 0x72, 0xFF, 0xFC])
        }
    }

    @Test("messages show paths escaped and cut, keeping both ends")
    func shownPaths() {
        #expect(PathText.shown("/a/b.yaml") == "/a/b.yaml")
        #expect(PathText.shown("/a\nb\u{1B}") == "/a\\nb\\u001b")
        #expect(PathText.display([0x61, 0xC3, 0xA9, 0xC3, 0x62]) == "a\u{E9}\\xc3b")
        let long = "/" + String(repeating: "x", count: 1 << 20) + "/end"
        let shown = PathText.shown(long)
        #expect(shown.utf8.count <= PathText.messageLimit)
        #expect(shown.hasPrefix("/xxx") && shown.contains("...") && shown.hasSuffix("x/end"))
        #expect(PortManagerError.io(path: shown, reason: "cannot open: File name too long").description.utf8.count < 400)
        // Locations escape their file at display time; a path already escaped shows unchanged.
        #expect("\(SourceLocation(file: "/r\nforged", line: 1, column: 2))" == "/r\\nforged:1:2")
        #expect(PathText.shown(PathText.display([0x72, 0xFF, 0x0A])) == "r\\xff\\n")
        #expect(PathText.text(Array("/we\"ird\\ di\tr".utf8)) == "/we\"ird\\ di\tr")
    }

    @Test("a FIFO, a socket or a device is refused at once")
    func notRegularFiles() throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        #expect(mkfifo(dir + "/fifo", 0o600) == 0)
        #expect(throws: PortManagerError.io(path: dir + "/fifo",
                                            reason: "it is a FIFO (named pipe), not a regular file; a registry must be a regular file")) {
            try Registry(contentsOf: dir + "/fifo")
        }
        #expect(throws: PortManagerError.io(path: "/dev/null",
                                            reason: "it is a character device, not a regular file; a registry must be a regular file")) {
            try Registry(contentsOf: "/dev/null")
        }
    }

    @Test func missingFilesAndDirectories() {
        #expect(throws: PortManagerError.registryNotFound(searched: ["/nonexistent/reg.yaml (no such file)"])) {
            try Registry(contentsOf: "/nonexistent/reg.yaml")
        }
        #expect(throws: PortManagerError.io(path: "/tmp", reason: "it is a directory")) {
            try Registry(contentsOf: "/tmp")
        }
        #expect(throws: PortManagerError.invalidArgument("the registry path is empty")) {
            try Registry.open(path: "")
        }
    }

    @Test func resolutionOrder() throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        var saved = [CChar](repeating: 0, count: 4096)
        getcwd(&saved, saved.count)
        defer { chdir(saved); unsetenv(Registry.registryVariable); unsetenv(Registry.environmentVariable) }
        chdir(dir)
        unsetenv(Registry.registryVariable)
        unsetenv(Registry.environmentVariable)

        // Nothing anywhere: the error names every place it looked, starting with these.
        setenv("XDG_CONFIG_HOME", dir + "/xdg", 1)
        defer { unsetenv("XDG_CONFIG_HOME") }
        do {
            _ = try Registry.open()
            Issue.record("found a registry where there is none")
        } catch PortManagerError.registryNotFound(let searched) {
            #expect(Array(searched.prefix(2)) == ["$PORTMANAGER_REGISTRY (not set)", "./dynamicconfig/port_registry.yaml (no such file)"])
            #expect(searched.contains(dir + "/xdg/portmanager/port_registry.yaml (no such file)"))
            #expect(searched.contains("/etc/portmanager/port_registry.yaml (no such file)"))
            #expect(searched.last?.contains("share/portmanager/port_registry.yaml") == true)
        }

        // 4. $XDG_CONFIG_HOME/portmanager/port_registry.yaml
        mkdir(dir + "/xdg", 0o755)
        mkdir(dir + "/xdg/portmanager", 0o755)
        write("fromxdg:\n  port: 3003\n", to: dir + "/xdg/portmanager/port_registry.yaml")
        #expect(try Registry.open().serviceNames == ["fromxdg"])

        // 3. ./dynamicconfig/port_registry.yaml
        mkdir(dir + "/dynamicconfig", 0o755)
        write("conv:\n  port: 3000\n_environments:\n  ci: 20000\n", to: dir + "/dynamicconfig/port_registry.yaml")
        #expect(try Registry.open().serviceNames == ["conv"])

        // 2. $PORTMANAGER_REGISTRY wins over the conventional path.
        write("fromenv:\n  port: 3001\n", to: dir + "/env.yaml")
        setenv(Registry.registryVariable, dir + "/env.yaml", 1)
        #expect(try Registry.open().serviceNames == ["fromenv"])

        // 1. An explicit path wins over both.
        write("explicit:\n  port: 3002\n", to: dir + "/explicit.yaml")
        #expect(try Registry.open(path: dir + "/explicit.yaml").serviceNames == ["explicit"])

        // A variable naming a missing file falls through, and is named in the error if nothing is found.
        setenv(Registry.registryVariable, dir + "/missing.yaml", 1)
        #expect(try Registry.open().serviceNames == ["conv"])

        // $PORTMANAGER_ENV selects an environment; an unknown one is an error, not ignored.
        setenv(Registry.environmentVariable, "ci", 1)
        #expect(try Registry.open().port("conv") == 23000)
        #expect(try Registry.open(environment: "ci").environment?.name == "ci")
        setenv(Registry.environmentVariable, "qa", 1)
        #expect(throws: PortManagerError.unknownEnvironment("qa", available: ["ci"])) { try Registry.open() }
    }

    @Test func shippedRegistryLoads() throws {
        let root = #filePath.split(separator: "/").dropLast(3).joined(separator: "/")
        let registry = try Registry(contentsOf: "/" + root + "/dynamicconfig/port_registry.yaml")
        #expect(registry.services.count == 15)
        #expect(try registry.port("kafka", instance: 1, name: "broker_port") == 9192)
        #expect(try registry.port("kafka", instance: 2, name: "controller_port") == 19293)
        #expect(try registry.containerName("kafka", instance: 1) == "kafka-development-1")
        #expect(try registry.volumeName("kafka", instance: 1) == "kafka-data-1")
        #expect(try registry.allocation("argocd", instance: 1, name: "server_port").mapping == "8190:8080")
    }
}

@Suite("Port availability probe")
struct ProbeTests {
    /// Binds and listens on an ephemeral loopback port; returns the fd and port.
    private func listener() -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                _ = bind(fd, pointer, length)
                _ = listen(fd, 1)
                _ = getsockname(fd, pointer, &length)
            }
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    @Test func inUseAndThenFree() throws {
        let (fd, port) = listener()
        #expect(port > 0)
        #expect(try PortProbe.check(port: port) == .inUse)
        close(fd)
        #expect(try PortProbe.check(port: port) == .available)
    }

    @Test func badArgumentsAreRefused() {
        for port in [0, -1, 65536, 1 << 40] {
            #expect(throws: PortManagerError.invalidArgument("port \(port) is outside 1..65535")) {
                try PortProbe.check(port: port)
            }
        }
        #expect(throws: PortManagerError.invalidArgument("the host is empty")) { try PortProbe.check(port: 80, host: "") }
    }

    @Test func anAddressNotOnThisHostCannotBeChecked() {
        #expect {
            try PortProbe.check(port: 8080, host: "192.0.2.1")
        } throws: { error in
            guard case PortManagerError.probeFailed(let host, let port, let reason) = error else { return false }
            return host == "192.0.2.1" && port == 8080 && reason.contains("bind")
        }
    }
}
