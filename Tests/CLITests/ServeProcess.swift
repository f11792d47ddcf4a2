// A running `smppscope serve` for the tests, and a reader of its live event stream.

import Foundation
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `smppscope serve` on a free loopback port, stopped with SIGTERM.
final class ServeProcess {
    let process = Process()
    private(set) var port = 0
    let log = StandardErrorLog()

    init(store: String, _ extra: [String] = []) throws {
        process.executableURL = URL(fileURLWithPath: Paths.binary ?? "/nonexistent")
        process.arguments = ["serve", "--store", store, "--listen", "127.0.0.1:0"] + extra
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        let log = self.log
        errors.fileHandleForReading.readabilityHandler = { handle in log.append(handle.availableData) }
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, process.isRunning {
            let text = log.all
            if let range = text.range(of: "smppscope serve: http://127.0.0.1:"),
                let port = Int(text[range.upperBound...].prefix { $0.isNumber })
            {
                self.port = port
                return
            }
            usleep(20_000)
        }
        throw SocketError("smppscope serve did not start: \(log.all)")
    }

    func get(_ path: String, headers: [String] = [], timeout: Double = 30) throws -> HTTPReply {
        try httpRequest(port: port, path: path, headers: headers, timeout: timeout)
    }

    /// The JSON object a path answers with 200.
    func json(_ path: String) throws -> [String: Any] {
        let reply = try get(path)
        guard reply.status == 200,
            let object = try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any]
        else { throw SocketError("GET \(path): \(reply.status) \(reply.body.prefix(300))") }
        return object
    }

    /// Every PDU a /api/pdus query selects, page after page of `limit`.
    func allPDUs(_ query: String, limit: Int) throws -> (pdus: [[String: Any]], pages: Int) {
        var pdus: [[String: Any]] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try json(
                "/api/pdus?\(query)&limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? ""))
            pdus += page["pdus"] as? [[String: Any]] ?? []
            cursor = page["next_cursor"] as? String
            pages += 1
        } while cursor != nil && pages < 10_000
        return (pdus, pages)
    }

    /// Stops it as a service manager would; its exit status.
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    deinit { stop() }
}

/// Reads server-sent events from a path: the data of each `event: store`.
final class EventStream {
    private let connection: SocketConnection
    private var text = ""

    init(port: Int, path: String) throws {
        connection = try SocketConnection.connect(port: port)
        try connection.send(Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".utf8))
    }

    /// The next event's data that `accept` takes, within `timeout` seconds.
    func next(timeout: Double = 10, where accept: ([String: Any]) -> Bool = { _ in true }) -> [String: Any]? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            while let range = text.range(of: "data: ") {
                let rest = text[range.upperBound...]
                guard let end = rest.firstIndex(of: "\n") else { break }
                let data = String(rest[..<end])
                text = String(rest[end...])
                if let object = try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any],
                    accept(object)
                {
                    return object
                }
            }
            let got = connection.receive(atLeast: 1, timeout: 0.5)
            // Chunked framing aside (sizes on lines of their own), the events' lines arrive as they were written.
            text += String(decoding: got.bytes, as: UTF8.self)
            if got.closed { return nil }
        }
        return nil
    }

    deinit { connection.closeNow() }
}
