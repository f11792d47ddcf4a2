// The receipt id doctor on traffic a real client made: python smpplib asks for receipts from the simulator, which
// writes their ids one way or another (--receipt-id-form), through the recording proxy. smpplib's own reading of
// the ids is the oracle for what the receipts said; analyze of the proxy's journal must name the same transform
// for every receipt.

import Foundation
import TestSupport
import Testing

@Suite(
    "Receipt id doctor with a real client", .serialized,
    .enabled(
        if: Paths.binary != nil && FaultPeers.pythonSmpplib, "needs a built smppscope and python smpplib"))
struct ReceiptDoctorTests {

    /// The simulator's form, the transform analyze must find, and how smpplib's ids relate under it.
    static let forms: [(form: String, transform: String, relates: @Sendable (String, String) -> Bool)] = [
        ("as-response", "exact", { response, receipt in receipt == response }),
        (
            "decimal-for-hex", "hex_to_decimal",
            { response, receipt in UInt64(response, radix: 16).map { String($0) } == receipt }
        ),
        (
            "hex-for-decimal", "decimal_to_hex",
            { response, receipt in UInt64(response).map { String($0, radix: 16, uppercase: true) } == receipt }
        ),
        (
            "zero-padded", "zero_padding",
            { response, receipt in receipt.count == 10 && receipt.hasSuffix(response) && receipt != response }
        ),
        ("other-case", "letter_case", { response, receipt in receipt == response.uppercased() && receipt != response }),
    ]

    @Test(arguments: 0..<ReceiptDoctorTests.forms.count)
    func analyzeNamesHowReceiptsWroteTheIds(index: Int) throws {
        let (form, transform, relates) = Self.forms[index]
        let scratch = try Scratch()
        let count = 12
        var lines: [Substring] = []
        try withRunningSimulator([
            "--account", "doctor:secret:1000", "--receipt-delay", "0.05-0.1", "--receipts", "DELIVRD=1",
            "--receipt-id-form", form,
        ]) { smscPort in
            let proxy = try RecordProcess(upstreamPort: smscPort, scratch: scratch, withStore: false)
            let log = scratch.path("receipts.log")
            let status = try runPythonPeer(
                "smpplib_receipts.py",
                ["127.0.0.1", String(proxy.port), "doctor", "secret", String(count), log])
            #expect(status == 0)
            #expect(proxy.stop() == 0, "\(proxy.errors)")
            lines = (try String(contentsOfFile: log, encoding: .utf8)).split(separator: "\n")
            #expect(lines.last == "done")

            // smpplib's view: every receipt's id relates to one response's id as the form says.
            let responses = lines.filter { $0.hasPrefix("response ") }.map { String($0.dropFirst(9)) }
            let receipts = lines.filter { $0.hasPrefix("receipt ") }.map { String($0.dropFirst(8)) }
            #expect(responses.count == count && receipts.count == count)
            for receipt in receipts {
                #expect(responses.contains { relates($0, receipt) }, "\(form): receipt \(receipt) of \(responses)")
            }

            // analyze of what crossed the proxy says the same, for every receipt.
            let result = try smppscope(["analyze", proxy.journal, "--format", "json"])
            #expect(result.status == 0)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
            let receiptsReport = try #require(json["delivery_receipts"] as? [String: Any])
            #expect(receiptsReport["id_forms"] as? [String: Int] == [transform: count])
            #expect(receiptsReport["linked"] as? Int == count)
            let doctor = (json["findings"] as? [[String: Any]] ?? []).filter {
                $0["code"] as? String == "receipt_id_mismatch"
            }
            if transform == "exact" {
                #expect(doctor.isEmpty, "ids written alike: \(doctor)")
            } else {
                let finding = try #require(doctor.first)
                #expect(doctor.count == 1)
                #expect(finding["transform"] as? String == transform)
                #expect(finding["matched"] as? Int == count)
                #expect(finding["unmatched"] as? Int == 0)
                #expect(finding["severity"] as? String == "warning")
                let evidence = try #require(finding["evidence"] as? [[String: Any]])
                #expect(evidence.count == 5)
                #expect(evidence.allSatisfy { $0["command"] as? String == "deliver_sm" })
            }
        }
    }

