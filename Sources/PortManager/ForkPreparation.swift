#if canImport(Glibc)
import Glibc
#endif
import PortManagerCore

/// What must be done before the process can fork while other threads call the
/// library (libportmanager's constructor runs it, when the library is loaded).
///
/// A lazy initialisation (a `static let`, a generic type's metadata, the Swift
/// runtime's own caches) runs under a `swift_once` or a runtime lock. A child
/// forked while another thread is inside one inherits it taken, and hangs the
/// first time it needs the same thing. Run once, before any other thread can
/// call the library, nothing on the hot paths is left to initialise.
public enum ForkPreparation {
    /// Initialises the globals of logging, the reservation store and the process
    /// identity. `$PORTMANAGER_LOG` is read here, so once the library is loaded.
    public static func run() {
        LogSetup.ensure()
        ReservationStore.prepareForFork()
        _ = try? ProcessIdentity.current()
    }

    /// A container list as the Docker engine writes it (every kind of JSON
    /// value, as Docker 20-28 do), for the warm-up of the store's paths: the
    /// container `warm-2` (exited, labelled as instance 2 of service `warm`, no
    /// environment) publishing host port 40099, and another without labels.
    public static let cannedContainerList = #"""
        [{"Id":"0","Names":["/warm-2"],"Image":"busybox","Command":"serve 8","Created":1717000000,"State":"exited",\#
        "Status":"Exited (0)","Labels":{"io.portmanager.service":"warm","io.portmanager.instance":"2","io.portmanager.environment":""},\#
        "Ports":[{"IP":"0.0.0.0","PrivatePort":80,"PublicPort":40099,"Type":"tcp"},{"PrivatePort":81,"Type":"udp"}],\#
        "HostConfig":{"NetworkMode":"bridge"},"NetworkSettings":{"Networks":{"bridge":{"IPAddress":"","Aliases":null,"Gateway":""}}},\#
        "Mounts":[{"Type":"volume","Name":"v","RW":true,"Propagation":""}],"SizeRw":-1.5e3},\#
        {"Id":"1","Names":["/a/b","/other"],"State":"running","Labels":null,"Ports":null,"Mounts":[]}]
        """#

    /// A lookup that reads ``cannedContainerList`` as the engine's answer
    /// (through the client's own reader) and asks no engine.
    public static func cannedContainers() -> ContainerLookup {
        ContainerLookup(listing: { () throws(DockerError) in
            try DockerEngine.containerList(Array(cannedContainerList.utf8), path: "/containers/json?all=1")
        })
    }

    /// Runs the Docker side's paths once without asking any engine: the
    /// canned list read, indexed and asked about, a probe answer named from
    /// it, and an engine without a socket asked (its failure). `directory`:
    /// a private directory (the socket path in it does not exist).
    public static func runDocker(in directory: String) {
        let canned = cannedContainers()
        _ = canned.exists("warm-2")
        if let index = canned.index {
            _ = index.publishers(port: 40099, protocol: "tcp")
            _ = index.container(service: "warm", environment: "", instance: 2, containerName: "warm-2")
            let request = PortProbe.Request(port: 40099, protocols: .tcp, host: nil)
            let answer = PortProbe.Answer(request: request, verdict: .free, holders: [], notes: [])
            _ = answer.naming(index).json()
        }
        DockerEngine.prepareForFork()
        let absent = ContainerLookup.engine(DockerEngine(socketPath: directory + "/no-engine.sock"))
        _ = absent.unavailableReason
        _ = absent.exists("warm-2")
    }

    /// Closes the store of `directory` opened by this process, and forgets it:
    /// for a scratch store used to run the store's paths once, before its
    /// directory is removed.
    public static func closeStore(_ directory: String) {
        ReservationStore.forget(directory)
    }
}
