// What the profiler learns from hand-built sessions whose every figure is known: ids, long messages and their
// receipts, templates, the window, binds of one login, keep-alives, idle, identical submits.

import Foundation
import NIOCore
import Profile
import SMPP
import TestSupport
import Testing

@Suite("Profile learning")
struct ProfileLearningTests {
    static func submit(_ sequence: UInt32, to destination: String, text: [UInt8], esmClass: UInt8 = 0) -> [UInt8] {
        encoded(
            PDU(
                .submitSM, sequence: sequence,
                body: .shortMessage(
                    .init(
                        source: Address(ton: 5, address: "SHOP"), destination: Address(ton: 1, address: destination),
                        esmClass: esmClass, registeredDelivery: 1, shortMessage: ByteBuffer(bytes: text)))))
    }

    static func bind(_ sequence: UInt32, login: String) -> [UInt8] {
        encoded(
            PDU(
                .bindTransceiver, sequence: sequence,
                body: .bind(.init(systemID: login, password: "pw", systemType: "MCON2"))))
    }

    static func receipt(_ sequence: UInt32, id: String, stat: String, err: String) -> [UInt8] {
        let text =
            "id:\(id) sub:001 dlvrd:001 submit date:2611260834 done date:2611260835 stat:\(stat) err:\(err) text:hello"
        return encoded(
            PDU(
                .deliverSM, sequence: sequence,
                body: .shortMessage(
                    .init(
                        source: Address(address: "77011234567"), destination: Address(address: "SHOP"), esmClass: 4,
                        shortMessage: ByteBuffer(string: text)))))
    }

