import ArgumentParser
import PortManager

/// One exit status of `portmanager`, a row of ``ExitStatus/table``: the one
/// place the statuses are written. The root `--help` list (``rootHelp``), each
/// subcommand's "Exit status:" line (``help(for:)``) and the table in
/// docs/cli.md (`scripts/gen-docs.py`, block `exit-statuses`, read from the root
/// `--help`) are made from it; ``Failure``'s constants are its numbers.
struct ExitStatus: Sendable {
    /// The number. (Its name is the static constant that holds the row, as
    /// ``findings``, and ``Failure``'s constant of the same name.)
    let code: Int32
    /// What it means, across the commands that use it.
    let meaning: String
    /// True when every subcommand uses it, except those in ``uses`` whose wording is nil.
    let everyCommand: Bool
    /// Commands with a wording of their own (nil: the command never exits with
    /// it), in the order docs/cli.md names them.
    let uses: [(command: String, wording: String?)]
    /// The wording of a command ``uses`` does not name, when ``everyCommand``.
    var wording = ""

    static let success = ExitStatus(
        code: 0, meaning: "success (`probe`: the port is free)", everyCommand: true,
        uses: [("check", "when the registry is valid (one OK line is printed)"), ("reserve", "reserved"),
               ("release", "released, or already free"), ("renew", "renewed"), ("bind", "bound"),
               ("probe", "free"), ("run", nil)],
        wording: "success")
    static let findings = ExitStatus(
        code: 1,
        meaning: "`check`: the registry has errors (or warnings, with `--strict`); `probe`: the port is in use",
        everyCommand: false,
        uses: [("check", "when it has errors, or warnings with --strict"), ("probe", "in use (each holder printed)")])
    static let inputError = ExitStatus(
        code: 2,
        meaning: "usage or input error: bad flags, a registry that cannot be found, read or parsed, an unknown "
            + "service, port or environment, an instance out of range, a refused reservation store, standard "
            + "output that cannot be written (`> /dev/full`; the message goes to standard error); `reconcile`: the "
            + "Docker engine cannot be reached; `probe`: cannot tell",
        everyCommand: true,
        uses: [("summary", "usage or input error (unknown service, bad registry)"),
               ("list", "usage or input error (bad registry)"),
               ("get", "usage or input error (unknown service or port, instance out of range, bad registry)"),
               ("names", "usage or input error (unknown service, instance out of range, bad registry)"),
               ("env", "usage or input error (unknown service, instance out of range, bad registry, two ports "
                    + "giving one variable name)"),
               ("compose", "usage or input error (unknown service, instance out of range, bad registry, no "
                    + "image for --document, a value --env-file cannot write unquoted)"),
               ("docker-args", "usage or input error (unknown service, instance out of range, bad registry, a "
                    + "--volume-path that is not a plain absolute path)"),
               ("check", "when it cannot be found, read or parsed as YAML, --env names an environment the "
                    + "registry does not define, or the kernel's port range cannot be read"),
               ("bind", "usage or input errors (a name Docker refuses)"),
               ("status", "usage or input error (unknown service, bad registry, a refused reservation store)"),
               ("reconcile", "usage or input error (bad registry, a refused reservation store), or the Docker "
                    + "engine cannot be reached (nothing is changed)"),
               ("probe", "cannot tell (for example a privileged port without root that no socket holds) or bad input")],
        wording: "usage or input errors")
    static let unavailable = ExitStatus(
        code: 3,
        meaning: "`reserve`, `run`: the instance is taken (or none is free); `release`, `renew`, `bind`: someone "
            + "else owns it (`renew`, `bind`: or it is not reserved)",
        everyCommand: false,
        uses: [("reserve", "no instance is free, or the one asked for is taken (the owner is named)"),
               ("run", "when no instance can be reserved"),
               ("release", "owned by someone else (the owner is named)"),
               ("renew", "not reserved, or owned by someone else"),
               ("bind", "not reserved, or owned by someone else (the owner is named)")])
    static let cannotRun = ExitStatus(
        code: 127, meaning: "`run`: the command cannot be run", everyCommand: false,
        uses: [("run", "when COMMAND cannot be run")])

    /// Every status, in the order `--help` lists them.
    static let table: [ExitStatus] = [success, findings, inputError, unavailable, cannotRun]

    /// `run` replaces itself with its command, so its status is otherwise the
    /// command's own: no number of its own, listed after the ``table``.
    static let commandsOwn = (label: "the command's", command: "run", wording: "otherwise COMMAND's own",
                              meaning: "`run` becomes the command, so its status is the command's own")

    /// What this status means to `command`, or nil when the command never exits with it.
    func wording(for command: String) -> String? {
        if let use = uses.first(where: { $0.command == command }) { return use.wording }
        return everyCommand ? wording : nil
    }

    /// The commands that use it: "all", "all but `run`", or the list.
    var commands: String {
        guard everyCommand else { return uses.map { "`\($0.command)`" }.joined(separator: ", ") }
        let never = uses.filter { $0.wording == nil }.map { "`\($0.command)`" }
        return never.isEmpty ? "all" : "all but " + never.joined(separator: ", ")
    }

    /// The "Exit status:" line of a subcommand's `--help`: each status `command`
    /// exits with, in table order, in the command's wording.
    static func help(for command: String) -> String {
        var items = table.compactMap { row in row.wording(for: command).map { "\(row.code) \($0)" } }
        if command == commandsOwn.command { items.append(commandsOwn.wording) }
        return "Exit status: " + items.joined(separator: "; ") + "."
    }

    /// The list in the root `--help`, one status a line, as scripts/gen-docs.py
    /// reads it: `  LABEL: MEANING. Commands: COMMANDS.`
    static var rootHelp: String {
        let lines = table.map { "  \($0.code): \($0.meaning). Commands: \($0.commands)." }
            + ["  \(commandsOwn.label): \(commandsOwn.meaning). Commands: `\(commandsOwn.command)`."]
        return "Exit statuses (`portmanager help SUBCOMMAND` gives each command's own):\n" + lines.joined(separator: "\n")
    }
}

/// The CLI's exit statuses by name (numbers from ``ExitStatus/table``), and how
/// it reports library errors.
enum Failure {
    /// `check` found problems; `probe`: the port is in use.
    static let findings = ExitStatus.findings.code
    /// Usage and input errors.
    static let inputError = ExitStatus.inputError.code
    /// An instance is taken, or a reservation is someone else's.
    static let unavailable = ExitStatus.unavailable.code
    /// `run`'s command cannot be executed (as a shell's).
    static let cannotRun = ExitStatus.cannotRun.code

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
