// Why a command cannot do what was asked, when no module's own error says it: a file given on the command line
// that cannot be read, a setting that makes no sense, a listener that cannot start.

import ArgumentParser
import Capture
import Report
import SMPP

/// A command's own failure: a code from a closed set, the reason, where, and what to do.
struct CommandError: LocatedError, Hashable {
    enum Code: String, Hashable, Sendable, CaseIterable {
        /// A file named on the command line (a configuration, a password file, an accounts list) cannot be read.
        case unreadableFile = "unreadable_file"
        /// What was given (a file's content, a flag's value, a missing setting) cannot be used.
        case invalidSetting = "invalid_setting"
        /// The command would do something it must be told to do (send real messages to another machine).
        case refused = "refused"
        /// There is nothing to work on (no session to replay, no such session in the store).
        case nothingToDo = "nothing_to_do"
        /// A listener (the proxy, the simulator, the metrics endpoint) cannot start.
        case cannotListen = "cannot_listen"
        /// The work started and could not be completed.
        case failed = "failed"
    }

    var code: Code
    var reason: String
    var location: String?
    var hint: String?

    init(_ code: Code, _ reason: String, location: String? = nil, hint: String? = nil) {
        self.code = code
        self.reason = reason
        self.location = location
        self.hint = hint
    }

    var description: String { reason }
}

extension CaptureError: LocatedError {}

/// Prints an error and its hint on standard error and returns status 1: `error: REASON`, then `hint: HINT` when
/// there is one (the error's own, else `hint`).
func failure(_ error: some LocatedError, hint: String? = nil) -> ExitCode {
    var message = "error: \(error.reason)\n"
    if let hint = error.hint ?? hint { message += "hint: \(hint)\n" }
    writeStandardError(message)
    return ExitCode(1)
}

/// The same for any error: a module's own error keeps its reason and hint; another becomes a failed command.
func failure(any error: any Error, context: String? = nil, hint: String? = nil) -> ExitCode {
    if let located = error as? any LocatedError {
        guard let context else { return failure(located, hint: hint) }
        return failure(
            CommandError(
                .failed, "\(context): \(located.reason)", location: located.location, hint: located.hint ?? hint))
    }
    let reason = context.map { "\($0): \(error)" } ?? "\(error)"
    return failure(CommandError(.failed, reason, hint: hint))
}