    @Test func idsLongMessagesReceiptsAndTheWindow() throws {
        var link = TCPConversation()
        link.handshake()
        link.send(Self.bind(1, login: "shop"), from: .client)
        link.send(
            encoded(PDU(.bindTransceiverResp, sequence: 1, body: .bindResponse(.init(systemID: "PROVIDER")))),
            from: .server)
        // Four singles sent at once, answered with zero-padded decimal ids counting up.
        for index in 0..<4 {
            link.send(
                Self.submit(UInt32(2 + index), to: "7701000000\(index)", text: Array("single \(index)".utf8)),
                from: .client)
        }
        for index in 0..<4 {
            link.wait(microseconds: 20_000)
            link.send(
                Sample.submitResponse(sequence: UInt32(2 + index), id: String(format: "%010d", 500 + index)),
                from: .server)
        }
        // A long message in two parts sharing one id; one receipt for it.
        for part in 1...2 {
            let udh: [UInt8] = [5, 0, 3, 0x42, 2, UInt8(part)]
            link.send(
                Self.submit(
                    UInt32(5 + part), to: "77010000009", text: udh + Array("part \(part)".utf8), esmClass: 0x40),
                from: .client)
            link.wait(microseconds: 30_000)
            link.send(Sample.submitResponse(sequence: UInt32(5 + part), id: "0000000600"), from: .server)
        }
        // Three outstanding when the fourth is refused ESME_RMSGQFUL.
        for sequence in 8...11 {
            link.send(
                Self.submit(UInt32(sequence), to: "7701000002\(sequence)", text: Array("w\(sequence)".utf8)),
                from: .client)
        }
        link.send(encoded(PDU(.submitSMResp, status: .messageQueueFull, sequence: 11)), from: .server)
        for sequence in 8...10 {
            link.send(
                Sample.submitResponse(sequence: UInt32(sequence), id: String(format: "%010d", 600 + sequence)),
                from: .server)
        }
        // Receipts: three DELIVRD, one UNDELIV (err 001), the long message's one, written in the text only.
        link.wait(microseconds: 2_000_000)
        for (index, id) in ["0000000500", "0000000501", "0000000502", "0000000600"].enumerated() {
            link.send(Self.receipt(UInt32(20 + index), id: id, stat: "DELIVRD", err: "000"), from: .server)
            link.send(encoded(PDU(.deliverSMResp, sequence: UInt32(20 + index), body: .messageID(""))), from: .client)
        }
        link.send(Self.receipt(30, id: "0000000503", stat: "UNDELIV", err: "001"), from: .server)
        link.send(encoded(PDU(.deliverSMResp, sequence: 30, body: .messageID(""))), from: .client)
        link.fin(from: .client)

        let (profile, _) = try profiled([link])
        let smsc = try #require(profile.smscs.first)
        #expect(smsc.server == "127.0.0.1:3700")
        #expect(smsc.systemIDs == ["shop"] && smsc.smscSystemIDs == ["PROVIDER"] && smsc.interfaceVersions == ["3.4"])
        #expect(smsc.binds.systemTypes == ["MCON2": 1])
        let ids = smsc.messageIDs
        #expect(ids.format == "decimal" && ids.letterCase == "none" && ids.zeroPadded, "\(ids)")
        #expect(ids.minLength == 10 && ids.maxLength == 10 && ids.seen == 9)
        #expect(ids.examples == ["0000000500", "0000000501", "0000000502"])
        #expect(smsc.longMessages.seen == 1 && smsc.longMessages.ids == "shared")
        let receipts = smsc.receipts
        #expect(receipts.seen == 5 && receipts.linked == 5 && receipts.idIn == "text" && receipts.idForm == "exact")
        #expect(receipts.states == ["DELIVRD": 4, "UNDELIV": 1] && receipts.errors == ["000": 4, "001": 1])
        #expect(
            receipts.stateShares == ["DELIVRD": 0.8, "UNDELIV": 0.2]
                && receipts.errorShares == ["000": 0.8, "001": 0.2])
        #expect(
            receipts.template
                == "id:{id} sub:{sub} dlvrd:{dlvrd} submit date:{submit_date} done date:{done_date} stat:{stat} "
                + "err:{err} text:{text}")
        #expect(receipts.templateShare == 1 && receipts.tlvs.isEmpty)
        // The singles answered 20, 40, 60 and 80 ms after they were sent.
        let latency = try #require(smsc.responses["submit_sm"]?.acceptedLatency)
        #expect(latency.count == 9)
        #expect(smsc.responses["submit_sm"]?.statuses == ["ESME_ROK": 9, "ESME_RMSGQFUL": 1])
        #expect(smsc.window.queueFullAt == 3 && smsc.window.queueFull == 1)
        #expect(smsc.throttling.throttled == 0 && smsc.throttling.accounts.first?.limitPerSecond == nil)
    }

    @Test func bindsOfOneLoginKeepAlivesIdleAndIdenticalSubmits() throws {
        var first = TCPConversation(clientPort: 40_001)
        var second = TCPConversation(clientPort: 40_002)
        first.handshake()
        first.send(Self.bind(1, login: "shop"), from: .client)
        first.send(Sample.bindResponse(sequence: 1), from: .server)
        // A second connection of the login is refused ESME_RALYBND while the first is bound.
        second.seconds = first.seconds
        second.nanoseconds = first.nanoseconds + 1_000
        second.handshake()
        second.send(Self.bind(1, login: "shop"), from: .client)
        second.send(encoded(PDU(.bindTransceiverResp, status: .alreadyBound, sequence: 1)), from: .server)
        second.fin(from: .server)
        // The same text to the same number twice: accepted, then refused 20 s later; accepted again 70 s after.
        first.send(Self.submit(2, to: "77010000001", text: Array("same".utf8)), from: .client)
        first.send(Sample.submitResponse(sequence: 2, id: "1"), from: .server)
        // The SMSC asks enquire_link every 10 s.
        for round in 0..<2 {
            first.wait(microseconds: 10_000_000)
            first.send(Sample.enquireLink(sequence: UInt32(100 + round)), from: .server)
            first.send(encoded(PDU(.enquireLinkResp, sequence: UInt32(100 + round))), from: .client)
        }
        first.send(Self.submit(3, to: "77010000001", text: Array("same".utf8)), from: .client)
        first.send(encoded(PDU(.submitSMResp, status: .submitFailed, sequence: 3)), from: .server)
        first.wait(microseconds: 50_000_000)
        first.send(Self.submit(4, to: "77010000001", text: Array("same".utf8)), from: .client)
        first.send(Sample.submitResponse(sequence: 4, id: "2"), from: .server)
        // Then silence from the ESME: the SMSC unbinds after 30 s and closes.
        first.wait(microseconds: 30_000_000)
        first.send(Sample.unbind(sequence: 200), from: .server)
        first.send(Sample.unbindResponse(sequence: 200), from: .client)
        first.fin(from: .server)

        let (profile, report) = try profiled([first, second])
        let smsc = try #require(profile.smscs.first)
        #expect(smsc.sessions == 2)
        #expect(smsc.binds.accepted == 1 && smsc.binds.refused == ["ESME_RALYBND": 1])
        #expect(smsc.binds.refusedWhileBound == ["ESME_RALYBND": 1] && smsc.binds.mostConcurrentPerLogin == 1)
        #expect(
            smsc.enquireLink.fromSMSC == 2 && smsc.enquireLink.smscIntervalSeconds.map { abs($0 - 10) < 0.01 } == true)
        #expect(smsc.idle.endedBySMSC == 1 && smsc.idle.action == "unbind")
        #expect(smsc.idle.endedAfterSilenceSeconds.map { abs($0 - 30) < 0.01 } == true, "\(smsc.idle)")
        #expect(smsc.duplicates.refused == 1 && smsc.duplicates.status == "ESME_RSUBMITFAIL")
        #expect(smsc.duplicates.refusedWithinSeconds.map { abs($0 - 20) < 0.01 } == true)
        #expect(smsc.duplicates.acceptedAgainAfterSeconds.map { abs($0 - 70) < 0.01 } == true)
        #expect(report.departures.isEmpty, "\(report.departures.map(\.code))")
    }

    @Test func throttlingLimitAndWhatItCounts() throws {
        // 8 accepted within 0.1 s, then the ninth refused ESME_RTHROTTLED; 3 s later 7 singles and a long message's
        // first part accepted and its second part refused: the limit is 8 and parts count.
        var link = TCPConversation()
        link.handshake()
        link.send(Self.bind(1, login: "bulk"), from: .client)
        link.send(Sample.bindResponse(sequence: 1), from: .server)
        for index in 0..<9 {
            link.send(
                Self.submit(UInt32(2 + index), to: "7701000000\(index)", text: Array("t\(index)".utf8)), from: .client)
            link.send(
                index < 8
                    ? Sample.submitResponse(sequence: UInt32(2 + index), id: "\(index)")
                    : encoded(PDU(.submitSMResp, status: .throttled, sequence: UInt32(2 + index))), from: .server)
        }
        link.wait(microseconds: 3_000_000)
        for index in 0..<7 {
            link.send(
                Self.submit(UInt32(30 + index), to: "7701000001\(index)", text: Array("u\(index)".utf8)), from: .client)
            link.send(Sample.submitResponse(sequence: UInt32(30 + index), id: "\(30 + index)"), from: .server)
        }
        for part in 1...2 {
            let udh: [UInt8] = [5, 0, 3, 7, 2, UInt8(part)]
            link.send(
                Self.submit(UInt32(20 + part), to: "77010000099", text: udh + [0x41], esmClass: 0x40), from: .client)
            link.send(
                part == 1
                    ? Sample.submitResponse(sequence: 21, id: "50")
                    : encoded(PDU(.submitSMResp, status: .throttled, sequence: 22)), from: .server)
        }
        link.fin(from: .client)
        let (profile, _) = try profiled([link])
        let throttling = try #require(profile.smscs.first?.throttling)
        #expect(throttling.throttled == 2 && throttling.episodes == 2 && throttling.counts == "parts")
        #expect(throttling.accounts.map(\.systemID) == ["bulk"])
        #expect(throttling.accounts.first?.limitPerSecond == 8 && throttling.accounts.first?.peakAcceptedPerSecond == 8)
    }
}

