internal import CPortManagerHeader

/// The library's version, taken at build time from the macros of
/// include/portmanager.h (`PM_VERSION_STRING`, `PM_VERSION_NUMBER`,
/// `PM_ABI_VERSION`), the one place it is written.
public enum LibraryVersion {
    /// `PM_VERSION_STRING`, such as "0.1.0", as a static NUL-terminated C string.
    public static var cString: UnsafePointer<CChar> { portmanager_header_version_string() }
    /// `PM_VERSION_STRING`, such as "0.1.0".
    public static var string: String { String(cString: cString) }
    /// `PM_VERSION_NUMBER`: MAJOR * 10000 + MINOR * 100 + PATCH.
    public static var number: UInt32 { portmanager_header_version_number() }
    /// `PM_ABI_VERSION`: the number in the soname.
    public static var abi: UInt32 { portmanager_header_abi_version() }
}
