// A throwaway PostgreSQL server for the tests: a cluster in a temporary folder (initdb), listening on loopback
// only, started with pg_ctl and removed afterwards. When SMPPSCOPE_TEST_POSTGRES names a running server (as
// .ci/run does), that one is used instead. Each test gets a database of its own.

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

public final class PostgresServer: @unchecked Sendable {
    /// The server binaries (initdb, pg_ctl, createdb), when PostgreSQL is installed.
    public static let binaries: String? = {
        if let found = ProcessInfo.processInfo.environment["SMPPSCOPE_PG_BIN"] { return found }
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted {
            $0.count == $1.count ? $0 > $1 : $0.count > $1.count
        }
        return versions.map { "\(root)/\($0)/bin" }.first {
            FileManager.default.isExecutableFile(atPath: "\($0)/initdb")
        }
    }()

    /// True when a server is given or can be started.
    public static var available: Bool {
        ProcessInfo.processInfo.environment["SMPPSCOPE_TEST_POSTGRES"] != nil || binaries != nil
    }

    /// One server for the whole test run, started on first use and stopped when the test process exits.
    public static let shared: Result<PostgresServer, Error> = Result {
        let server = try PostgresServer()
        atexit { if case .success(let server) = PostgresServer.shared { server.stop() } }
        return server
    }

    /// Tests that restart the server hold this exclusively; the others share it, so that no test's connection is
    /// cut by another test's restart.
    private static let restartLock = ReadWriteLock()

    /// Runs a test that uses the server but does not restart it.
    public static func sharing<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_rdlock(&restartLock.lock)
        defer { pthread_rwlock_unlock(&restartLock.lock) }
        return try body()
    }

    /// Runs a test that restarts the server, while no other test uses it.
    public static func exclusively<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_wrlock(&restartLock.lock)
        defer { pthread_rwlock_unlock(&restartLock.lock) }
        return try body()
    }

    public let host = "127.0.0.1"
    public let port: Int
    public let user: String
    private let folder: String?
    private let lock = NSLock()
    /// Held while a database is made (CREATE DATABASE runs one at a time).
    private let creating = NSLock()
    private var databases = 0

    private init() throws {
        if let given = ProcessInfo.processInfo.environment["SMPPSCOPE_TEST_POSTGRES"],
            let url = URLComponents(string: given)
        {
            port = url.port ?? 5432
            user = url.user ?? "postgres"
            folder = nil
            return
        }
        guard let binaries = Self.binaries else { throw ServerError("PostgreSQL is not installed (initdb not found)") }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("smppscope-pg-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        self.folder = folder
        user = "smppscope"
        port = freePort()
        // PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user.
        let asRoot = geteuid() == 0
        if asRoot { _ = try Self.run("/bin/chown", ["postgres:postgres", folder]) }
        try Self.run(
            binaries + "/initdb", ["-D", folder + "/data", "-U", user, "--auth=trust", "-E", "UTF8", "--no-sync"],
            asPostgres: asRoot)
        try Self.run(
            binaries + "/pg_ctl",
            [
                "-D", folder + "/data", "-l", folder + "/server.log", "-w", "-t", "60", "-o",
                "-p \(port) -k \(folder) -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                "start",
            ], asPostgres: asRoot)
    }

    deinit { stop() }

    /// Stops the server (a cluster this object started) and removes its folder.
    public func stop() {
        guard let folder else { return }
        // The postmaster's pid is the first line of postmaster.pid; SIGKILL ends it whatever signals it blocks.
        if let text = try? String(contentsOfFile: folder + "/data/postmaster.pid", encoding: .utf8),
            let line = text.split(separator: "\n").first, let pid = Int32(line)
        {
            kill(pid, SIGQUIT)
            usleep(200_000)
            kill(pid, SIGKILL)
        }
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Restarts the server (connections are cut), as a database host rebooting would.
    public func restart() throws {
        let data = folder.map { $0 + "/data" } ?? ProcessInfo.processInfo.environment["SMPPSCOPE_TEST_PGDATA"]
        guard let data, let binaries = Self.binaries else {
            throw ServerError("cannot restart a server this run did not start")
        }
        // With its log in a file: a server writing to pg_ctl's output would hold the pipe open.
        let log = URL(fileURLWithPath: data).deletingLastPathComponent().appendingPathComponent("server.log").path
        try Self.run(
            binaries + "/pg_ctl", ["-D", data, "-l", log, "-m", "fast", "-w", "-t", "60", "restart"],
            asPostgres: geteuid() == 0)
    }

    /// True when ``restart()`` can restart the server.
    public var canRestart: Bool { folder != nil || ProcessInfo.processInfo.environment["SMPPSCOPE_TEST_PGDATA"] != nil }

    /// A new, empty database; its URL.
    public func makeDatabase() throws -> String {
        lock.lock()
        databases += 1
        let name = "smppscope_test_\(getpid())_\(databases)"
        lock.unlock()
        let createdb = Self.binaries.map { $0 + "/createdb" } ?? "/usr/bin/createdb"
        // CREATE DATABASE copies template1 and refuses while another session is connected to it, which another
        // createdb is: one at a time here, and again after a moment when another process's was in the way.
        creating.lock()
        defer { creating.unlock() }
        var attempt = 0
        while true {
            do {
                try Self.run(createdb, ["-h", host, "-p", String(port), "-U", user, name])
                return "postgres://\(user)@\(host):\(port)/\(name)"
            } catch let error as ServerError where error.description.contains("being accessed by other users") {
                attempt += 1
                guard attempt < 20 else { throw error }
                usleep(250_000)
            }
        }
    }

    /// Runs one SQL statement with psql in the database `url` names; its rows, unaligned, one per line.
    public func query(_ url: String, _ sql: String) throws -> String {
        let database = URL(string: url)?.lastPathComponent ?? "postgres"
        let psql = Self.binaries.map { $0 + "/psql" } ?? "/usr/bin/psql"
        return try Self.run(psql, ["-h", host, "-p", String(port), "-U", user, "-d", database, "-Atc", sql])
    }

    public struct ServerError: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// glibc's posix_spawn_file_actions_addclosefrom_np (2.34 and later), which the Glibc module does not show.
    private static let addCloseFrom:
        (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
            else { return nil }
            return unsafeBitCast(
                symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
        }()

    /// Runs a program to its end (with posix_spawn and waitpid: a server it starts outlives it, and nothing
    /// but its own exit is waited for). Its output goes through a file.
    @discardableResult
    static func run(_ path: String, _ arguments: [String], asPostgres: Bool = false) throws -> String {
        let argv = asPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--", path] + arguments : [path] + arguments
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent(
            "smppscope-pg-\(UUID().uuidString).out"
        ).path
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of this process goes with it: sockets NIO accepted are inheritable, and a server that
        // pg_ctl starts would hold them open for its whole life — a connection the test process closes would
        // then never send its FIN.
        if let closeFrom = Self.addCloseFrom { _ = closeFrom(&actions, 3) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The child starts with no signal blocked (the test runner blocks some) and default handlers.
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGQUIT, SIGCHLD, SIGPIPE, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, &attributes, &cArguments, environ)
        guard spawned == 0 else { throw ServerError("cannot run \(argv[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // Exited normally with 0.
        guard status & 0x7F == 0, (status >> 8) & 0xFF == 0 else {
            throw ServerError("\(argv.joined(separator: " ")) failed: \(text)")
        }
        return text
    }
}

/// A loopback port nobody listens on right now.
public func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

final class ReadWriteLock: @unchecked Sendable {
    var lock = pthread_rwlock_t()
    init() { pthread_rwlock_init(&lock, nil) }
}
