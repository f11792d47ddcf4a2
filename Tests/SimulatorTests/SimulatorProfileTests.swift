// The simulator's settings a profile sets, driven with plain values: the ids as the format says, receipts by TLVs
// only or by text only in a learned template, one receipt per part, delays and latency drawn from histograms; and
// what a profile turns into, setting by setting.

import NIOCore
import Profile
import SMPP
import Simulator
import Testing

@Suite("Simulator settings a profile sets")
struct SimulatorProfileTests {
    func longMessage(_ harness: inout Harness, on connection: Int) -> [SMSCStateMachine.Action] {
        var actions: [SMSCStateMachine.Action] = []
        for part in 1...3 {
            actions += harness.submit(
                connection, registeredDelivery: 1, esmClass: 0x40,
                octets: [5, 0, 3, 9, 3, UInt8(part)] + Array("part \(part)".utf8))
        }
        return actions
    }

    @Test func idsInTheFormatAndReceiptsByTLVsOnlyOnePerPart() throws {
        var harness = Harness {
            $0.messageIDFormat = SimulatorConfiguration.MessageIDFormat(specification: "HEX:8")
            $0.firstMessageID = 0xABC
            $0.receiptCarries = .tlv
            $0.receiptPerPart = true
        }
        let a = harness.connect()
        _ = harness.bind(a)
        let actions = longMessage(&harness, on: a)
        let all = actions + harness.runTimers(actions, until: harness.now + 3)
        let ids = all.written(to: a).filter { $0.commandID == .submitSMResp }.compactMap(\.messageID)
        #expect(ids == ["00000ABC", "00000ABD", "00000ABE"], "an id per part, upper-case hex in 8")
        let receipts = all.written(to: a).filter { $0.commandID == .deliverSM }
        #expect(receipts.count == 3, "a receipt per part")
        for receipt in receipts {
            #expect(receipt.shortMessageOctets?.readableBytes == 0, "no text")
            #expect(receipt.deliveryReceipt()?.receiptedMessageID.map { ids.contains($0) } == true)
        }
    }

    @Test func receiptsByTextOnlyInTheLearnedTemplateOnePerMessage() throws {
        var harness = Harness {
            $0.receiptCarries = .text
            $0.receiptTemplate = "id:{id} stat:{stat} err:{err} text:{text}"
        }
        let a = harness.connect()
        _ = harness.bind(a)
        let actions = longMessage(&harness, on: a)
        let all = actions + harness.runTimers(actions, until: harness.now + 3)
        let ids = Set(all.written(to: a).filter { $0.commandID == .submitSMResp }.compactMap(\.messageID))
        #expect(ids.count == 1, "one id for the message")
        let receipts = all.written(to: a).filter { $0.commandID == .deliverSM }
        let receipt = try #require(receipts.first)
        #expect(receipts.count == 1 && receipt.tlvs.isEmpty)
        let text = String(decoding: receipt.shortMessageOctets?.readableBytesView ?? [], as: UTF8.self)
        #expect(text == "id:\(ids.first ?? "") stat:DELIVRD err:000 text:part 3")
    }

