import PortManager

// The C ABI of include/portmanager.h, section "status". The names are the
// header's (``Status``); the messages are `LastError`'s.

/// The static name of a status. See portmanager.h.
@_cdecl("pm_status_str")
public func pm_status_str(_ status: Int32) -> CString { Status(rawValue: status).cName }

/// The calling thread's last error message. See portmanager.h.
@_cdecl("pm_last_error")
public func pm_last_error() -> CString { LastError.get() }
