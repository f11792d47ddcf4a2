// `smppscope serve`'s web UI driven in a real headless Chromium (selenium, Tests/Peers/serve_ui.py): search finds a
// message, a click opens its session's ladder diagram with the right PDUs in order, a click on a PDU shows its
// fields, the message, analysis, live and session views show what the captures' ground truth says, and the browser
// logs nothing. SMPPSCOPE_SCREENSHOTS=FOLDER keeps the screenshots of the views (docs/images/ are made so).

import Foundation
import TestSupport
import Testing

/// Headless Chromium, its driver, and python selenium: what the UI test needs.
let browserAvailable: Bool = {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium"),
        FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
    else { return false }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", "import selenium.webdriver"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}()

@Suite(
    "serve: the web UI in Chromium",
    .enabled(if: Paths.binary != nil, "smppscope is not built; run swift build first"),
    .enabled(if: browserAvailable, "needs chromium, chromium-driver and python selenium (pip install selenium)"))
struct ServeUITests {
    /// Runs Tests/Peers/serve_ui.py against the server with `arguments`; what it printed.
    static func drive(_ server: ServeProcess, _ arguments: [String]) throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            ["python3", Paths.root.appendingPathComponent("Tests/Peers/serve_ui.py").path]
            + ["--url", "http://127.0.0.1:\(server.port)"] + arguments
        let output = Pipe()
        let errors = StandardErrorLog()
        let errorPipe = Pipe()
        process.standardOutput = output
        process.standardError = errorPipe
        errorPipe.fileHandleForReading.readabilityHandler = { errors.append($0.availableData) }
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(errors.all)")
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(errors.all)")
    }

    @Test func textThatLooksLikeMarkupShowsAsText() throws {
        let scratch = try Scratch()
        let text = #"<img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script>"#
        let id = "<b>77</b>"
        var conversation = TCPConversation()
        conversation.handshake()
        conversation.send(Sample.bind(), from: .client)
        conversation.send(Sample.bindResponse(), from: .server)
        conversation.send(Sample.submit(sequence: 2, text: text), from: .client)
        conversation.send(Sample.submitResponse(sequence: 2, id: id), from: .server)
        let capture = scratch.path("hostile.pcap")
        try Data(CaptureFileBuilder.pcap(linkType: 1, packets: conversation.packets)).write(
            to: URL(fileURLWithPath: capture))
        let store = scratch.path("hostile.sqlite")
        #expect(try smppscope(["import", capture, "--store", store]).status == 0)
        let server = try ServeProcess(store: store)
        let seen = try Self.drive(server, ["--message-id", id, "--hostile"])
        let rows = try #require(seen["search"] as? [[String]])
        #expect(rows.contains { $0[8] == text }, "the text shows as written: \(rows)")
        #expect(rows.contains { $0[7] == id })
        #expect((seen["fields"] as? [String: String])?["text"] == text)
        #expect(seen["title"] as? String == "smppscope", "nothing of the text ran")
        #expect(seen["injected"] as? Int == 0, "nothing of the text became an element")
        #expect((seen["console"] as? [Any])?.isEmpty == true, "\(seen["console"] ?? "")")
    }

    @Test func aUserFindsAMessageAndReadsItsSession() throws {
        let scratch = try Scratch()
        let store = scratch.path("ui.sqlite")
        let burst = ServeAPITests.burst
        let imported = try smppscope(["import", burst, ServeAPITests.stress, "--store", store])
        #expect(imported.status == 0, "\(imported.errors)")
        let server = try ServeProcess(store: store)
        let truth = try Truth(burst)
        let stressTruth = try Truth(ServeAPITests.stress)
        let id = "854019"

        let folder = ProcessInfo.processInfo.environment["SMPPSCOPE_SCREENSHOTS"] ?? scratch.path("shots")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let seen = try Self.drive(server, ["--message-id", id, "--screenshots", folder])

        // The search found every PDU the truth says carries the id (the submit it was given to included).
        func carrying(_ truth: Truth) -> [[String: Any]] {
            let rows = truth.rows.filter {
                $0["message_id"] as? String == id
                    || ($0["command"] as? String == "deliver_sm" && Truth.receiptID($0) == id)
            }
            let answered = rows.filter { $0["command"] as? String == "submit_sm_resp" }.compactMap {
                $0["sequence_number"] as? Int
            }
            return rows
                + truth.rows.filter {
                    $0["command"] as? String == "submit_sm" && answered.contains($0["sequence_number"] as? Int ?? -1)
                }
        }
        let expected = (carrying(truth) + carrying(stressTruth)).map {
            "\($0["command"] ?? "") \($0["sequence_number"] ?? "")"
        }
        let rows = try #require(seen["search"] as? [[String]])
        #expect(rows.map { "\($0[4]) \($0[5])" }.sorted() == expected.sorted())
        #expect(rows.allSatisfy { $0[7] == id || $0[4] == "submit_sm" }, "each row shows the id it carries")

        // The click on the submit_sm_resp opened its session at it: the ladder holds the truth's PDUs from then on,
        // in the capture's order, the clicked one selected.
        let resp = try #require(
            truth.rows.first { $0["command"] as? String == "submit_sm_resp" && $0["message_id"] as? String == id })
        let clicked = try #require(seen["clicked"] as? String)
        #expect(seen["selected"] as? String == clicked)
        let respTime = resp["ts_us"] as? Int ?? 0
        let following = truth.rows.filter { ($0["ts_us"] as? Int ?? 0) >= respTime }.sorted {
            ($0["pdu_index"] as? Int ?? 0) < ($1["pdu_index"] as? Int ?? 0)
        }
        let ladder = try #require(seen["ladder"] as? [[String: Any]])
        #expect(!ladder.isEmpty && !following.isEmpty)
        #expect(seen["ladder_length"] as? Int == following.count)
        for (shown, row) in zip(ladder, following) {
            let label = (shown["texts"] as? [String])?.dropFirst().first ?? ""
            #expect(
                label.hasPrefix("\(row["command"] ?? "") #\(row["sequence_number"] ?? "")"),
                "\(label) where the truth has \(Truth.describe(row))")
            #expect(shown["ref"] as? String == "1-\(row["frame"] ?? "")-\(row["stream_offset"] ?? "")")
        }
        // Its fields, as the truth decodes them.
        let fields = try #require(seen["fields"] as? [String: String])
        #expect(fields["command"] == "submit_sm_resp" && fields["message_id"] == id)
        #expect(fields["sequence_number"] == "\(resp["sequence_number"] ?? "")")
        // A click on a submit_sm shows that PDU's fields.
        let request = try #require(seen["clicked_request"] as? [String: Any])
        let requestFields = try #require(request["fields"] as? [String: String])
        let requestRow = try #require(
            truth.rows.first { "1-\($0["frame"] ?? "")-\($0["stream_offset"] ?? "")" == request["ref"] as? String })
        #expect(requestFields["sequence_number"] == "\(requestRow["sequence_number"] ?? "")")
        #expect(requestFields["destination_addr"] == requestRow["destination_addr"] as? String)
        #expect(requestFields["text"] == requestRow["text"] as? String)

        // The message view: a part with the id and the receipt's state, as the truth says.
        let parts = try #require(seen["message_parts"] as? [[String]])
        let receipt = try #require(
            truth.rows.first { $0["command"] as? String == "deliver_sm" && Truth.receiptID($0) == id })
        let state = (receipt["text"] as? String)?.components(separatedBy: "stat:").last?.prefix(7) ?? ""
        #expect(parts.contains { $0[2] == "ESME_ROK" && $0[3] == id && $0[4].hasPrefix("\(state) at ") }, "\(parts)")

        // The analysis of the session, the live view, the session list.
        #expect((seen["analysis_text"] as? String)?.contains("\(truth.rows.count) PDUs, 1 sessions") == true)
        #expect(seen["live_pdus"] as? String == "\(truth.rows.count + stressTruth.rows.count)")
        #expect(seen["sessions"] as? Int == 2)
        #expect(seen["live_sessions"] as? Int == 2)

        // Nothing in the browser's console.
        #expect((seen["console"] as? [Any])?.isEmpty == true, "\(seen["console"] ?? "")")
        for view in ["search", "session", "message", "analyze", "live", "sessions"] {
            #expect(FileManager.default.fileExists(atPath: "\(folder)/\(view).png"), "a screenshot of \(view)")
        }
    }
}
