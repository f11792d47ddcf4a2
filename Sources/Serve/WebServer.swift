// The web UI and the JSON API on Hummingbird: routes that read query parameters, ask the store browser (on a
// thread pool, since a store answers synchronously), and answer JSON, HTML, a pcap file, or a stream of events.

import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import Report
import SMPP
import ServiceLifecycle

/// Who may use the server when it is not on loopback: one user and password (HTTP basic authentication).
public struct BasicCredentials: Sendable {
    public var user: String
    public var password: String

    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }

    /// True when an Authorization header carries these credentials (compared in constant time).
    func accepts(_ header: String?) -> Bool {
        guard let header, header.hasPrefix("Basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6))).flatMap({ String(data: $0, encoding: .utf8) }
            )
        else { return false }
        let expected = Array("\(user):\(password)".utf8)
        let given = Array(decoded.utf8)
        var difference = UInt8(expected.count == given.count ? 0 : 1)
        for index in 0..<max(expected.count, given.count) {
            difference |= (index < expected.count ? expected[index] : 0) ^ (index < given.count ? given[index] : 0)
        }
        return difference == 0
    }
}

/// Asks for credentials on every route when they are set.
struct BasicAuthentication<Context: RequestContext>: RouterMiddleware {
    let credentials: BasicCredentials

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard credentials.accepts(request.headers[.authorization]) else {
            var response = WebServer.error(ServeError(.unauthorized, "give the user and password"))
            response.headers[.wwwAuthenticate] = "Basic realm=\"smppscope\", charset=\"UTF-8\""
            return response
        }
        return try await next(request, context)
    }
}

/// The server: its routes over a store browser.
public enum WebServer {
    /// How often the live view looks at the store.
    public static let defaultLiveInterval: Duration = .seconds(1)

