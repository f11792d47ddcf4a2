// `smppscope serve`: the web UI and JSON API over a store (SQLite or PostgreSQL), until SIGINT or SIGTERM.

import ArgumentParser
import Capture
import Foundation
import Report
import Serve
import Store

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Browse a store in a web browser: search, sessions as ladder diagrams, messages, analysis, live.",
        discussion: """
            Serves a web app and a JSON API (docs/serve.md) over a store that import or record fills, SQLite or \
            PostgreSQL. It listens on loopback unless told otherwise; off loopback give --user and \
            --password-file, since the store holds message texts and numbers.

            Examples:
              smppscope serve --store smpp.sqlite
              smppscope serve --store postgres://smppscope@db.internal/smpp \\
                  --listen 0.0.0.0:8080 --user ops --password-file /etc/smppscope/web-password
            """)

    @Option(name: .long, help: ArgumentHelp("The store to serve.", valueName: "file|url"))
    var store: String

    @Option(help: ArgumentHelp("Where to listen (port 0 picks a free port).", valueName: "host:port"))
    var listen = "127.0.0.1:8080"

    @Option(name: .long, help: ArgumentHelp("Require this user (HTTP basic authentication).", valueName: "name"))
    var user: String?

    @Option(
        name: .long, help: ArgumentHelp("The file that holds the user's password (its first line).", valueName: "file"))
    var passwordFile: String?

    @Option(name: .long, help: ArgumentHelp("How often the live view looks at the store.", valueName: "seconds"))
    var liveInterval: Double = 1

    func validate() throws {
        guard hostPort(listen) != nil else {
            throw ValidationError("invalid --listen \"\(listen)\"; expected host:port, e.g. 127.0.0.1:8080")
        }
        if (user == nil) != (passwordFile == nil) {
            throw ValidationError("give --user and --password-file together")
        }
        if let user, user.isEmpty || user.contains(":") {
            throw ValidationError("--user must be a name without a colon")
        }
        if !(liveInterval >= 0.05 && liveInterval <= 60) {
            throw ValidationError("--live-interval must be between 0.05 and 60 seconds")
        }
    }

    func run() async throws {
        let credentials = try readCredentials()
        let store = try openExistingStore(self.store)
        let name = PostgresLocation.redacting(self.store)
        guard let (host, port) = hostPort(listen) else { return }
        if !(IPAddress(host)?.isLoopback ?? (host == "localhost")) {
            if credentials == nil {
                writeStandardError(
                    "warning: listening on \(host), not only on loopback, without --user: anyone who can reach it reads "
                        + "the store (message texts, numbers)\n")
            } else {
                writeStandardError(
                    "warning: listening on \(host), not only on loopback; the password travels in clear over HTTP\n")
            }
        }
        let browser = StoreBrowser(store: store, name: name)
        do {
            try await WebServer.run(
                browser: browser, host: host, port: port, credentials: credentials,
                liveInterval: .milliseconds(Int64(liveInterval * 1_000))
            ) { host, port in
                let shown = host.contains(":") ? "[\(host)]" : host
                writeStandardError("smppscope serve: http://\(shown):\(port)/ (\(name)); Ctrl-C to stop\n")
            }
        } catch {
            throw failure(
                CommandError(
                    .cannotListen, "cannot serve on \(listen): \(error)", location: listen,
                    hint: "choose another --listen address or port"))
        }
    }

    private func readCredentials() throws -> BasicCredentials? {
        guard let user, let passwordFile else { return nil }
        guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8) else {
            throw failure(
                CommandError(
                    .unreadableFile, "cannot read \(passwordFile)", location: passwordFile,
                    hint: "put the password on the first line of a file only you can read"))
        }
        let password = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard !password.isEmpty else {
            throw failure(
                CommandError(
                    .invalidSetting, "\(passwordFile) holds no password on its first line", location: passwordFile))
        }
        return BasicCredentials(user: user, password: password)
    }
}
