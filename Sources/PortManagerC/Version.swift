/// The library's version; must equal the macros in include/portmanager.h
/// (a test compares them).
enum Version {
    static let major: UInt32 = 0
    static let minor: UInt32 = 1
    static let patch: UInt32 = 0
    static let number: UInt32 = major * 10000 + minor * 100 + patch
    static let string: StaticString = "0.1.0"
    static let abi: UInt32 = 1
}