    /// The router of the web app and the API.
    public static func router(
        browser: StoreBrowser, credentials: BasicCredentials? = nil, liveInterval: Duration = defaultLiveInterval
    ) -> Router<BasicRequestContext> {
        let router = Router()
        if let credentials { router.add(middleware: BasicAuthentication(credentials: credentials)) }
        router.get("/") { _, _ in page(WebApp.indexHTML, type: "text/html; charset=utf-8") }
        router.get("/app.js") { _, _ in page(WebApp.script, type: "text/javascript; charset=utf-8") }
        router.get("/app.css") { _, _ in page(WebApp.style, type: "text/css; charset=utf-8") }
        router.get("/api/sources") { _, _ in await answer { try browser.sources() } }
        router.get("/api/sessions") { request, _ in
            await answer { try browser.sessions(SessionQuery(parameters: parameters(of: request))) }
        }
        router.get("/api/sessions/:id") { request, context in
            await answer {
                let id = try PDUQuery.integer(context.parameters.get("id") ?? "", "id")
                var query = try PDUQuery(parameters: parameters(of: request))
                if !request.uri.queryParameters.has("limit") { query.limit = 500 }
                return try browser.session(id, page: query)
            }
        }
        router.get("/api/sessions/:id/pcap") { _, context in
            do {
                let id = try PDUQuery.integer(context.parameters.get("id") ?? "", "id")
                let (bytes, truncated) = try await blocking { try browser.pcap(session: id) }
                var headers = HTTPFields()
                headers[.contentType] = "application/vnd.tcpdump.pcap"
                headers[.contentDisposition] = "attachment; filename=\"session-\(id).pcap\""
                if truncated { headers[HTTPField.Name("X-Smppscope-Truncated")!] = "\(StoreBrowser.exportLimit) PDUs" }
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
            } catch {
                return WebServer.error(error)
            }
        }
        router.get("/api/pdus") { request, _ in
            await answer { try browser.pdus(PDUQuery(parameters: parameters(of: request))) }
        }
        router.get("/api/messages/:id") { _, context in
            await answer {
                let raw = context.parameters.get("id") ?? ""
                return try browser.message(raw.removingPercentEncoding ?? raw)
            }
        }
        router.get("/api/analyze") { request, _ in
            await answer {
                var bytes = AnalyzeJSON.render(try browser.analyze(PDUQuery(parameters: parameters(of: request))))
                bytes.append(0x0A)
                return bytes
            }
        }
        router.get("/analyze") { request, _ in
            do {
                let query = try PDUQuery(parameters: parameters(of: request))
                let report = try await blocking { try browser.analyze(query) }
                // The report is self-contained (its own styles and charts): no policy of the app's.
                return page(
                    AnalyzeHTML.render(report, title: browser.name), type: "text/html; charset=utf-8", strict: false)
            } catch {
                return WebServer.error(error)
            }
        }
        router.get("/api/live") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-store"
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody { writer in
                    var last: [UInt8] = []
                    var quiet = Duration.zero
                    // Until the client goes, or the server stops (a graceful shutdown ends the stream at once).
                    while !Task.isCancelled && !Task.isShuttingDownGracefully {
                        let snapshot = try await blocking { try browser.liveSnapshot() }
                        if snapshot != last {
                            try await writer.write(
                                ByteBuffer(bytes: Array("event: store\ndata: ".utf8) + snapshot + [0x0A, 0x0A]))
                            last = snapshot
                            quiet = .zero
                        } else if quiet >= .seconds(15) {
                            try await writer.write(ByteBuffer(string: ": still here\n\n"))
                            quiet = .zero
                        }
                        var slept = Duration.zero
                        while slept < liveInterval && !Task.isShuttingDownGracefully {
                            let slice = min(liveInterval - slept, .milliseconds(100))
                            try await Task.sleep(for: slice)
                            slept += slice
                        }
                        quiet += liveInterval
                    }
                    try await writer.finish(nil)
                })
        }
        return router
    }

    /// Runs the server until SIGINT or SIGTERM; `onListening` gets the bound address (port 0 picks a free one).
    public static func run(
        browser: StoreBrowser, host: String, port: Int, credentials: BasicCredentials?,
        liveInterval: Duration = defaultLiveInterval, onListening: @escaping @Sendable (String, Int) -> Void
    ) async throws {
        let app = Application(
            router: router(browser: browser, credentials: credentials, liveInterval: liveInterval),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "smppscope"),
            onServerRunning: { channel in
                onListening(host, channel.localAddress?.port ?? port)
            },
            logger: Logger(label: "smppscope-serve", factory: { _ in SwiftLogNoOpLogHandler() }))
        try await app.runService()
    }

    // MARK: Answers

    static func parameters(of request: Request) -> [(String, String)] {
        request.uri.queryParameters.filter { !$0.key.isEmpty }.map { (String($0.key), String($0.value)) }
    }

    /// Runs store work off the event loops.
    static func blocking<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await NIOThreadPool.singleton.runIfActive { try body() }
    }

    /// A JSON answer, or the error as JSON.
    static func answer(_ body: @escaping @Sendable () throws -> [UInt8]) async -> Response {
        do {
            let bytes = try await blocking(body)
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            headers[.cacheControl] = "no-store"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        } catch {
            return WebServer.error(error)
        }
    }

    static func page(_ text: String, type: String, strict: Bool = true) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        if strict {
            // The app's scripts and styles are its own files; what the store holds is only ever text in the page.
            headers[.contentSecurityPolicy] = "default-src 'self'; img-src 'self' data:; frame-src 'self'"
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// `{"error": {"code", "reason", "location", "hint"}}` with the error's HTTP status.
    static func error(_ error: any Error) -> Response {
        let failure =
            (error as? ServeError) ?? ServeError(.storeFailed, "\(error)")
        var json = JSONWriter(capacity: 256)
        json.beginObject()
        json.key("error")
        json.beginObject()
        json.key("code"); json.string(failure.codeName)
        json.key("reason"); json.string(failure.reason)
        if let location = failure.location {
            json.key("location"); json.string(location)
        }
        if let hint = failure.hint {
            json.key("hint"); json.string(hint)
        }
        json.endObject()
        json.endObject()
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(
            status: HTTPResponse.Status(code: failure.httpStatus), headers: headers,
            body: .init(byteBuffer: ByteBuffer(bytes: json.bytes)))
    }
}
