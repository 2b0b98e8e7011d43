// `import PortManager` gives Swift programs the whole library: the pure core
// (model, validation, allocation, naming, logging) and the edges in this
// module (YAML files, default registry resolution, the port probe, stderr logs).
@_exported import PortManagerCore
