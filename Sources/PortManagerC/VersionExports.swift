import CPortManagerHeader
import PortManager

// The C ABI of include/portmanager.h, section "versions". Marshalling only:
// the version is the header's macros, read at build time through module
// PortManager's `LibraryVersion`.

/// `PM_VERSION_NUMBER` of the library. See portmanager.h.
@c @implementation
public func pm_version_number() -> UInt32 { LibraryVersion.number }

/// `PM_VERSION_STRING` of the library. See portmanager.h.
@c @implementation
public func pm_version_string() -> CString? { LibraryVersion.cString }

/// `PM_ABI_VERSION` of the library. See portmanager.h.
@c @implementation
public func pm_abi_version() -> UInt32 { LibraryVersion.abi }
