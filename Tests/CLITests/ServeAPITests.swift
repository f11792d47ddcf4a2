// `smppscope serve`'s JSON API against stores (SQLite and PostgreSQL) of the bundled and reference captures. The
// oracle is the reference captures' ground truth (tshark's decode of every PDU, and the capture's facts), and
// tshark again for the pcap a session is exported as.

import Foundation
import TestSupport
import Testing

/// A reference capture's ground truth: its PDUs, keyed by where they start in their direction of the stream.
struct Truth {
    struct Key: Hashable {
        var src: String
        var offset: Int
    }

    let rows: [[String: Any]]
    let facts: [String: Any]

    init(_ capture: String) throws {
        rows = try String(contentsOfFile: capture + ".pdus.jsonl", encoding: .utf8).split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        facts =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: capture + ".facts.json")))
            as? [String: Any] ?? [:]
    }

    static func key(_ row: [String: Any]) -> Key {
        Key(src: row["src"] as? String ?? "", offset: row["stream_offset"] as? Int ?? -1)
    }

    /// command, sequence number and status of each PDU.
    var byKey: [Key: String] {
        Dictionary(
            rows.map { (Self.key($0), Self.describe($0)) }, uniquingKeysWith: { first, _ in first })
    }

    static func describe(_ row: [String: Any]) -> String {
        let status: String
        if let name = row["command_status_name"] as? String { status = name } else { status = "?" }
        return "\(row["command"] ?? "") #\(row["sequence_number"] ?? "") \(status)"
    }

    /// The receipt id a deliver_sm carries (its receipted_message_id TLV, else the text's id:).
    static func receiptID(_ row: [String: Any]) -> String? {
        for tlv in row["tlvs"] as? [[String: Any]] ?? [] where tlv["name"] as? String == "receipted_message_id" {
            return tlv["value"] as? String
        }
        guard let text = row["text"] as? String, let range = text.range(of: "id:") else { return nil }
        return String(text[range.upperBound...].prefix { $0 != " " })
    }
}

@Suite(
    "serve: the JSON API", .serialized,
    .enabled(if: Paths.binary != nil, "smppscope is not built; run swift build first"))
struct ServeAPITests {
    static let burst = CapturesAtHand.reference[0]
    static let stress = CapturesAtHand.reference[1]

    static var stores: [String] {
        get throws {
            var stores = ["sqlite"]
            if PostgresServer.available { stores.append("postgres") }
            return stores
        }
    }

    /// A store of the burst capture, the stress capture and the bundled Kannel capture, in that order.
    static func makeStore(_ kind: String, scratch: Scratch) throws -> String {
        let store =
            kind == "sqlite" ? scratch.path("smpp.sqlite") : try PostgresServer.shared.get().makeDatabase()
        let imported = try smppscope(["import", burst, stress, CapturesAtHand.bundled[0], "--store", store])
        #expect(imported.status == 0, "\(imported.errors)")
        return store
    }

