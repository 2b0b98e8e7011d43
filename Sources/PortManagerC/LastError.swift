#if canImport(Glibc)
import Glibc
#endif
import PortManager

/// The per-thread last error behind `pm_last_error`.
///
/// A failure records its ``PortManagerError`` as it is; the message is formed
/// when ``get()`` first reads it. So a failure costs about what a success does,
/// even an unknown service, whose did-you-mean (``DidYouMean``) searches the
/// service names: it runs only if the message is read. The pending error
/// holds what its message needs (for an unknown service, the registry's
/// ``NameIndex``), so reading it after `pm_registry_close` is fine; it is
/// dropped when read, at the thread's next failure, or when the thread exits.
/// ``capture()`` copies it out for the caller (`pm_last_error_capture`).
enum LastError {
    /// The formed message: a malloc'd C string under a pthread key whose
    /// destructor is libc's `free` (a Swift closure would crash a thread exiting
    /// after the library was unloaded).
    private static let messageKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, free)
        return key
    }()

    /// The thread's ``Pending``, created on its first failure. Its destructor is
    /// library code, which is safe because the library is linked `-z nodelete`
    /// (scripts/build.sh): it is never unloaded while a thread could still exit.
    private static let pendingKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { record in
            if let record { Unmanaged<Pending>.fromOpaque(record).release() }
        }
        return key
    }()

    /// A failure whose message is not formed yet.
    private final class Pending {
        /// Only its own thread reaches it (a thread-specific value), so no
        /// exclusivity check is needed at run time.
        @exclusivity(unchecked) var error: PortManagerError?
    }

    private static var pending: Pending {
        if let record = pthread_getspecific(pendingKey) {
            return Unmanaged<Pending>.fromOpaque(record).takeUnretainedValue()
        }
        let created = Pending()
        pthread_setspecific(pendingKey, Unmanaged.passRetained(created).toOpaque())
        return created
    }

    /// Records `error` as the thread's last failure, replacing the previous one.
    static func set(_ error: consuming PortManagerError) {
        pending.error = consume error
        if let old = pthread_getspecific(messageKey) {
            pthread_setspecific(messageKey, nil)
            free(old)
        }
    }

    /// Forgets the thread's last failure: `pm_last_error` says "" again.
    static func clear() {
        if let record = pthread_getspecific(pendingKey) {
            Unmanaged<Pending>.fromOpaque(record).takeUnretainedValue().error = nil
        }
        if let old = pthread_getspecific(messageKey) {
            pthread_setspecific(messageKey, nil)
            free(old)
        }
    }

    /// The message of the thread's last failure, formed on the first read
    /// after it; "" when the thread has had none. Valid until its next failure.
    static func get() -> UnsafePointer<CChar> {
        if let record = pthread_getspecific(pendingKey) {
            let box = Unmanaged<Pending>.fromOpaque(record).takeUnretainedValue()
            if let error = box.error {
                box.error = nil
                let old = pthread_getspecific(messageKey)
                pthread_setspecific(messageKey, strdup(error.description))
                free(old)
            }
        }
        if let current = pthread_getspecific(messageKey) {
            return UnsafePointer(current.assumingMemoryBound(to: CChar.self))
        }
        return staticCString("")
    }

    /// A caller-owned copy of the thread's last failure (`pm_last_error_capture`),
    /// retained for the caller; nil when the thread has had none. The thread's
    /// own last error is left as it is.
    static func capture() -> UnsafeMutableRawPointer? {
        let captured: Captured
        if let record = pthread_getspecific(pendingKey),
           let error = Unmanaged<Pending>.fromOpaque(record).takeUnretainedValue().error {
            captured = Captured(error)
        } else if let current = pthread_getspecific(messageKey) {
            captured = Captured(formed: strdup(current.assumingMemoryBound(to: CChar.self)))
        } else {
            return nil
        }
        return Unmanaged.passRetained(captured).toOpaque()
    }

    /// A captured failure (`pm_error`): the error until its message is asked
    /// for, then the message, a malloc'd C string it owns.
    final class Captured {
        private var error: PortManagerError?
        private var formed: UnsafeMutablePointer<CChar>?

        init(_ error: PortManagerError) { self.error = error }
        init(formed: UnsafeMutablePointer<CChar>?) { self.formed = formed }
        deinit { free(formed) }

        /// The message, formed on the first call; owned by this object.
        var message: UnsafePointer<CChar> {
            if formed == nil {
                formed = strdup(error?.description ?? "")
                error = nil
            }
            return UnsafePointer(formed!)
        }
    }
}
