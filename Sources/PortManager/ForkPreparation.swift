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

    /// Closes the store of `directory` opened by this process, and forgets it:
    /// for a scratch store used to run the store's paths once, before its
    /// directory is removed.
    public static func closeStore(_ directory: String) {
        ReservationStore.forget(directory)
    }
}
