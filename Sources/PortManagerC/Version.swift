import PortManager

/// The library's version: the macros of include/portmanager.h, read at build
/// time through module PortManager's ``LibraryVersion``.
enum Version {
    static var number: UInt32 { LibraryVersion.number }
    static var string: CString { LibraryVersion.cString }
    static var abi: UInt32 { LibraryVersion.abi }
}
