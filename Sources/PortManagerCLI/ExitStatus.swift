import ArgumentParser
import PortManager

/// The CLI's exit statuses, and how it reports library errors. Each command's
/// `--help` states the ones it uses; README, "The command-line tool", lists them all.
///
/// - 0: success;
/// - 1 (``findings``): `check` found problems; `probe`: the port is in use;
/// - 2 (``inputError``): usage or input errors: bad flags, a registry that cannot
///   be found, read or parsed, an unknown service, port or environment, an
///   instance out of range, a refused reservation store, standard output that
///   cannot be written; `reconcile`: the Docker engine cannot be reached; `probe`: cannot tell;
/// - 3 (``unavailable``): `reserve`, `run`: the instance is taken; `release`,
///   `renew`, `bind`: the reservation is someone else's (`renew`, `bind`: or there is none);
/// - 127 (``cannotRun``): `run`: the command cannot be run. Otherwise `run`
///   exits with the command's own status, being replaced by it.
enum Failure {
    /// Exit status of `check` when the registry has problems.
    static let findings: Int32 = 1
    /// Exit status of usage and input errors.
    static let inputError: Int32 = 2
    /// Exit status when an instance is taken, or a reservation is someone else's.
    static let unavailable: Int32 = 3
    /// Exit status of `run` when its command cannot be executed (as a shell's).
    static let cannotRun: Int32 = 127

    /// Prints `error` to standard error as `portmanager: error: <message>`; an
    /// invalid registry prints one such line per problem, each `FILE:LINE:COLUMN: message`.
    static func report(_ error: PortManagerError) {
        if case .invalidRegistry(let diagnostics) = error, !diagnostics.isEmpty {
            for diagnostic in diagnostics { Output.error(diagnostic.description) }
        } else {
            Output.error(error.description)
        }
    }

    /// Runs `body`; a reservation refused for being taken or owned by someone else
    /// is reported and exits with ``unavailable``.
    static func exitingUnavailable<R>(_ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let error as PortManagerError {
            switch error {
            case .reserved, .notOwner:
                report(error)
                throw ExitCode(unavailable)
            default:
                throw error
            }
        }
    }
}