    /// Kannel, told nothing of the ids (it compares them as text), cannot link receipts whose ids are the decimal
    /// form of its responses' hexadecimal ids: its own log says "not found" for each. analyze of the same traffic
    /// names the transform and Kannel's setting, msg-id-type = 0x01; with it, Kannel links every receipt.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/bearerbox"), "Kannel is not installed"))
    func kannelLinksTheReceiptsOnceItsSettingIsTheOneNamed() throws {
        let count = 6
        for setting in ["none", "0x01"] {
            let scratch = try Scratch()
            var kannel: [String: Int] = [:]
            try withRunningSimulator([
                "--account", "kannel:secret:1000", "--receipt-delay", "0.05-0.1", "--receipts", "DELIVRD=1",
                "--receipt-id-form", "decimal-for-hex",
            ]) { smscPort in
                let proxy = try RecordProcess(upstreamPort: smscPort, scratch: scratch, withStore: false)
                let run = try runKannel(scratch: scratch, port: proxy.port, msgIDType: setting, count: count)
                #expect(run.status == 0, "\(run.output)")
                kannel = run.counts
                #expect(proxy.stop() == 0, "\(proxy.errors)")

                let result = try smppscope(["analyze", proxy.journal, "--format", "json"])
                let json = try #require(
                    try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
                let receipts = try #require(json["delivery_receipts"] as? [String: Any])
                #expect(receipts["id_forms"] as? [String: Int] == ["hex_to_decimal": count])
                let finding = try #require(
                    (json["findings"] as? [[String: Any]] ?? []).first {
                        $0["code"] as? String == "receipt_id_mismatch"
                    })
                #expect(finding["transform"] as? String == "hex_to_decimal")
                #expect((finding["message"] as? String)?.contains("msg-id-type = 0x01") == true)
            }
            #expect(kannel["sent"] == count, "\(setting): \(kannel)")
            if setting == "none" {
                #expect(kannel["not-found"] == count && kannel["linked"] == 0, "Kannel compares as text: \(kannel)")
            } else {
                #expect(kannel["linked"] == count && kannel["not-found"] == 0, "msg-id-type = 0x01: \(kannel)")
            }
        }
    }

    /// Receipts faked at once, all alike (the simulator told so): smpplib gets every one, and analyze of the traffic
    /// says they came sooner than a phone answers and look generated; with the simulator's ordinary delays and
    /// states, neither.
    @Test func fakeFastReceiptsFromARealClientsTraffic() throws {
        let count = 24
        for (arguments, suspicious) in [
            (["--receipt-delay", "0.01-0.02", "--receipts", "DELIVRD=1"], true),
            (["--receipt-delay", "0.2-0.8", "--receipts", "DELIVRD=0.7,UNDELIV=0.3"], false),
        ] {
            let scratch = try Scratch()
            try withRunningSimulator(["--account", "fast:secret:1000"] + arguments) { smscPort in
                let proxy = try RecordProcess(upstreamPort: smscPort, scratch: scratch, withStore: false)
                let log = scratch.path("receipts.log")
                let status = try runPythonPeer(
                    "smpplib_receipts.py", ["127.0.0.1", String(proxy.port), "fast", "secret", String(count), log])
                #expect(status == 0)
                #expect(proxy.stop() == 0, "\(proxy.errors)")
                let lines = (try String(contentsOfFile: log, encoding: .utf8)).split(separator: "\n")
                #expect(lines.filter { $0.hasPrefix("receipt ") }.count == count, "smpplib got every receipt")
                let result = try smppscope(["analyze", proxy.journal, "--format", "json"])
                let json = try #require(
                    try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
                let codes = (json["findings"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
                let account = try #require(
                    ((json["delivery_receipts"] as? [String: Any])?["accounts"] as? [[String: Any]])?.first)
                #expect(account["account"] as? String == "fast")
                #expect(account["asked"] as? Int == count)
                if suspicious {
                    #expect(codes.contains("receipt_too_fast") && codes.contains("receipt_uniform"), "\(codes)")
                    #expect(account["too_fast"] as? Int == count)
                } else {
                    #expect(!codes.contains("receipt_too_fast") && !codes.contains("receipt_uniform"), "\(codes)")
                    #expect(account["too_fast"] as? Int == 0)
                }
            }
        }
    }

    /// An SMSC that drops a part of every long message and dates its receipts by a clock five minutes behind
    /// (the simulator told so): smpplib's own log says which parts were refused and what dates the receipts gave;
    /// analyze of the traffic must find each long message incomplete, with the parts smpplib saw refused, and each
    /// receipt done before its message was sent by smpplib's clock. With the simulator's defaults, neither. (The
    /// client stays bound 11 s after its last message: parts that came in the last 10 s of a capture may still be
    /// followed by others, and are not judged.)
    @Test func droppedPartsAndAClockBehindFromARealClientsTraffic() throws {
        let count = 5
        for (arguments, faulty) in [
            (["--refuse-part", "2", "--receipt-clock-offset", "-300"], true), ([String](), false),
        ] {
            let scratch = try Scratch()
            try withRunningSimulator(
                ["--account", "long:secret:1000", "--receipt-delay", "0.05-0.2", "--receipts", "DELIVRD=1"] + arguments
            ) { smscPort in
                let proxy = try RecordProcess(upstreamPort: smscPort, scratch: scratch, withStore: false)
                let log = scratch.path("long.log")
                let status = try runPythonPeer(
                    "smpplib_long_receipts.py",
                    ["127.0.0.1", String(proxy.port), "long", "secret", String(count), log, faulty ? "11" : "0"])
                #expect(status == 0)
                #expect(proxy.stop() == 0, "\(proxy.errors)")

                // smpplib's view: which parts of which message were refused; when it sent them; the receipts' dates.
                let lines = (try String(contentsOfFile: log, encoding: .utf8)).split(separator: "\n")
                #expect(lines.last == "done")
                var messageOf: [Int: Int] = [:]
                var sentAt: [Int: Double] = [:]
                for line in lines where line.hasPrefix("part ") {
                    let words = line.split(separator: " ")
                    messageOf[Int(words[1])!] = Int(words[2])!
                    sentAt[Int(words[2])!] = min(sentAt[Int(words[2])!] ?? .infinity, Double(words[5])!)
                }
                #expect(messageOf.count == 3 * count, "smpplib made three parts of each message")
                let refused = lines.filter { $0.hasPrefix("response ") }.map { $0.split(separator: " ") }
                    .filter { $0[2] != "0" }.map { Int($0[1])! }
                let incompleteMessages = Set(refused.compactMap { messageOf[$0] })
                // The receipts whose done date (read as UTC, a minute long) ends more than a minute before the
                // first send of any message: all of them early by smpplib's clock.
                let formatter = DateFormatter()
                formatter.locale = Locale(identifier: "en_US_POSIX")
                formatter.timeZone = TimeZone(identifier: "UTC")
                formatter.dateFormat = "yyMMddHHmm"
                let firstSend = sentAt.values.min() ?? 0
                let receipts = lines.filter { $0.hasPrefix("receipt ") }.map { $0.split(separator: " ") }
                #expect(receipts.count == count, "a receipt per message")
                let early = receipts.filter {
                    guard let done = formatter.date(from: String($0[3])) else { return false }
                    return done.timeIntervalSince1970 + 60 < firstSend - 60
                }

                let result = try smppscope(["analyze", proxy.journal, "--format", "json"])
                let json = try #require(
                    try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
                let findings = json["findings"] as? [[String: Any]] ?? []
                let incomplete = findings.first { $0["code"] as? String == "long_message_incomplete" }
                let doneEarly = findings.first { $0["code"] as? String == "receipt_done_before_submit" }
                let long = try #require((json["messages"] as? [String: Any])?["long"] as? [String: Any])
                #expect(long["count"] as? Int == count)
                if faulty {
                    #expect(refused.count == count && incompleteMessages.count == count, "part 2 of each refused")
                    #expect(incomplete?["count"] as? Int == incompleteMessages.count)
                    #expect(incomplete?["missing_parts"] as? Int == refused.count)
                    #expect(long["incomplete"] as? Int == incompleteMessages.count)
                    #expect(early.count == count)
                    #expect(doneEarly?["count"] as? Int == early.count)
                    #expect(doneEarly?["before_own_submit_date"] as? Int == 0)
                    #expect((240...360).contains(doneEarly?["earliest_by_s"] as? Int ?? 0), "\(doneEarly ?? [:])")
                } else {
                    #expect(refused.isEmpty && early.isEmpty)
                    #expect(incomplete == nil && doneEarly == nil, "\(findings)")
                    #expect(long["complete"] as? Int == count)
                }
            }
        }
    }

    /// A client that sends again what it got no answer to within 1.5 s (python smpplib, as applications use it),
    /// against an SMSC that answers every fourth submit 3 s late and sends every third receipt twice: smpplib's own
    /// log says which messages it sent again and whether the first copy was answered after all, and which receipts
    /// came twice after it had answered them. analyze must give each repeat that cause, and the client's timeout.
    @Test func causesOfRepeatsFromARealClientsTraffic() throws {
        let scratch = try Scratch()
        try withRunningSimulator([
            "--account", "again:secret:1000", "--receipt-delay", "0.05-0.2", "--receipts", "DELIVRD=1",
            "--late-response", "4:3", "--duplicate-receipts", "3",
        ]) { smscPort in
            let proxy = try RecordProcess(upstreamPort: smscPort, scratch: scratch, withStore: false)
            let log = scratch.path("resend.log")
            #expect(
                try runPythonPeer(
                    "smpplib_resend.py", ["127.0.0.1", String(proxy.port), "again", "secret", "9", "1.5", log]) == 0)
            #expect(proxy.stop() == 0, "\(proxy.errors)")

            let lines = (try String(contentsOfFile: log, encoding: .utf8)).split(separator: "\n")
            #expect(lines.last == "done")
            var status: [Int: Int] = [:]
            for line in lines where line.hasPrefix("response ") {
                let words = line.split(separator: " ")
                status[Int(words[1])!] = Int(words[2])!
            }
            // smpplib's view: the first copies it gave up on and that were accepted after all; the receipts it got
            // twice (it answers each at once, before the copy a second later).
            let resent = lines.filter { $0.hasPrefix("resend ") }.map { Int($0.split(separator: " ")[2])! }
            let lateButAccepted = resent.filter { status[$0] == 0 }
            let receiptIDs = lines.filter { $0.hasPrefix("receipt ") }.map { $0.split(separator: " ")[1] }
            let repeatedReceipts = receiptIDs.count - Set(receiptIDs).count
            #expect(resent.count == 2 && lateButAccepted.count == 2, "every fourth answered late: \(lines)")
            #expect(repeatedReceipts == 3, "every third receipt twice")

            let result = try smppscope(["analyze", proxy.journal, "--format", "json"])
            let json = try #require(
                try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
            #expect(json["duplicate_submit_causes"] as? [String: Int] == ["late_response": lateButAccepted.count])
            #expect(json["duplicate_receipt_causes"] as? [String: Int] == ["smsc_repeat": repeatedReceipts])
            // The copies are repeats, not receipts for messages nobody sent.
            let receiptsReport = try #require(json["delivery_receipts"] as? [String: Any])
            #expect(receiptsReport["copies"] as? Int == repeatedReceipts)
            #expect(receiptsReport["unknown_ids"] as? Int == 0)
            let findings = json["findings"] as? [[String: Any]] ?? []
            let late = try #require(findings.first { $0["code"] as? String == "duplicate_submit" })
            #expect(late["cause"] as? String == "late_response")
            let timeout = try #require(late["client_timeout_s"] as? Double)
            #expect(timeout >= 1.5 && timeout < 2.0, "smpplib waited 1.5 s")
            let repeated = try #require(findings.first { $0["code"] as? String == "duplicate_receipt" })
            #expect(repeated["cause"] as? String == "smsc_repeat")
            #expect(repeated["count"] as? Int == repeatedReceipts)
        }
    }

    /// Kannel told to wait 2 s for a submit_sm_resp (wait-ack) against an SMSC that answers every third submit
    /// 10 s late. With wait-ack-expire 0x01 it logs each message it will retransmit and sends it again on the same
    /// bind: analyze must call each repeat a late response, as many as Kannel's log names. With 0x00 it logs that it
    /// reconnects and sends them again on the new bind: analyze must call them reconnect resends.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/bearerbox"), "Kannel is not installed"))
    func kannelsResendsAfterItsWaitAckHaveTheirCause() throws {
        let count = 6
        for (expire, cause) in [("0x01", "late_response"), ("0x00", "reconnect_resend")] {
            let scratch = try Scratch()
            var kannel: [String: Int] = [:]
            var log = ""
            try withRunningSimulator([
                "--account", "kannel:secret:1000", "--receipt-delay", "0.05-0.1", "--receipts", "DELIVRD=1",
                "--late-response", "3:10",
            ]) { smscPort in
                let proxy = try RecordProcess(upstreamPort: smscPort, scratch: scratch, withStore: false)
                let run = try runKannel(
                    scratch: scratch, port: proxy.port, msgIDType: "none", count: count,
                    settings: [
                        "wait-ack=2", "wait-ack-expire=\(expire)", "enquire-link-interval=1", "reconnect-delay=1",
                        "core:sms-resend-freq=1", "linger=4",
                    ])
                #expect(run.status == 0, "\(run.output)")
                kannel = run.counts
                #expect(proxy.stop() == 0, "\(proxy.errors)")
                log = (try? String(contentsOfFile: scratch.path("bearerbox.log"), encoding: .utf8)) ?? ""

                let result = try smppscope(["analyze", proxy.journal, "--format", "json"])
                let json = try #require(
                    try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
                let causes = json["duplicate_submit_causes"] as? [String: Int] ?? [:]
                if expire == "0x01" {
                    // Kannel's log names each message it sends again.
                    let retransmits = log.split(separator: "\n").filter { $0.contains("will retransmit") }.count
                    #expect(retransmits == count / 3, "\(log)")
                    #expect(causes == [cause: retransmits], "\(causes)")
                } else {
                    #expect(log.contains("Not ACKED message found, reconnecting"), "\(log)")
                    #expect(causes == [cause: count / 3], "the two messages in flight: \(causes)")
                }
                let finding = try #require(
                    (json["findings"] as? [[String: Any]] ?? []).first {
                        $0["code"] as? String == "duplicate_submit" && $0["cause"] as? String == cause
                    })
                #expect(finding["severity"] as? String == "warning")
                if expire == "0x01" {
                    // Kannel logs how long ago it sent each message it gives up on (SENT<N>sec.); it sends it again
                    // within its resend frequency, a second, after that.
                    let ages = log.split(separator: "\n").compactMap { line -> Double? in
                        guard let start = line.range(of: "SENT<"),
                            let end = line[start.upperBound...].firstIndex(of: ">")
                        else { return nil }
                        return Double(line[start.upperBound..<end])
                    }
                    let timeout = finding["client_timeout_s"] as? Double ?? 0
                    let age = try #require(ages.min())
                    #expect(timeout >= age && timeout < age + 2.5, "Kannel gave up after \(ages) s: \(timeout)")
                }
            }
            #expect(kannel["sent"] == count, "\(expire): \(kannel)")
        }
    }
}
