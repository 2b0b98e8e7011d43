// libFuzzer entry point: any bytes must load as a registry or be refused with
// a PortManagerError; nothing may crash, hang or grow without bound.
// Built and run by scripts/fuzz.sh (not part of `make test`).
import PortManager
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    if let registry = try? Registry(yaml: bytes, source: "fuzz") {
        // Exercise the loaded model too: allocation, names, the analysis.
        for service in registry.services {
            for instance in [0, service.maxInstances - 1] {
                _ = try? registry.ports(service.name, instance: instance)
                _ = try? registry.containerName(service.name, instance: instance)
            }
        }
        _ = try? Analysis(registry: registry, options: AnalysisOptions(ephemeralRange: 32768...60999))
        for environment in registry.environments { _ = try? registry.selecting(environment: environment.name) }
    }
    return 0
}
