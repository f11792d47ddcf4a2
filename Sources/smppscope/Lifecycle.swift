// The long-running commands (record, simulate) run until SIGINT or SIGTERM: swift-service-lifecycle's service group
// turns either signal into a graceful shutdown, and the command then stops in its own order (stop accepting, drain
// the sessions, close, flush the recording).

import Logging
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A service that says it is ready, waits for its group's graceful shutdown, and then ends.
struct UntilGracefulShutdown: Service {
    let ready: @Sendable () -> Void

    func run() async throws {
        ready()
        try await gracefulShutdown()
    }
}

/// Returns once SIGINT or SIGTERM arrived. `ready` runs once both are trapped (the group traps them before it starts
/// its services), so a readiness line printed there means a signal from then on stops the command in order. A
/// second signal while the command stops is ignored: the stop is bounded by its own limits (record's `--drain`).
func waitForStopSignal(ready: @escaping @Sendable () -> Void) async throws {
    let logger = Logger(label: "smppscope", factory: { _ in SwiftLogNoOpLogHandler() })
    let group = ServiceGroup(
        configuration: ServiceGroupConfiguration(
            services: [UntilGracefulShutdown(ready: ready)], gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
    try await group.run()
    signal(SIGINT, SIG_IGN)
    signal(SIGTERM, SIG_IGN)
}
