// The rules of the analysis on scripted sessions: throttle episodes, duplicates, silences, closes, refused and
// replaced binds, receipts in other id forms, the sliding peak, windows and verdicts, Kannel configurations.

import Analysis
import Foundation
import NIOCore
import SMPP
import TestSupport
import Testing

/// Analyzes scripted packets.
func analyze(packets: [TestPacket], configuration: AnalysisConfiguration = AnalysisConfiguration()) throws
    -> AnalysisReport
{
    let path = try CaptureFileBuilder.temporaryFile(
        CaptureFileBuilder.pcap(linkType: 1, packets: packets, nanosecond: true))
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try analyze(path, configuration: configuration).0
}

private func response(_ command: CommandID, sequence: UInt32, status: CommandStatus = .ok, id: String = "") -> [UInt8] {
    Sample.bytes(PDU(command, status: status, sequence: sequence, body: .messageID(id)))
}

private func receipt(sequence: UInt32, id: String, stat: String = "DELIVRD") -> [UInt8] {
    Sample.deliver(
        sequence: sequence,
        text: "id:\(id) sub:001 dlvrd:001 submit date:2611260834 done date:2611260834 stat:\(stat) err:000")
}

/// A submit_sm to `destination` asking for a receipt.
private func submit(_ sequence: UInt32, to destination: String, text: String) -> [UInt8] {
    Sample.bytes(
        PDU(
            .submitSM, sequence: sequence,
            body: .shortMessage(
                .init(
                    source: Address(address: "SHOP"), destination: Address(ton: 1, npi: 1, address: destination),
                    registeredDelivery: 1, shortMessage: ByteBuffer(string: text)))))
}

private func bound(_ conversation: inout TCPConversation, systemID: String = "esme", systemType: String = "") {
    conversation.handshake()
    conversation.send(
        Sample.bytes(
            PDU(
                .bindTransceiver, sequence: 1,
                body: .bind(.init(systemID: systemID, password: "pw", systemType: systemType)))),
        from: .client)
    conversation.send(Sample.bindResponse(), from: .server)
}

@Suite("Analysis rules")
struct RuleTests {
    @Test func throttleEpisodesSplitAtOneSecondAndResubmissionsAreTimed() throws {
        var c = TCPConversation()
        bound(&c)
        var sequence: UInt32 = 2
        // Episode 1: three 0x58 within 0.3 s; episode 2: one more 1.5 s later.
        for gap in [0, 100_000, 200_000, 1_500_000] as [UInt32] {
            c.wait(microseconds: gap)
            c.send(Sample.submit(sequence: sequence, text: "m\(sequence)"), from: .client)
            c.send(response(.submitSMResp, sequence: sequence, status: .throttled), from: .server)
            sequence += 1
        }
        // The first throttled message comes again 2 s later and is accepted.
        c.wait(microseconds: 2_000_000)
        c.send(Sample.submit(sequence: sequence, text: "m2"), from: .client)
        c.send(response(.submitSMResp, sequence: sequence, id: "42"), from: .server)
        let report = try analyze(packets: c.packets)
        #expect(report.throttledResponses == 4)
        #expect(report.throttleEpisodes.map(\.count) == [3, 1])
        #expect(report.throttleEpisodes[0].resubmissions == 1)
        let wait = try #require(report.throttleEpisodes[0].meanWaitSeconds)
        #expect(wait > 3.7 && wait < 3.9)
        #expect(report.sessions[0].verdict == "throttled")
        let throttled = try #require(report.findings.first { $0.code == .throttled })
        #expect(throttled.message.contains("throttled (ESME_RTHROTTLED) in 2 episodes"))
        #expect(throttled.severity == .warning)
        #expect(throttled.session == 1 && throttled.count == 4)
        // Each episode's first 0x58: submit_sm_resp 2 and 5, as sent above.
        #expect(throttled.evidence.map(\.sequenceNumber) == [2, 5])
        #expect(throttled.evidence.allSatisfy { $0.command == "submit_sm_resp" && $0.session == 1 })
        #expect(throttled.evidence[1].time - throttled.evidence[0].time > 1.7)
    }

    @Test func duplicatesWithinSixtySecondsOfAnAcceptedSubmit() throws {
        var c = TCPConversation()
        bound(&c)
        c.send(Sample.submit(sequence: 2, text: "same"), from: .client)
        c.send(response(.submitSMResp, sequence: 2, id: "1"), from: .server)
        c.wait(microseconds: 30_000_000)
        c.send(Sample.submit(sequence: 3, text: "same"), from: .client)
        c.send(response(.submitSMResp, sequence: 3, status: .submitFailed), from: .server)
        c.send(Sample.submit(sequence: 4, text: "other"), from: .client)
        c.send(response(.submitSMResp, sequence: 4, id: "2"), from: .server)
        c.wait(microseconds: 31_000_000)
        // 61 s after the accepted one: not a duplicate any more.
        c.send(Sample.submit(sequence: 5, text: "same"), from: .client)
        c.send(response(.submitSMResp, sequence: 5, id: "3"), from: .server)
        let report = try analyze(packets: c.packets)
        #expect(report.duplicateSubmits == 1)
        #expect(report.duplicateResponses == ["ESME_RSUBMITFAIL": 1])
    }

