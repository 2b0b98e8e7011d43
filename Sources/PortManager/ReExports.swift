// `import PortManager` gives Swift programs the whole library: the pure core
// (model, validation, allocation, naming, logging), the whole-lattice analysis,
// and the edges in this module (YAML files, default registry resolution, the
// port probe, stderr logs).
@_exported import PortManagerCore
@_exported import PortManagerAnalysis