    @Test func delaysAndLatencyAreDrawnFromTheLearnedHistograms() throws {
        var latency = DelayHistogram.Builder()
        for _ in 0..<10 { latency.add(milliseconds: 40) }
        var delay = DelayHistogram.Builder()
        for _ in 0..<10 { delay.add(milliseconds: 5000) }
        var harness = Harness {
            $0.latencyDistribution = latency.histogram.percentilePoints
            $0.receiptDelayDistribution = delay.histogram.percentilePoints
        }
        let a = harness.connect()
        _ = harness.bind(a)
        for _ in 0..<20 {
            let actions = harness.submit(a, text: "m\(harness.sequence)", registeredDelivery: 1)
            for (timer, after) in actions.scheduled {
                if case .response = timer { #expect((0.0355...0.0448).contains(after), "latency \(after)") }
                if case .receipt = timer { #expect((4.46...5.62).contains(after), "receipt \(after)") }
            }
        }
    }

    @Test func aProfileTurnsIntoTheSettings() throws {
        var latency = DelayHistogram.Builder()
        latency.add(milliseconds: 12)
        let smsc = ProviderProfile.SMSC(
            server: "10.0.0.1:2775", systemIDs: ["shop"], smscSystemIDs: ["ACME"], interfaceVersions: ["3.4"],
            sessions: 1,
            messageIDs: .init(
                seen: 3, format: "hex", letterCase: "lower", minLength: 12, maxLength: 12, zeroPadded: true,
                sequentialShare: 1, examples: ["00000000abcd"]),
            longMessages: .init(seen: 1, ids: "per_part"),
            receipts: .init(
                seen: 4, linked: 4, idIn: "tlv", idForm: "hex_to_decimal", per: "part", template: nil, templateShare: 0,
                tlvs: ["receipted_message_id": 1], states: ["DELIVRD": 3, "UNDELIV": 1], errors: [:],
                stateShares: ["DELIVRD": 0.75, "UNDELIV": 0.25],
                errorShares: [:],
                delay: latency.histogram),
            responses: [
                "submit_sm": .init(
                    count: 3, statuses: ["ESME_ROK": 3], latency: latency.histogram, acceptedLatency: latency.histogram,
                    errorsWithBody: 0, errorsWithoutBody: 2)
            ],
            throttling: .init(
                throttled: 2, episodes: 1, counts: "messages",
                accounts: [.init(systemID: "shop", limitPerSecond: 7, peakAcceptedPerSecond: 7, throttled: 2)]),
            window: .init(queueFullAt: 50, queueFull: 1, largestAccepted: 50),
            binds: .init(
                accepted: 1, refused: [:], mostConcurrentPerLogin: 1, refusedWhileBound: [:], replacements: 0,
                systemTypes: [:]),
            enquireLink: .init(fromESME: 0, fromSMSC: 0, smscIntervalSeconds: nil, answered: true),
            idle: .init(endedBySMSC: 1, endedAfterSilenceSeconds: 45, action: "unbind"),
            duplicates: .init(
                refused: 1, status: "ESME_RSUBMITFAIL", refusedWithinSeconds: 29.5, acceptedAgainAfterSeconds: nil),
            quirks: .init(genericNacks: [:], vendorTLVs: [:], nonStandardStatuses: [:], departures: [:]))
        var configuration = SimulatorConfiguration()
        configuration.accounts = [.init(systemID: "shop", password: "pw"), .init(systemID: "other", password: "pw")]
        let said = configuration.apply(smsc)
        #expect(configuration.messageIDFormat == .init(radix: 16, uppercase: false, width: 12))
        #expect(configuration.firstMessageID == 0xABCD && configuration.smscSystemID == "ACME")
        #expect(configuration.receiptCarries == .tlv && configuration.receiptIDForm == .decimalForHex)
        #expect(configuration.receiptPerPart && configuration.receiptTemplate == nil)
        #expect(configuration.receiptShares.delivered == 3 && configuration.receiptShares.undeliverable == 1)
        #expect(configuration.accounts.map(\.throughput) == [7, nil] && configuration.throughput == 7)
        #expect(configuration.throttleCounts == .messages && configuration.window == 50)
        #expect(configuration.idleTimeout == 45 && configuration.idleAction == .unbind)
        #expect(configuration.duplicateWindow == 30)
        #expect(configuration.latencyDistribution?.isEmpty == false && configuration.receiptDelayDistribution != nil)
        #expect(configuration.errorResponsesWithBody == false)
        #expect(said.count == 8, "\(said)")
    }

    @Test func errorAnswersWithoutABodyWhenTold() throws {
        for withBody in [true, false] {
            var harness = Harness {
                $0.throughput = 1
                $0.errorResponsesWithBody = withBody
            }
            let a = harness.connect()
            _ = harness.bind(a)
            _ = harness.submit(a, text: "one")
            let refused = try #require(harness.submit(a, text: "two").written(to: a).first)
            #expect(refused.commandStatus == .throttled)
            #expect(refused.encoded.readableBytes == (withBody ? 17 : 16), "with a body: \(withBody)")
        }
    }
}