    @Test func everyRepeatOfASubmitOrAReceiptHasItsCause() throws {
        var c = TCPConversation(clientPort: 41_100)
        bound(&c)
        // Late response: repeated after 5 s, the first answered (accepted) 3 s later.
        c.send(Sample.submit(sequence: 2, text: "late"), from: .client)
        c.wait(microseconds: 5_000_000)
        c.send(Sample.submit(sequence: 3, text: "late"), from: .client)
        c.wait(microseconds: 3_000_000)
        c.send(Sample.submitResponse(sequence: 2, id: "100"), from: .server)
        c.send(Sample.submitResponse(sequence: 3, id: "101"), from: .server)
        // No response: the first copy never answered.
        c.send(Sample.submit(sequence: 4, text: "lost"), from: .client)
        c.wait(microseconds: 4_000_000)
        c.send(Sample.submit(sequence: 5, text: "lost"), from: .client)
        c.send(Sample.submitResponse(sequence: 5, id: "102"), from: .server)
        // Throttled, then sent again.
        c.send(Sample.submit(sequence: 6, text: "slow down"), from: .client)
        c.send(response(.submitSMResp, sequence: 6, status: .throttled), from: .server)
        c.wait(microseconds: 1_000_000)
        c.send(Sample.submit(sequence: 7, text: "slow down"), from: .client)
        c.send(Sample.submitResponse(sequence: 7, id: "103"), from: .server)
        // Accepted and answered, sent again anyway.
        c.send(Sample.submit(sequence: 8, text: "again"), from: .client)
        c.send(Sample.submitResponse(sequence: 8, id: "104"), from: .server)
        c.wait(microseconds: 2_000_000)
        c.send(Sample.submit(sequence: 9, text: "again"), from: .client)
        c.send(Sample.submitResponse(sequence: 9, id: "105"), from: .server)
        // Refused for good (ESME_RSUBMITFAIL), sent again: a new try, no cause.
        c.send(Sample.submit(sequence: 10, text: "refused"), from: .client)
        c.send(response(.submitSMResp, sequence: 10, status: .submitFailed), from: .server)
        c.send(Sample.submit(sequence: 11, text: "refused"), from: .client)
        c.send(Sample.submitResponse(sequence: 11, id: "106"), from: .server)
        // Receipts: one answered and sent again (the SMSC repeats), one never answered and sent again, one
        // answered only after its repeat.
        for (sequence, id) in [(500, "104"), (501, "104")] as [(UInt32, String)] {
            c.send(receipt(sequence: sequence, id: id), from: .server)
            c.send(response(.deliverSMResp, sequence: sequence), from: .client)
            c.wait(microseconds: 2_000_000)
        }
        c.send(receipt(sequence: 502, id: "105"), from: .server)
        c.wait(microseconds: 10_000_000)
        c.send(receipt(sequence: 503, id: "105"), from: .server)
        c.send(response(.deliverSMResp, sequence: 503), from: .client)
        c.send(receipt(sequence: 504, id: "106"), from: .server)
        c.wait(microseconds: 10_000_000)
        c.send(receipt(sequence: 505, id: "106"), from: .server)
        c.send(response(.deliverSMResp, sequence: 504), from: .client)
        c.send(response(.deliverSMResp, sequence: 505), from: .client)
        // One more, then the connection drops; the same account sends it again on a new connection.
        c.send(Sample.submit(sequence: 12, text: "dropped"), from: .client)
        c.wait(microseconds: 1_000_000)
        c.rst(from: .server)
        var second = TCPConversation(clientPort: 41_101)
        second.seconds = c.seconds + 2
        bound(&second)
        second.send(Sample.submit(sequence: 2, text: "dropped"), from: .client)
        second.send(Sample.submitResponse(sequence: 2, id: "107"), from: .server)

        let report = try analyze(packets: c.packets + second.packets)
        #expect(
            report.submitResends.counts == [
                .lateResponse: 1, .noResponse: 1, .throttledResend: 1, .clientRepeat: 1, .reconnectResend: 1,
            ])
        // The client waited 5 s (and the 10 µs each scripted packet takes) before it sent the message again.
        #expect(report.submitResends.lateWaitMinimum.map { abs($0 - 5) < 0.001 } == true)
        #expect(report.receiptResends.counts == [.smscRepeat: 1, .noResponse: 1, .lateResponse: 1])
        func finding(_ code: Finding.Code, _ cause: String) -> Finding? {
            report.findings.first { $0.code == code && $0.fields.contains(.init("cause", .string(cause))) }
        }
        let late = try #require(finding(.duplicateSubmit, "late_response"))
        guard case .double(let timeout)? = late.fields.first(where: { $0.name == "client_timeout_s" })?.value else {
            Issue.record("no client_timeout_s")
            return
        }
        #expect(abs(timeout - 5) < 0.001)
        #expect(late.evidence.map(\.sequenceNumber) == [3] && late.severity == .warning)
        #expect(finding(.duplicateSubmit, "no_response")?.evidence.map(\.sequenceNumber) == [5])
        #expect(finding(.duplicateSubmit, "throttled_resend")?.severity == .info)
        #expect(finding(.duplicateSubmit, "client_repeat")?.evidence.map(\.sequenceNumber) == [9])
        let reconnect = try #require(finding(.duplicateSubmit, "reconnect_resend"))
        #expect(reconnect.evidence.first?.session == 2 && reconnect.evidence.first?.sequenceNumber == 2)
        #expect(finding(.duplicateReceipt, "smsc_repeat")?.evidence.map(\.sequenceNumber) == [501])
        #expect(finding(.duplicateReceipt, "no_response")?.evidence.map(\.sequenceNumber) == [503])
        #expect(finding(.duplicateReceipt, "late_response")?.evidence.map(\.sequenceNumber) == [505])
    }

    @Test func whatTheEncodingsOfTheTextsShow() throws {
        func submit(_ sequence: UInt32, _ octets: [UInt8], dataCoding: UInt8 = 0, esmClass: UInt8 = 0) -> [UInt8] {
            Sample.bytes(
                PDU(
                    .submitSM, sequence: sequence,
                    body: .shortMessage(
                        .init(
                            source: Address(address: "SHOP"),
                            destination: Address(ton: 1, npi: 1, address: "77012345678"),
                            esmClass: esmClass, dataCoding: dataCoding, shortMessage: ByteBuffer(bytes: octets)))))
        }
        var c = TCPConversation()
        bound(&c, systemID: "latin")
        var sequence: UInt32 = 2
        func send(_ pdu: [UInt8]) {
            c.send(pdu, from: .client)
            c.send(Sample.submitResponse(sequence: sequence, id: "\(sequence)"), from: .server)
            sequence += 1
        }
        // Six texts in ISO-8859-1 under data_coding 0 ("Café n°1" with é 0xE9 and ° 0xB0), four plain ones.
        for index in 0..<6 { send(submit(sequence, [0x43, 0x61, 0x66, 0xE9, 0x20, 0x6E, 0xB0, 0x30 + UInt8(index)])) }
        for index in 0..<4 { send(submit(sequence, Array("plain \(index)".utf8))) }
        // UCS-2 "Привет" under data_coding 0.
        send(submit(sequence, [0x04, 0x1F, 0x04, 0x40, 0x04, 0x38, 0x04, 0x32, 0x04, 0x35, 0x04, 0x42]))
        // A concatenation header, part 1 of 2, without UDHI.
        send(submit(sequence, [0x05, 0x00, 0x03, 0x2A, 0x02, 0x01] + Array("first half".utf8)))
        // Part 1 of 2 (with UDHI) ending in an escape: its "€" (0x1B 0x65) cut in two.
        send(submit(sequence, [0x05, 0x00, 0x03, 0x2B, 0x02, 0x01] + Array("price 10".utf8) + [0x1B], esmClass: 0x40))
        // UCS-2 "Hello" (data_coding 8): GSM 03.38 would carry it, in the same one segment.
        send(submit(sequence, [0x00, 0x48, 0x00, 0x65, 0x00, 0x6C, 0x00, 0x6C, 0x00, 0x6F], dataCoding: 8))
        // 100 UCS-2 characters that fit GSM 03.38: two segments as UCS-2 (67 a part), one as GSM 03.38 (160).
        send(
            submit(
                sequence, [UInt8](repeating: 0, count: 200).enumerated().map { $0.offset % 2 == 0 ? 0 : 0x61 },
                dataCoding: 8))
        let report = try analyze(packets: c.packets)
        let group = try #require(report.encodings.first { $0.peer == "latin" && $0.direction == "submit" })
        #expect(group.inferred == .latin1 && group.declared == .gsm7)
        #expect(group.ucs2UnderDefault == 1 && group.headerWithoutUDHI == 1 && group.escapeSplit == 1)
        #expect(group.costlier == 2 && group.segmentsSaved == 1)
        func finding(_ code: Finding.Code) -> Finding? { report.findings.first { $0.code == code } }
        let alphabet = try #require(finding(.defaultAlphabet))
        #expect(alphabet.count == 6 && alphabet.fields.contains(.init("inferred", .string("latin1"))))
        #expect(finding(.ucs2UnderDefault)?.evidence.map(\.sequenceNumber) == [12])
        #expect(finding(.udhWithoutUDHI)?.evidence.map(\.sequenceNumber) == [13])
        #expect(finding(.gsmEscapeSplit)?.evidence.map(\.sequenceNumber) == [14])
        let costlier = try #require(finding(.costlierEncoding))
        #expect(costlier.severity == .info && costlier.fields.contains(.init("segments_saved", .int(1))))
    }

    @Test func silencesOverTheIdleLimit() throws {
        var c = TCPConversation()
        bound(&c)
        c.wait(microseconds: 130_000_000)
        c.send(Sample.enquireLink(sequence: 2), from: .client)
        c.send(Sample.bytes(PDU(.enquireLinkResp, sequence: 2)), from: .server)
        c.wait(microseconds: 60_000_000)
        c.send(Sample.enquireLink(sequence: 3), from: .client)
        c.send(Sample.bytes(PDU(.enquireLinkResp, sequence: 3)), from: .server)
        var configuration = AnalysisConfiguration()
        let report = try analyze(packets: c.packets, configuration: configuration)
        #expect(report.idleViolations == 1)
        #expect(report.sessions[0].longestSilenceSeconds > 130)
        #expect(report.sessions[0].enquireLinkIntervalClient.map { $0 > 59 && $0 < 61 } == true)
        configuration.idleLimit = 50
        #expect(try analyze(packets: c.packets, configuration: configuration).idleViolations == 2)
    }

    @Test func resetWithUnansweredSubmits() throws {
        var c = TCPConversation()
        bound(&c)
        for sequence in 2...4 as ClosedRange<UInt32> { c.send(Sample.submit(sequence: sequence), from: .client) }
        c.send(response(.submitSMResp, sequence: 2, id: "9"), from: .server)
        c.rst(from: .server)
        let report = try analyze(packets: c.packets)
        #expect(report.unansweredRequests == 2)
        #expect(report.unanswered.map(\.sequenceNumber) == [3, 4])
        #expect(report.sessions[0].close == "rst")
        #expect(report.sessions[0].closedBy == "server")
        let reset = try #require(report.findings.first { $0.code == .resetWithUnanswered })
        #expect(reset.message.contains("reset (RST) with 2 requests unanswered"))
        #expect(reset.count == 2 && reset.evidence.count == 2)
    }

    @Test func unbindClosesBeforeTheFin() throws {
        var c = TCPConversation()
        bound(&c)
        c.send(Sample.unbind(sequence: 2), from: .server)
        c.send(Sample.unbindResponse(sequence: 2), from: .client)
        c.fin(from: .client)
        c.fin(from: .server)
        let report = try analyze(packets: c.packets)
        #expect(report.sessions[0].close == "unbind")
        #expect(report.sessions[0].closedBy == "server")
    }

    @Test func refusedBindIsExplained() throws {
        var c = TCPConversation()
        c.handshake()
        c.send(Sample.bind(), from: .client)
        c.send(Sample.bytes(PDU(.bindTransceiverResp, status: .invalidPassword, sequence: 1)), from: .server)
        c.fin(from: .server)
        let report = try analyze(packets: c.packets)
        #expect(report.sessions[0].bind?.statusName == "ESME_RINVPASWD")
        #expect(report.sessions[0].close == "fin")
        let refused = try #require(report.findings.first)
        #expect(refused.code == .bindRefused && refused.severity == .error)
        #expect(refused.message.contains("refused: ESME_RINVPASWD (invalid password)"))
        #expect(refused.evidence.map(\.sequenceNumber) == [1])
        #expect(refused.evidence.first?.command == "bind_transceiver")
    }

    @Test func newerBindOfTheSameLoginClosesTheOlder() throws {
        var old = TCPConversation(clientPort: 40_001)
        bound(&old, systemID: "shop")
        var newer = TCPConversation(clientPort: 40_002, clientSequence: 70_000)
        newer.seconds = old.seconds + 5
        bound(&newer, systemID: "shop")
        old.seconds = newer.seconds
        old.nanoseconds = newer.nanoseconds
        old.wait(microseconds: 20_000)
        old.fin(from: .server)
        let packets = (old.packets + newer.packets).sorted {
            ($0.seconds, $0.nanoseconds) < ($1.seconds, $1.nanoseconds)
        }
        let report = try analyze(packets: packets)
        #expect(report.sessions.first { $0.client.hasSuffix(":40001") }?.replacedBySession == 2)
        #expect(
            report.findings.contains { $0.code == .sessionReplaced && $0.message.contains("one connection per login") })

        // With MCON2 the older one is allowed to stay: its close is not blamed on the newer bind.
        var allowedOld = TCPConversation(clientPort: 40_003)
        bound(&allowedOld, systemID: "shop", systemType: "MCON2")
        var allowedNew = TCPConversation(clientPort: 40_004, clientSequence: 80_000)
        allowedNew.seconds = allowedOld.seconds + 5
        bound(&allowedNew, systemID: "shop", systemType: "MCON2")
        allowedOld.seconds = allowedNew.seconds
        allowedOld.wait(microseconds: 20_000)
        allowedOld.fin(from: .server)
        let allowed = (allowedOld.packets + allowedNew.packets).sorted {
            ($0.seconds, $0.nanoseconds) < ($1.seconds, $1.nanoseconds)
        }
        #expect(try analyze(packets: allowed).sessions.allSatisfy { $0.replacedBySession == nil })
    }

    @Test func receiptsLinkAcrossHexAndDecimalIds() throws {
        var c = TCPConversation()
        bound(&c)
        c.send(Sample.submit(sequence: 2, text: "a"), from: .client)
        c.send(response(.submitSMResp, sequence: 2, id: "1A2B"), from: .server)
        c.send(Sample.submit(sequence: 3, text: "b"), from: .client)
        c.send(response(.submitSMResp, sequence: 3, id: "000123"), from: .server)
        c.wait(microseconds: 500_000)
        c.send(receipt(sequence: 1, id: "6699"), from: .server)
        c.send(response(.deliverSMResp, sequence: 1), from: .client)
        c.send(receipt(sequence: 2, id: "123", stat: "UNDELIV"), from: .server)
        c.send(response(.deliverSMResp, sequence: 2), from: .client)
        c.send(receipt(sequence: 3, id: "777"), from: .server)
        c.send(response(.deliverSMResp, sequence: 3), from: .client)
        let mobileOriginated = PDU(
            .deliverSM, sequence: 4,
            body: .shortMessage(
                .init(
                    source: Address(ton: 1, npi: 1, address: "77011234567"), destination: Address(address: "SHOP"),
                    shortMessage: ByteBuffer(string: "Hello from a phone"))))
        c.send(Sample.bytes(mobileOriginated), from: .server)
        let report = try analyze(packets: c.packets)
        #expect(report.receipts.count == 3)
        #expect(report.receipts.linked == 2)
        #expect(report.receipts.unknownIDs == 1)
        #expect(report.receipts.stat == ["DELIVRD": 2, "UNDELIV": 1])
        #expect(report.receipts.latency.map { $0.minMs > 499 } == true)
        #expect(report.receipts.withoutReceipt == 0)
        #expect(report.receipts.mobileOriginated == 1)
    }

    /// Each way a receipt can write its response's id, built by hand: the transform it is counted under, the
    /// finding for it with its receipts as evidence, and the client settings named.
    @Test func receiptIDDoctorNamesEachTransform() throws {
        var c = TCPConversation()
        bound(&c)
        // (response id, receipt id, how the receipt wrote it); 0x1A2B3C = 1715004, 255 = 0xFF.
        let cases: [(String, String, ReceiptIDTransform)] = [
            ("1A2B3C", "1715004", .hexToDecimal), ("255", "FF", .decimalToHex), ("00BB42DD", "BB42DD", .zeroPadding),
            ("abc123", "ABC123", .letterCase), ("777", "777", .exact), ("9F9F", "9F9F", .exact),
        ]
        var sequence: UInt32 = 2
        for (response, _, _) in cases {
            c.send(Sample.submit(sequence: sequence, text: "m\(sequence)"), from: .client)
            c.send(Sample.submitResponse(sequence: sequence, id: response), from: .server)
            sequence += 1
        }
        c.wait(microseconds: 100_000)
        var receiptSequences: [ReceiptIDTransform: [UInt32]] = [:]
        for (index, (_, receiptID, transform)) in cases.enumerated() {
            let receiptSequence = UInt32(100 + index)
            if index % 2 == 0 {
                c.send(receipt(sequence: receiptSequence, id: receiptID), from: .server)
            } else {
                c.send(Sample.deliveredByTLV(sequence: receiptSequence, id: receiptID), from: .server)
            }
            c.send(response(.deliverSMResp, sequence: receiptSequence), from: .client)
            receiptSequences[transform, default: []].append(receiptSequence)
        }
        // A receipt for an id no response gave.
        c.send(receipt(sequence: 200, id: "31337"), from: .server)
        c.send(response(.deliverSMResp, sequence: 200), from: .client)
        receiptSequences[.unmatched] = [200]

        let report = try analyze(packets: c.packets)
        #expect(
            report.receipts.idTransforms == [
                .hexToDecimal: 1, .decimalToHex: 1, .zeroPadding: 1, .letterCase: 1, .exact: 2, .unmatched: 1,
            ])
        #expect(report.receipts.linked == 6 && report.receipts.unknownIDs == 1)
        let doctor = report.findings.filter { $0.code == .receiptIDMismatch }
        func finding(_ transform: ReceiptIDTransform) -> Finding? {
            doctor.first { $0.fields.contains(.init("transform", .string(transform.rawValue))) }
        }
        for transform in [ReceiptIDTransform.hexToDecimal, .decimalToHex, .zeroPadding, .letterCase, .unmatched] {
            let found = try #require(finding(transform), "\(transform)")
            #expect(found.count == 1)
            #expect(found.evidence.map(\.sequenceNumber) == receiptSequences[transform], "\(transform)")
            #expect(found.evidence.allSatisfy { $0.command == "deliver_sm" && $0.session == 1 })
        }
        #expect(finding(.exact) == nil, "ids written alike are no finding")
        #expect(finding(.hexToDecimal)?.message.contains("msg-id-type = 0x01") == true)
        #expect(finding(.hexToDecimal)?.message.contains("dlr_msgid = 1") == true)
        #expect(finding(.hexToDecimal)?.message.contains("receipt id 1715004") == true)
        #expect(finding(.decimalToHex)?.message.contains("msg-id-type = 0x02") == true)
        #expect(finding(.zeroPadding)?.message.contains("receipt id BB42DD") == true)
        #expect(finding(.hexToDecimal)?.severity == .warning)
        // Nothing waits for a receipt here: an id matching nothing most likely belongs to an earlier submit.
        #expect(finding(.unmatched)?.severity == .info)
    }

    @Test func receiptsMatchingNothingWhileMessagesWaitAreAWarning() throws {
        var c = TCPConversation()
        bound(&c)
        c.send(
            Sample.bytes(
                PDU(
                    .submitSM, sequence: 2,
                    body: .shortMessage(
                        .init(
                            source: Address(address: "SHOP"),
                            destination: Address(ton: 1, npi: 1, address: "77010000000"),
                            registeredDelivery: 1, shortMessage: ByteBuffer(string: "x"))))),
            from: .client)
        c.send(Sample.submitResponse(sequence: 2, id: "MSG-42"), from: .server)
        c.send(receipt(sequence: 100, id: "99-MSG"), from: .server)
        c.send(response(.deliverSMResp, sequence: 100), from: .client)
        let report = try analyze(packets: c.packets)
        #expect(report.receipts.withoutReceipt == 1)
        let unmatched = try #require(report.findings.first { $0.code == .receiptIDMismatch })
        #expect(unmatched.severity == .warning)
        #expect(unmatched.fields.contains(.init("transform", .string("unmatched"))))
        #expect(unmatched.message.contains("1 accepted messages wait for theirs"))
    }

    /// One account's receipts, built by hand: `count` accepted submits asking for a receipt, a receipt after
    /// `delay` microseconds for those `receipted` says, with the state `stat` gives; the capture then runs on for
    /// 30 s, so that none is too recent to count.
    private func receiptTraffic(
        count: Int, delay: (Int) -> UInt32, receipted: (Int) -> Bool = { _ in true },
        stat: (Int) -> String = { _ in "DELIVRD" }
    ) -> [TestPacket] {
        var c = TCPConversation()
        bound(&c, systemID: "shop")
        for index in 0..<count {
            let sequence = UInt32(index + 2)
            c.send(Sample.submit(sequence: sequence, text: "q\(index)"), from: .client)
            c.send(Sample.submitResponse(sequence: sequence, id: "\(5_000 + index)"), from: .server)
            guard receipted(index) else { continue }
            c.wait(microseconds: delay(index))
            c.send(receipt(sequence: UInt32(1_000 + index), id: "\(5_000 + index)", stat: stat(index)), from: .server)
            c.send(response(.deliverSMResp, sequence: UInt32(1_000 + index)), from: .client)
            c.wait(microseconds: 200_000)
        }
        c.wait(microseconds: 30_000_000)
        c.send(Sample.enquireLink(sequence: 9_999), from: .client)
        c.send(Sample.bytes(PDU(.enquireLinkResp, sequence: 9_999)), from: .server)
        return c.packets
    }

    @Test func receiptQualityPerAccount() throws {
        // 12 messages, receipts for 10 of them, 1.5 s to 2.6 s later: coverage 83%.
        let sparse = try analyze(
            packets: receiptTraffic(count: 12, delay: { 1_500_000 + UInt32($0) * 100_000 }, receipted: { $0 < 10 }))
        let account = try #require(sparse.receipts.accounts.first { $0.account == "shop" })
        #expect(account.asked == 12 && account.final == 10 && account.pending == 0)
        let low = try #require(sparse.findings.first { $0.code == .receiptCoverageLow })
        #expect(low.count == 2 && low.severity == .warning)
        #expect(low.fields.contains(.init("account", .string("shop"))))
        #expect(!sparse.findings.contains { [.receiptTooFast, .receiptUniform, .receiptNotFinal].contains($0.code) })

        // Every receipt 40 ms after its response: too fast, and all alike.
        let fast = try analyze(packets: receiptTraffic(count: 20, delay: { _ in 40_000 }))
        let tooFast = try #require(fast.findings.first { $0.code == .receiptTooFast })
        #expect(tooFast.count == 20)
        #expect(tooFast.evidence.map(\.sequenceNumber) == [1_000, 1_001, 1_002, 1_003, 1_004])
        #expect(tooFast.evidence.allSatisfy { $0.command == "deliver_sm" })
        let uniform = try #require(fast.findings.first { $0.code == .receiptUniform })
        #expect(uniform.fields.contains(.init("state", .string("DELIVRD"))))
        #expect(!fast.findings.contains { $0.code == .receiptCoverageLow })

        // Delays that vary, states that vary: neither fast nor uniform.
        let varied = try analyze(
            packets: receiptTraffic(
                count: 20, delay: { 2_000_000 + UInt32($0) * 37_000 }, stat: { $0 % 5 == 0 ? "UNDELIV" : "DELIVRD" }))
        #expect(!varied.findings.contains { $0.code.rawValue.hasPrefix("receipt_") && $0.code != .receipts })

        // ENROUTE and nothing after it.
        let stuck = try analyze(
            packets: receiptTraffic(count: 3, delay: { _ in 1_000_000 }, stat: { $0 == 0 ? "ENROUTE" : "DELIVRD" }))
        let notFinal = try #require(stuck.findings.first { $0.code == .receiptNotFinal })
        #expect(notFinal.count == 1)
    }

    /// A part of a long message: UDH with an 8-bit reference, or the SAR TLVs.
    private func part(
        sequence: UInt32, reference: UInt8, total: UInt8, number: UInt8, text: String, sar: Bool = false,
        receipt: Bool = false
    ) -> [UInt8] {
        let octets = (sar ? [] : [0x05, 0x00, 0x03, reference, total, number]) + Array(text.utf8)
        return Sample.bytes(
            PDU(
                .submitSM, sequence: sequence,
                body: .shortMessage(
                    .init(
                        source: Address(ton: 5, address: "SHOP"),
                        destination: Address(ton: 1, npi: 1, address: "77015550000"), esmClass: sar ? 0 : 0x40,
                        registeredDelivery: receipt ? 1 : 0, shortMessage: ByteBuffer(bytes: octets))),
                tlvs: sar
                    ? [
                        TLV(tag: .sarMsgRefNum, integer: UInt64(reference), width: 2),
                        TLV(tag: .sarTotalSegments, integer: UInt64(total), width: 1),
                        TLV(tag: .sarSegmentSeqnum, integer: UInt64(number), width: 1),
                    ] : []))
    }

    /// "YYMMDDhhmm" (or with seconds) of a time, in UTC, as Foundation writes it.
    private func receiptDate(_ seconds: Int, withSeconds: Bool = false) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = withSeconds ? "yyMMddHHmmss" : "yyMMddHHmm"
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    @Test func receiptsDoneBeforeTheirSubmit() throws {
        // Per message: the receipt's submit date and done date, in seconds from the captured submit.
        let cases: [(submit: Int, done: Int, withSeconds: Bool)] = [
            (0, -120, false),  // done two minutes before the submit date it gives itself
            (60, -60, false),  // the same, a minute either way
            (-300, -240, false),  // an SMSC clock five minutes behind: done before the captured submit
            (21_600, 21_660, false),  // local time, UTC+6: in order
            (-18_000, -18_000, false),  // local time, UTC-5, done in the same minute: in order
            (-2, -1, true),  // dates with seconds, a clock two seconds behind: in order
            (0, 90, false),  // in order
        ]
        var c = TCPConversation()
        bound(&c, systemID: "shop")
        for (index, dates) in cases.enumerated() {
            let sequence = UInt32(index + 2)
            c.send(Sample.submit(sequence: sequence, text: "d\(index)"), from: .client)
            let submitted = Int(c.seconds)
            c.send(Sample.submitResponse(sequence: sequence, id: "\(7_000 + index)"), from: .server)
            c.wait(microseconds: 1_500_000)
            c.send(
                Sample.deliver(
                    sequence: UInt32(500 + index),
                    text: "id:\(7_000 + index) sub:001 dlvrd:001 submit date:"
                        + receiptDate(submitted + dates.submit, withSeconds: dates.withSeconds) + " done date:"
                        + receiptDate(submitted + dates.done, withSeconds: dates.withSeconds)
                        + " stat:DELIVRD err:000"),
                from: .server)
            c.send(response(.deliverSMResp, sequence: UInt32(500 + index)), from: .client)
            c.wait(microseconds: 20_000_000)
        }
        let report = try analyze(packets: c.packets)
        let account = try #require(report.receipts.accounts.first { $0.account == "shop" })
        #expect(account.datesChecked == cases.count)
        #expect(account.doneBeforeSubmit == 3 && account.doneBeforeOwnSubmitDate == 2)
        let early = try #require(report.findings.first { $0.code == .receiptDoneBeforeSubmit })
        #expect(early.count == 3 && early.severity == .warning)
        #expect(early.evidence.map(\.sequenceNumber) == [500, 501, 502])
        #expect(early.fields.contains(.init("before_own_submit_date", .int(2))))
        // The clock five minutes behind: its done date ends 3 to 4 minutes before the captured submit's minute.
        guard case .int(let by)? = early.fields.first(where: { $0.name == "earliest_by_s" })?.value else {
            Issue.record("no earliest_by_s")
            return
        }
        #expect((180...240).contains(by))
        #expect(early.message.contains("3 of 7 final receipts have a done date"))
    }

    @Test func destinationPrefixesAreTheLeadingDigits() throws {
        var c = TCPConversation()
        bound(&c, systemID: "shop")
        for (index, destination) in ["7701A2345", "77A", "SHOPNAME", "+7702123", "770", ""].enumerated() {
            let sequence = UInt32(index + 2)
            c.send(submit(sequence, to: destination, text: "p\(index)"), from: .client)
            c.send(Sample.submitResponse(sequence: sequence, id: "\(8_000 + index)"), from: .server)
        }
        let report = try analyze(packets: c.packets)
        #expect(Set(report.receipts.prefixes.map(\.account)) == ["7701", "77", "non-numeric", "7702", "770"])
        #expect(report.receipts.prefixes.first { $0.account == "non-numeric" }?.asked == 2)
    }

    @Test func receiptCoverageOfOneRouteInAnAccountThatLooksWell() throws {
        // 200 messages to 7701 all get a receipt; of 25 to 7705, 5 get none: 97.8% for the account, 80% there.
        var c = TCPConversation()
        bound(&c, systemID: "shop")
        var sequence: UInt32 = 2
        for index in 0..<225 {
            let destination = index < 200 ? "+7701\(1_000_000 + index)" : "7705\(2_000_000 + index)"
            c.send(submit(sequence, to: destination, text: "r\(index)"), from: .client)
            c.send(Sample.submitResponse(sequence: sequence, id: "\(9_000 + index)"), from: .server)
            c.wait(microseconds: 1_000_000 + UInt32(index % 7) * 50_000)
            if index < 220 {
                c.send(
                    receipt(
                        sequence: 10_000 + sequence, id: "\(9_000 + index)",
                        stat: index % 3 == 0 ? "UNDELIV" : "DELIVRD"), from: .server)
                c.send(response(.deliverSMResp, sequence: 10_000 + sequence), from: .client)
            }
            sequence += 1
        }
        c.wait(microseconds: 30_000_000)
        c.send(Sample.enquireLink(sequence: 9_999), from: .client)
        c.send(Sample.bytes(PDU(.enquireLinkResp, sequence: 9_999)), from: .server)
        let report = try analyze(packets: c.packets)
        #expect(report.receipts.prefixes.map(\.account) == ["7701", "7705"])
        let route = try #require(report.receipts.prefixes.last)
        #expect(route.asked == 25 && route.final == 20)
        #expect(
            !report.findings.contains { $0.code == .receiptCoverageLow && $0.fields.contains { $0.name == "account" } })
        let low = try #require(report.findings.first { $0.code == .receiptCoverageLow })
        #expect(low.fields.contains(.init("prefix", .string("7705"))) && low.count == 5)
        #expect(low.message.hasPrefix("messages to 7705…: 20 of 25"))

        // Three digits: one prefix, 770, with the account's figures; none with prefixes turned off.
        var three = AnalysisConfiguration()
        three.destinationPrefixDigits = 3
        #expect(try analyze(packets: c.packets, configuration: three).receipts.prefixes.map(\.account) == ["770"])
        var none = AnalysisConfiguration()
        none.destinationPrefixDigits = 0
        #expect(try analyze(packets: c.packets, configuration: none).receipts.prefixes.isEmpty)
    }

    @Test func longMessagesIncompleteRepeatedClashingMixed() throws {
        var c = TCPConversation(clientPort: 41_001)
        bound(&c, systemID: "long")
        var sequence: UInt32 = 2
        func accept(_ bytes: [UInt8]) {
            c.send(bytes, from: .client)
            c.send(Sample.submitResponse(sequence: sequence, id: "\(70_000 + sequence)"), from: .server)
            sequence += 1
        }
        // Reference 7: parts 1 and 3 of 3; part 2 throttled and never sent again.
        accept(part(sequence: sequence, reference: 7, total: 3, number: 1, text: "seven one"))
        c.send(part(sequence: sequence, reference: 7, total: 3, number: 2, text: "seven two"), from: .client)
        c.send(response(.submitSMResp, sequence: sequence, status: .throttled), from: .server)
        sequence += 1
        accept(part(sequence: sequence, reference: 7, total: 3, number: 3, text: "seven three"))
        // Reference 8: part 1 accepted twice, then part 2.
        accept(part(sequence: sequence, reference: 8, total: 2, number: 1, text: "eight one"))
        let repeated = sequence
        accept(part(sequence: sequence, reference: 8, total: 2, number: 1, text: "eight one"))
        accept(part(sequence: sequence, reference: 8, total: 2, number: 2, text: "eight two"))
        // Reference 9: part 1 of two different messages.
        accept(part(sequence: sequence, reference: 9, total: 2, number: 1, text: "nine one"))
        let clash = sequence
        accept(part(sequence: sequence, reference: 9, total: 2, number: 1, text: "other one"))
        accept(part(sequence: sequence, reference: 9, total: 2, number: 2, text: "nine two"))
        // Reference 10: part 1 by UDH, part 2 by SAR.
        let mixed = sequence
        accept(part(sequence: sequence, reference: 10, total: 2, number: 1, text: "ten one"))
        accept(part(sequence: sequence, reference: 10, total: 2, number: 2, text: "ten two", sar: true))
        // Reference 11: part 1 here, part 2 over another bind of the same account.
        let split = sequence
        accept(part(sequence: sequence, reference: 11, total: 2, number: 1, text: "eleven one"))
        var other = TCPConversation(clientPort: 41_002, clientSequence: 90_000)
        other.seconds = c.seconds
        other.nanoseconds = c.nanoseconds
        other.wait(microseconds: 10_000)
        bound(&other, systemID: "long")
        other.send(part(sequence: 2, reference: 11, total: 2, number: 2, text: "eleven two"), from: .client)
        other.send(Sample.submitResponse(sequence: 2, id: "80000"), from: .server)
        // Reference 12: whole, on one bind: no finding.
        accept(part(sequence: sequence, reference: 12, total: 2, number: 1, text: "twelve one"))
        accept(part(sequence: sequence, reference: 12, total: 2, number: 2, text: "twelve two"))
        c.wait(microseconds: 30_000_000)
        c.send(Sample.enquireLink(sequence: 9_999), from: .client)
        c.send(Sample.bytes(PDU(.enquireLinkResp, sequence: 9_999)), from: .server)
        let packets = (c.packets + other.packets).sorted {
            ($0.seconds, $0.nanoseconds) < ($1.seconds, $1.nanoseconds)
        }

        let report = try analyze(packets: packets)
        let long = report.longMessages
        #expect(long.messages == 6)
        #expect(long.complete == 5 && long.incomplete == 1 && long.missingParts == 1 && long.inFlight == 0)
        #expect(long.incompleteExamples == [IncompleteExample(total: 3, missing: [2])])
        #expect(long.duplicateParts == 1 && long.referenceClashes == 1)
        #expect(long.mixedMethods == 1 && long.mixedSessions == 1)
        func finding(_ code: Finding.Code, _ cause: String? = nil) -> Finding? {
            report.findings.first { found in
                found.code == code
                    && (cause.map { found.fields.contains(Finding.Field("cause", .string($0))) } ?? true)
            }
        }
        let incomplete = try #require(finding(.longMessageIncomplete))
        #expect(incomplete.message.contains("part 2 of 3"))
        #expect(incomplete.evidence.map(\.sequenceNumber) == [2], "the message's first part")
        #expect(finding(.longMessageDuplicatePart)?.evidence.map(\.sequenceNumber) == [repeated])
        #expect(finding(.longMessageReferenceClash)?.evidence.map(\.sequenceNumber) == [clash])
        #expect(finding(.longMessageMixedConcat, "methods")?.evidence.map(\.sequenceNumber) == [mixed])
        #expect(finding(.longMessageMixedConcat, "sessions")?.evidence.map(\.sequenceNumber) == [split])
    }

    /// Receipts rolled up per long message: every part delivered, some, none, or no receipt at all; ids per part
    /// or one id for the whole message.
    @Test func longMessageReceiptsRollUpPerMessage() throws {
        var c = TCPConversation()
        bound(&c, systemID: "long")
        var sequence: UInt32 = 2
        // (reference, parts, id per part or shared, the states of the receipts sent, in order of the ids)
        let messages: [(UInt8, UInt8, Bool, [String])] = [
            (21, 3, true, ["DELIVRD", "DELIVRD", "UNDELIV"]),  // some: 2 of 3
            (22, 2, false, ["DELIVRD"]),  // all: one receipt for the shared id
            (23, 2, true, []),  // unknown
            (24, 2, true, ["UNDELIV", "EXPIRED"]),  // none
            (25, 2, true, ["DELIVRD", "DELIVRD"]),  // all
        ]
        var receiptsToSend: [(String, String)] = []
        for (reference, total, perPart, states) in messages {
            for number in 1...total {
                c.send(
                    part(
                        sequence: sequence, reference: reference, total: total, number: number,
                        text: "r\(reference)p\(number)", receipt: true), from: .client)
                let id = perPart ? "L\(reference)P\(number)" : "L\(reference)"
                c.send(Sample.submitResponse(sequence: sequence, id: id), from: .server)
                sequence += 1
                let index = Int(number) - 1
                if index < states.count { receiptsToSend.append((id, states[index])) }
            }
        }
        c.wait(microseconds: 1_000_000)
        for (index, (id, state)) in receiptsToSend.enumerated() {
            c.send(receipt(sequence: UInt32(500 + index), id: id, stat: state), from: .server)
            c.send(response(.deliverSMResp, sequence: UInt32(500 + index)), from: .client)
        }
        let report = try analyze(packets: c.packets)
        let rolled = report.receipts.longMessageReceipts
        #expect(rolled.allDelivered == 2 && rolled.someDelivered == 1 && rolled.noneDelivered == 1)
        #expect(rolled.unknown == 1)
        #expect(rolled.partlyDelivered.map { [$0.parts, $0.receipts, $0.delivered] } == [[3, 3, 2]])
        let partly = try #require(report.findings.first { $0.code == .longMessagePartlyDelivered })
        #expect(partly.message.contains("2 of 3 receipts DELIVRD"))
        #expect(partly.evidence.map(\.sequenceNumber) == [2], "the message's first part")
    }

    /// Kannel asks for a receipt on the first part of a long message only: the parts that asked for none are not
    /// receipts missing, and one DELIVRD for the first part is the whole message delivered.
    @Test func partsThatAskForNoReceiptAreNotWaitedFor() throws {
        var c = TCPConversation()
        bound(&c, systemID: "long")
        for number in 1...3 as ClosedRange<UInt8> {
            let sequence = UInt32(number) + 1
            c.send(
                part(
                    sequence: sequence, reference: 31, total: 3, number: number, text: "p\(number)",
                    receipt: number == 1), from: .client)
            c.send(Sample.submitResponse(sequence: sequence, id: "P\(number)"), from: .server)
        }
        c.send(receipt(sequence: 700, id: "P1"), from: .server)
        c.send(response(.deliverSMResp, sequence: 700), from: .client)
        let report = try analyze(packets: c.packets)
        let rolled = report.receipts.longMessageReceipts
        #expect(rolled.allDelivered == 1 && rolled.someDelivered == 0)
        #expect(!report.findings.contains { $0.code == .longMessagePartlyDelivered })
    }

    @Test func peakOverASlidingSecond() {
        var counter = SlidingWindowCounter()
        // The busiest (t - 1 s, t] is (0.4, 1.4]: 0.6, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4.
        for time in [0, 0.2, 0.4, 0.6, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4] { counter.add(Int64(time * 1e9)) }
        #expect(counter.peak == 7)
        // An event that arrives late is placed where it belongs, and counts in the windows after it.
        counter.add(Int64(1.05 * 1e9))
        #expect(counter.peak == 8)
        // The boundary is open on the left: an event exactly 1 s before does not count.
        var edge = SlidingWindowCounter()
        for time: Int64 in [0, 1_000_000_000] { edge.add(time) }
        #expect(edge.peak == 1)
    }

    @Test func windowBoundVersusLoadBound() throws {
        // A client that keeps 5 requests outstanding all the time: window-bound.
        var c = TCPConversation()
        bound(&c)
        var next: UInt32 = 2
        var waiting: [UInt32] = []
        for _ in 0..<5 {
            c.send(Sample.submit(sequence: next), from: .client)
            waiting.append(next)
            next += 1
        }
        for _ in 0..<40 {
            c.wait(microseconds: 10_000)
            c.send(response(.submitSMResp, sequence: waiting.removeFirst(), id: "\(next)"), from: .server)
            c.send(Sample.submit(sequence: next), from: .client)
            waiting.append(next)
            next += 1
        }
        for sequence in waiting {
            c.send(response(.submitSMResp, sequence: sequence, id: "x\(sequence)"), from: .server)
        }
        let report = try analyze(packets: c.packets)
        let window = try #require(report.sessions[0].clientWindow)
        #expect(window.max == 5)
        #expect(window.shareAtWindow > 0.9)
        #expect(report.sessions[0].verdict == "window-bound")

        var configured = AnalysisConfiguration()
        configured.window = 300
        let against = try analyze(packets: c.packets, configuration: configured)
        #expect(against.sessions[0].clientWindow?.window == 300)
        #expect(against.sessions[0].clientWindow?.shareAtWindow == 0)
        #expect(against.sessions[0].verdict == "load-bound")
    }

    @Test func kannelConfiguration() {
        let text = """
            group = core
            admin-port = 13000

            # the SMSC.kz link
            group = smsc
            smsc = smpp
            smsc-id = "smsckz"
            host = smpp.smsc.kz
            port = 3700
            smsc-username = "login"
            max-pending-submits = 300
            throughput = 30
            enquire-link-interval = 60
            transceiver-mode = true
            """
        let groups = KannelSMSCGroup.parse(text)
        #expect(groups.count == 1)
        #expect(groups[0].id == "smsckz")
        #expect(groups[0].port == 3700)
        #expect(groups[0].username == "login")
        #expect(groups[0].maxPendingSubmits == 300)
        #expect(groups[0].throughput == 30)
        #expect(groups[0].enquireLinkInterval == 60)
        #expect(groups[0].transceiverMode == true)
    }

    @Test func smsckzChannelsAndComments() throws {
        var c = TCPConversation()
        bound(&c)
        let texts = ["plain", "__MMS__: pic\nsubj:Hi", "__HLR__", "note\n~~~\nfor the history", "__BOT__: hi\nbot:@b"]
        for (index, text) in texts.enumerated() {
            c.send(Sample.submit(sequence: UInt32(2 + index), text: text), from: .client)
            c.send(response(.submitSMResp, sequence: UInt32(2 + index), id: "\(index)"), from: .server)
        }
        let report = try analyze(packets: c.packets)
        #expect(report.channels == ["sms": 2, "mms": 1, "hlr": 1, "bot": 1])
        #expect(report.submitsWithComment == 1)
    }

    /// Long messages whose parts are numbered in sar_* TLVs rather than a user data header: the channel is read
    /// from the first part only, each message counts once with an id per part, and each part's receipt links.
    @Test func longMessagesNumberedInSARParameters() throws {
        var c = TCPConversation()
        bound(&c)
        var sequence: UInt32 = 2
        // Two messages of three parts each: the first an MMS, the second plain; then one receipt per part.
        for (reference, first) in [(0x1234, "__MMS__: one"), (0x0102, "plain one")] {
            for part in 1...3 {
                let text = part == 1 ? first : "__MMS__ not a marker past the first part \(part)"
                let body = PDU.ShortMessage(
                    source: Address(ton: 5, address: "SHOP"),
                    destination: Address(ton: 1, npi: 1, address: "77011234567"),
                    registeredDelivery: 1, shortMessage: ByteBuffer(string: text))
                let tlvs = [
                    TLV(tag: .sarMsgRefNum, integer: UInt64(reference), width: 2),
                    TLV(tag: .sarTotalSegments, integer: 3, width: 1),
                    TLV(tag: .sarSegmentSeqnum, integer: UInt64(part), width: 1),
                ]
                c.send(
                    Sample.bytes(PDU(.submitSM, sequence: sequence, body: .shortMessage(body), tlvs: tlvs)),
                    from: .client)
                c.send(response(.submitSMResp, sequence: sequence, id: "\(reference)-\(part)"), from: .server)
                sequence += 1
            }
        }
        for reference in [0x1234, 0x0102] {
            for part in 1...3 {
                c.send(receipt(sequence: sequence, id: "\(reference)-\(part)"), from: .server)
                c.send(response(.deliverSMResp, sequence: sequence), from: .client)
                sequence += 1
            }
        }
        let report = try analyze(packets: c.packets)
        #expect(report.channels == ["sms": 1, "mms": 1])
        #expect(report.receipts.longMessages == 2)
        #expect(report.receipts.longMessagesPerPartID == 2)
        #expect(report.receipts.linked == 6)
    }
}