extension ProfileLearningTests {
    /// data_sm submits as submit_sm does: its ids, its receipts and its share of the rate are the SMSC's alike.
    @Test func dataSMIsASubmitToo() throws {
        var link = TCPConversation()
        link.handshake()
        link.send(Self.bind(1, login: "shop"), from: .client)
        link.send(Sample.bindResponse(sequence: 1), from: .server)
        for index in 0..<3 {
            let data = PDU(
                .dataSM, sequence: UInt32(2 + index),
                body: .dataSM(
                    .init(
                        source: Address(address: "SHOP"), destination: Address(address: "7701000000\(index)"),
                        registeredDelivery: 1)),
                tlvs: [TLV(tag: .messagePayload, octets: Array("payload \(index)".utf8))])
            link.send(encoded(data), from: .client)
            link.send(
                encoded(PDU(.dataSMResp, sequence: UInt32(2 + index), body: .messageID("m-\(index)"))), from: .server)
        }
        for index in 0..<3 {
            link.send(Sample.deliveredByTLV(sequence: UInt32(10 + index), id: "m-\(index)"), from: .server)
            link.send(encoded(PDU(.deliverSMResp, sequence: UInt32(10 + index), body: .messageID(""))), from: .client)
        }
        link.fin(from: .client)
        let (profile, report) = try profiled([link])
        let smsc = try #require(profile.smscs.first)
        #expect(smsc.responses["data_sm"]?.statuses == ["ESME_ROK": 3])
        #expect(smsc.messageIDs.seen == 3 && smsc.messageIDs.format == "alphanumeric")
        #expect(smsc.receipts.linked == 3 && smsc.receipts.idIn == "tlv")
        #expect(smsc.throttling.accounts.first?.peakAcceptedPerSecond == 3)
        #expect(report.departures.isEmpty, "\(report.departures.map(\.code))")
    }
}