    @Test(arguments: try stores)
    func theAPIAnswersAsTheCapturesTruthSays(_ kind: String) throws {
        try PostgresServer.sharing {
            let scratch = try Scratch()
            let server = try ServeProcess(store: try Self.makeStore(kind, scratch: scratch))
            let truth = try Truth(Self.burst)

            // Sources, with their PDU counts.
            let sources = try #require(try server.json("/api/sources")["sources"] as? [[String: Any]])
            #expect(sources.count == 3)
            #expect(sources[0]["pdus"] as? Int == truth.rows.count)
            #expect(sources[1]["pdus"] as? Int == (try Truth(Self.stress)).rows.count)
            let burstSource = try #require(sources[0]["id"] as? Int)

            // Every PDU of the burst capture, read in pages of 37, is the truth's PDU at its place in the stream.
            let (pdus, pages) = try server.allPDUs("source=\(burstSource)", limit: 37)
            #expect(pages == (truth.rows.count + 36) / 37)
            var shown: [Truth.Key: String] = [:]
            for pdu in pdus { shown[Truth.key(pdu)] = Truth.describe(pdu) }
            #expect(pdus.count == truth.rows.count && shown == truth.byKey)
            let frames = pdus.compactMap { $0["frame"] as? Int }
            #expect(frames == frames.sorted(), "pages follow the capture's order")

            // The stress capture (segments split, reordered, retransmitted) too, in pages of 5.
            let stressTruth = try Truth(Self.stress)
            let stressPDUs = try server.allPDUs("source=\(try #require(sources[1]["id"] as? Int))", limit: 5).pdus
            #expect(
                Dictionary(stressPDUs.map { (Truth.key($0), Truth.describe($0)) }, uniquingKeysWith: { a, _ in a })
                    == stressTruth.byKey)

            // A message id, in its own spelling and in hex: its submit, response, queries and receipts.
            let id = "854019"
            let carrying = truth.rows.filter {
                $0["message_id"] as? String == id
                    || ($0["command"] as? String == "deliver_sm" && Truth.receiptID($0) == id)
            }
            let answered = carrying.filter { $0["command"] as? String == "submit_sm_resp" }.compactMap {
                $0["sequence_number"] as? Int
            }
            let submits = truth.rows.filter {
                $0["command"] as? String == "submit_sm" && answered.contains($0["sequence_number"] as? Int ?? -1)
            }
            let expected = Set((carrying + submits).map(Truth.describe))
            #expect(expected.count >= 4, "the truth has the submit, its response, a query and its response")
            for spelling in [id, String(Int(id) ?? 0, radix: 16).uppercased()] {
                let found = try server.allPDUs("message_id=\(spelling)&source=\(burstSource)", limit: 100).pdus
                #expect(Set(found.map(Truth.describe)) == expected, "message_id=\(spelling)")
            }

            // Keys the store indexes: an error status, a receipt state, an address; and a command.
            let throttled = try server.allPDUs("source=\(burstSource)&status=ESME_RTHROTTLED", limit: 50).pdus
            #expect(throttled.count == truth.facts["throttled_responses_0x58"] as? Int)
            #expect(throttled.allSatisfy { $0["command_status"] as? Int == 0x58 })
            let delivered = truth.rows.filter { ($0["text"] as? String)?.contains("stat:DELIVRD") == true }
            #expect(try server.allPDUs("source=\(burstSource)&state=delivrd", limit: 10).pdus.count == delivered.count)
            let address = "77011000006"
            let toOrFrom = truth.rows.filter {
                $0["source_addr"] as? String == address || $0["destination_addr"] as? String == address
            }
            #expect(
                Set(try server.allPDUs("source=\(burstSource)&address=\(address)", limit: 3).pdus.map(Truth.describe))
                    == Set(toOrFrom.map(Truth.describe)))
            let counts = try #require(truth.facts["counts_per_command"] as? [String: Int])
            #expect(
                try server.allPDUs("command=query_sm&source=\(burstSource)", limit: 2).pdus.count == counts["query_sm"])
            #expect(
                try server.allPDUs("system_id=smsckz&command=submit_sm&source=\(burstSource)", limit: 1_000).pdus.count
                    == counts["submit_sm"])

            // The session: its PDUs with their links; no password.
            let sessions = try #require(
                try server.json("/api/sessions?source=\(burstSource)")["sessions"] as? [[String: Any]])
            #expect(sessions.count == 1 && sessions[0]["system_id"] as? String == "smsckz")
            let sessionID = try #require(sessions[0]["id"] as? Int)
            let reply = try server.get("/api/sessions/\(sessionID)?limit=1000")
            #expect(reply.status == 200)
            #expect(
                !reply.body.contains("secret") && reply.body.contains("<redacted>"), "the bind's password is redacted")
            let session = try #require(try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any])
            let ladder = try #require(session["pdus"] as? [[String: Any]])
            #expect(ladder.count == truth.rows.count)
            let byRef = Dictionary(ladder.map { ($0["ref"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
            var linked = 0
            for pdu in ladder {
                guard let request = pdu["request"] as? String else { continue }
                let asked = try #require(byRef[request])
                #expect(asked["sequence_number"] as? Int == pdu["sequence_number"] as? Int)
                #expect((asked["command_id"] as? Int ?? 0) | 0x8000_0000 == pdu["command_id"] as? Int)
                let latency = ((pdu["ts"] as? Double ?? 0) - (asked["ts"] as? Double ?? 0)) * 1_000
                #expect(abs(latency - (pdu["latency_ms"] as? Double ?? -1)) < 0.01)
                linked += 1
            }
            #expect(linked == truth.facts["request_response_pairs"] as? Int)
            // Each receipt points to the submit whose response gave its id.
            var receipts = 0
            for pdu in ladder where pdu["receipt"] != nil {
                let submit = try #require(
                    byRef[pdu["receipt_for"] as? String ?? ""], "receipt \(pdu["ref"] ?? "") is linked")
                let response = try #require(ladder.first { $0["request"] as? String == submit["ref"] as? String })
                #expect(response["message_id"] as? String == (pdu["receipt"] as? [String: Any])?["id"] as? String)
                receipts += 1
            }
            #expect(receipts == counts["deliver_sm"])

            // The session as pcap: tshark finds every PDU, in each direction's order.
            let pcap = try server.get("/api/sessions/\(sessionID)/pcap")
            #expect(pcap.status == 200 && pcap.headers.contains("application/vnd.tcpdump.pcap"))
            let file = scratch.path("session.pcap")
            try Data(pcap.bodyBytes).write(to: URL(fileURLWithPath: file))
            if TShark.available {
                let decoded = try TShark.pdus(file, decodeAs: 2775)
                #expect(decoded.count == truth.rows.count)
                let wanted = truth.rows.map { ($0["command_id"] as? String ?? "", $0["sequence_number"] as? Int ?? -1) }
                let got = decoded.map { (String(format: "0x%08x", $0.commandID), Int($0.sequenceNumber)) }
                #expect(Set(got.map { "\($0.0) \($0.1)" }) == Set(wanted.map { "\($0.0) \($0.1)" }))
            }

            // The analysis of a selection.
            let analysis = try server.json("/api/analyze?source=\(burstSource)")
            #expect(analysis["pdus_total"] as? Int == truth.rows.count)
            #expect(analysis["counts_per_command"] as? [String: Int] == counts)
            let html = try server.get("/analyze?session=\(sessionID)")
            #expect(html.status == 200 && html.body.contains("<svg"))

            // A message's life: its submit, response and receipts.
            let message = try server.json("/api/messages/\(id)")
            // (The other captures gave the same id to messages of their own SMSCs: parts of their own.)
            let parts = try #require(message["parts"] as? [[String: Any]]).filter {
                ($0["submit"] as? String)?.hasPrefix("\(burstSource)-") == true
            }
            #expect(
                parts.count == 1 && parts[0]["message_id"] as? String == id
                    && parts[0]["status"] as? String == "ESME_ROK")
            let receiptRows = truth.rows.filter {
                $0["command"] as? String == "deliver_sm" && Truth.receiptID($0) == id
            }
            #expect((parts[0]["receipts"] as? [String])?.count == receiptRows.count)
            server.stop()
        }
    }

    @Test func badRequestsGetAClearErrorAsJSON() throws {
        let scratch = try Scratch()
        let server = try ServeProcess(store: try Self.makeStore("sqlite", scratch: scratch))
        let cases: [(String, Int, String, String)] = [
            ("/api/pdus?colour=red", 400, "invalid_parameter", "unknown parameter \\\"colour\\\""),
            ("/api/pdus?limit=0", 400, "invalid_parameter", "limit must be between 1 and 1000"),
            ("/api/pdus?limit=5000", 400, "invalid_parameter", "limit must be between"),
            ("/api/pdus?cursor=abc", 400, "invalid_parameter", "is not a cursor"),
            ("/api/pdus?from=yesterday", 400, "invalid_parameter", "invalid time"),
            ("/api/pdus?from=1e300", 400, "invalid_parameter", "invalid time"),
            ("/api/pdus?status=ESME_NOPE", 400, "invalid_parameter", "unknown error status"),
            ("/api/pdus?command=submit", 400, "invalid_parameter", "unknown command"),
            ("/api/sessions?order=up", 400, "invalid_parameter", "order is asc or desc"),
            ("/api/sessions/9999", 404, "not_found", "the store has no session 9999"),
            ("/api/sessions/x", 400, "invalid_parameter", "id must be a whole number"),
            ("/api/sessions/9999/pcap", 404, "not_found", "no session 9999"),
            ("/api/messages/nosuchid", 404, "not_found", "no PDU in the store carries message id nosuchid"),
            ("/api/analyze?command=submit_sm", 400, "invalid_parameter", "an analysis takes no command"),
        ]
        for (path, status, code, reason) in cases {
            let reply = try server.get(path)
            #expect(reply.status == status, "\(path)")
            #expect(reply.headers.lowercased().contains("content-type: application/json"), "\(path)")
            #expect(
                reply.body.contains("\"code\":\"\(code)\"") && reply.body.contains(reason), "\(path): \(reply.body)")
        }
        // A cursor past the end is an empty page, not an error.
        let past = try server.json("/api/pdus?cursor=99-1-1-0")
        #expect((past["pdus"] as? [Any])?.isEmpty == true && past["next_cursor"] is NSNull)
        #expect(server.process.isRunning, "the server is still up")
    }

    @Test func theLiveStreamFollowsWhatIsWrittenIntoTheStore() throws {
        let scratch = try Scratch()
        let store = scratch.path("live.sqlite")
        #expect(try smppscope(["import", Self.stress, "--store", store]).status == 0)
        let server = try ServeProcess(store: store, ["--live-interval", "0.2"])
        let stream = try EventStream(port: server.port, path: "/api/live")
        let first = try #require(stream.next())
        let before = try #require(first["pdus"] as? Int)
        #expect(before == (try Truth(Self.stress)).rows.count)
        // Another process writes into the store: the stream says so.
        #expect(try smppscope(["import", Self.burst, "--store", store]).status == 0)
        let after = stream.next(timeout: 10) { ($0["pdus"] as? Int ?? 0) > before }
        #expect(after?["pdus"] as? Int == before + (try Truth(Self.burst)).rows.count)
        #expect((after?["sources"] as? [Any])?.count == 2)
        // And the newest session is listed first.
        let newest = try server.json("/api/sessions?order=desc&limit=1")
        #expect(((newest["sessions"] as? [[String: Any]])?.first?["source_id"] as? Int) == 2)
        #expect(newest["next_cursor"] as? String != nil)
        // A stop ends the open stream and the server at once, in order.
        let started = Date()
        #expect(server.stop() == 0)
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test func theLiveStreamFollowsARecording() throws {
        let scratch = try Scratch()
        try withRunningSimulator(["--account", "shop:secret:1000"]) { smscPort in
            let proxyPort = freePort()
            let store = scratch.path("recording.sqlite")
            let (recorder, _) = try startSmppscope(
                [
                    "record", "--listen", "127.0.0.1:\(proxyPort)", "--upstream", "127.0.0.1:\(smscPort)", "--store",
                    store, "--summary-every", "0",
                ],
                ready: "listening on")
            defer { stop(recorder) }
            let server = try ServeProcess(store: store, ["--live-interval", "0.2"])
            let stream = try EventStream(port: server.port, path: "/api/live")
            #expect(stream.next()?["pdus"] as? Int == 0)

            let client = try SMPPTestClient(port: proxyPort)
            #expect(try client.bind(systemID: "shop", password: "secret")?.commandStatus == .ok)
            for index in 0..<30 {
                #expect(try client.request(submitPDU("live \(index)", registeredDelivery: 0))?.commandStatus == .ok)
            }
            // The bind and 30 submits with their responses, while the recorder is still writing.
            let seen = stream.next(timeout: 15) { ($0["pdus"] as? Int ?? 0) >= 62 }
            #expect(seen?["recording"] as? Bool == true, "\(String(describing: seen))")
            let sessions = try #require(try server.json("/api/sessions?order=desc")["sessions"] as? [[String: Any]])
            #expect(sessions.first?["system_id"] as? String == "shop")
            let id = try #require(sessions.first?["id"] as? Int)
            let reply = try server.get("/api/sessions/\(id)")
            #expect(reply.body.contains("\"text\":\"live 29\""))
            #expect(!reply.body.contains("secret"), "the recorded bind's password is not served")
            client.disconnect()
        }
    }

    @Test func basicAuthenticationGuardsEveryRoute() throws {
        let scratch = try Scratch()
        let store = scratch.path("auth.sqlite")
        #expect(try smppscope(["import", Self.stress, "--store", store]).status == 0)
        let passwordFile = scratch.path("password")
        try "s3cret-word\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
        let server = try ServeProcess(store: store, ["--user", "ops", "--password-file", passwordFile])
        for path in ["/", "/api/sources", "/api/pdus?limit=1", "/api/sessions/1/pcap", "/api/live"] {
            let refused = try server.get(path, timeout: 5)
            #expect(refused.status == 401, "\(path)")
            #expect(refused.headers.contains("WWW-Authenticate: Basic"), "\(path)")
        }
        let wrong = Data("ops:guess".utf8).base64EncodedString()
        #expect(try server.get("/api/sources", headers: ["Authorization: Basic \(wrong)"]).status == 401)
        let right = Data("ops:s3cret-word".utf8).base64EncodedString()
        #expect(try server.get("/api/sources", headers: ["Authorization: Basic \(right)"]).status == 200)
        #expect(
            try server.get("/", headers: ["Authorization: Basic \(right)"]).body.contains("<script src=\"/app.js\">"))

        // Mistakes in the options: a clear error, nothing served.
        let missing = try smppscope([
            "serve", "--store", store, "--user", "ops", "--password-file", scratch.path("none"),
        ])
        #expect(missing.status == 1 && missing.errors.contains("error: cannot read"))
        let half = try smppscope(["serve", "--store", store, "--user", "ops"])
        #expect(half.status != 0 && half.errors.contains("give --user and --password-file together"))
        let noStore = try smppscope(["serve", "--store", scratch.path("none.sqlite")])
        #expect(noStore.status == 1 && noStore.errors.contains("no store at"))
        let taken = try smppscope(["serve", "--store", store, "--listen", "127.0.0.1:\(server.port)"])
        #expect(
            taken.status == 1 && taken.errors.contains("error: cannot serve on 127.0.0.1:\(server.port)"),
            "\(taken.errors)")
    }
}
