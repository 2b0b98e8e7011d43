import PortManager

/// The variables that `env`, `compose --env-file` and `run` give one instance:
/// the core's one vocabulary (``ServiceInstance/environmentVariables(prefix:)``,
/// docs/environment.md), as (key, value) pairs.
struct InstanceVariables {
    /// The assignments, in order: ports in source order, then the names.
    let assignments: [(key: String, value: String)]

    /// Collects the variables of `instance` of `service`. Not logged: reading is not allocating.
    ///
    /// - Throws: the registry's lookup errors, or ``PortManagerError/invalidArgument(_:)``
    ///   when two ports would give the same variable name.
    init(registry: Registry, service: String, instance: Int, prefix: String?) throws {
        assignments = try registry.instance(service, instance).environmentVariables(prefix: prefix)
            .map { ($0.key, $0.value) }
    }
}