@Suite("Delay histogram and receipt templates")
struct DelayHistogramTests {
    @Test func percentilesFallWithinTheirBucket() {
        var builder = DelayHistogram.Builder()
        for value in 1...1000 { builder.add(milliseconds: Double(value) / 10) }  // 0.1 ... 100 ms, evenly
        let histogram = builder.histogram
        #expect(histogram.count == 1000)
        #expect(histogram.buckets.reduce(0) { $0 + $1.count } == 1000)
        // A bucket is 12% wide: the percentile read from it is within 12% of the exact one.
        for (percent, exact) in [(50.0, 50.0), (90.0, 90.0), (99.0, 99.0)] {
            let read = histogram.percentile(percent) ?? 0
            #expect(abs(read - exact) / exact < 0.12, "p\(percent): \(read)")
        }
        for bucket in histogram.buckets {
            #expect(bucket.toMilliseconds > bucket.fromMilliseconds)
            #expect(bucket.toMilliseconds / max(bucket.fromMilliseconds, 0.01) < 1.13)
        }
        // The bounds are 10^(k/20) times 10 µs: 1 ms is one.
        #expect(histogram.buckets.contains { $0.fromMilliseconds == 1 })
    }

    @Test func drawingFromThePointsGivesBackTheDistribution() {
        var builder = DelayHistogram.Builder()
        for value in [5.0, 5.0, 5.0, 40.0] { builder.add(milliseconds: value) }
        let points = builder.histogram.percentilePoints
        // Three quarters at about 5 ms, a quarter at about 40 ms, nothing between.
        let at = { (percent: Double) -> Double in
            var previous = points[0]
            for point in points where percent <= point.percentile {
                let span = point.percentile - previous.percentile
                return previous.seconds + (span > 0 ? (percent - previous.percentile) / span : 0)
                    * (point.seconds - previous.seconds)
            }
            for point in points { previous = point }
            return previous.seconds
        }
        #expect(abs(at(50) - 0.005) < 0.0006)
        #expect(abs(at(90) - 0.040) < 0.005)
        #expect(points.allSatisfy { $0.seconds < 0.0056 || $0.seconds > 0.035 }, "\(points)")
    }

    @Test func templatesKeepKeysAndSeparators() {
        #expect(
            ReceiptTemplate.of(
                "id:1A2B sub:001 dlvrd:001 submit date:2611260834 done date:2611260835 stat:DELIVRD err:000 Text:hi there"
            )
                == "id:{id} sub:{sub} dlvrd:{dlvrd} submit date:{submit_date} done date:{done_date} stat:{stat} err:{err} Text:{text}"
        )
        #expect(ReceiptTemplate.of("ID:7 STAT:UNDELIV") == "ID:{id} STAT:{stat}")
        #expect(ReceiptTemplate.of("no keys here") == "no keys here")
        #expect(ReceiptTemplate.of("id:5  stat:DELIVRD  err:0") == "id:{id}  stat:{stat}  err:{err}")
        #expect(
            ReceiptTemplate.fill("id:{id} stat:{stat} x:{unknown}", ["id": "9", "stat": "DELIVRD"])
                == "id:9 stat:DELIVRD x:")
    }
}
