import CPortManagerHeader
import PortManager

// The C ABI of include/portmanager.h, section "status". The names are the
// header's (``Status``); the messages are `LastError`'s.

/// The static name of a status. See portmanager.h.
@c @implementation
public func pm_status_str(_ status: pm_status) -> CString? { Status(status).cName }

/// The calling thread's last error message. See portmanager.h.
@c @implementation
public func pm_last_error() -> CString? { LastError.get() }

/// A caller-owned copy of the calling thread's last failure. See portmanager.h.
@c @implementation
public func pm_last_error_capture() -> OpaquePointer? { LastError.capture().map(OpaquePointer.init) }

/// The message of a captured failure. See portmanager.h.
@c @implementation
public func pm_error_message(_ error: OpaquePointer?) -> CString? {
    guard let error else { return staticCString("") }
    return Unmanaged<LastError.Captured>.fromOpaque(UnsafeRawPointer(error)).takeUnretainedValue().message
}

/// Releases a captured failure. See portmanager.h.
@c @implementation
public func pm_error_free(_ error: OpaquePointer?) {
    guard let error else { return }
    Unmanaged<LastError.Captured>.fromOpaque(UnsafeRawPointer(error)).release()
}
