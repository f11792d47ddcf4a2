// Joins what the inputs saw into journeys. Two inputs that share most of their PDUs byte for byte are the two ends
// of one link: the second's clock is fitted to the first's (offset and drift, least squares over the shared PDUs)
// and the first one's view is kept. Across hops (sessions to different SMSC addresses: the ESME's gateway, the
// gateway's SMSC) a message is the same message when it goes to the same destination with the same text, on the
// next hop, within `window` after it. Each hop's receipt is the one for the id that hop's response gave.

import Capture

/// Puts the inputs' messages together.
public struct TraceJoiner {
    /// How long after a message its next hop may carry it, in seconds.
    public var window: Double = 60
    /// A receipt passed on later than this after the next hop's receipt is late, in seconds.
    public var lateReceipt: Double = 5
    /// How far the next hop may seem to come before the message (clocks of different hosts), in seconds.
    public var earlyTolerance: Double = 1

    public init() {}

    public struct Input {
        public var name: String
        public var messages: [HopMessage]
        public var fingerprints: [UInt64: Int64]
        public var first: Timestamp?
        public var last: Timestamp?

        public init(
            name: String, messages: [HopMessage], fingerprints: [UInt64: Int64], first: Timestamp?, last: Timestamp?
        ) {
            self.name = name
            self.messages = messages
            self.fingerprints = fingerprints
            self.first = first
            self.last = last
        }
    }

    public func join(_ inputs: [Input]) -> TraceReport {
        // The clocks: each input against the first before it that shares its PDUs.
        var offsets: [ClockOffset] = []
        var mirrors: [Int: Int] = [:]
        for index in inputs.indices {
            for reference in 0..<index where mirrors[reference] == nil {
                guard let offset = Self.clock(of: inputs[index], index: index, against: inputs[reference], reference)
                else { continue }
                offsets.append(offset)
                mirrors[index] = reference
                break
            }
        }
        // Every message of the inputs that are not another's copy, in time order.
        var all: [HopMessage] = []
        for (index, input) in inputs.enumerated() where mirrors[index] == nil { all += input.messages }
        all.sort { $0.time < $1.time }

        // Chains: each message's next hop.
        var next = [Int?](repeating: nil, count: all.count)
        var previous = [Int?](repeating: nil, count: all.count)
        var duplicateOf = [Int?](repeating: nil, count: all.count)
        var byKey: [String: [Int]] = [:]
        let windowNs = window * 1e9
        let earlyNs = earlyTolerance * 1e9
        for index in all.indices {
            let message = all[index]
            let key = message.destination + "\u{0}" + message.text
            let candidates = byKey[key, default: []]
            var matched: Int?
            var duplicate: Int?
            for candidate in candidates {
                let earlier = all[candidate]
                let gap = Self.nanoseconds(from: earlier.time, to: message.time)
                guard earlier.smsc != message.smsc, gap >= -earlyNs, gap <= windowNs else { continue }
                if next[candidate] == nil,
                    previous[candidate] == nil || all[previous[candidate] ?? 0].smsc != message.smsc
                {
                    matched = candidate
                    break
                }
                if let taken = next[candidate], all[taken].smsc == message.smsc, duplicate == nil {
                    duplicate = candidate
                }
            }
            if let matched {
                next[matched] = index
                previous[index] = matched
            } else if let duplicate {
                duplicateOf[index] = duplicate
            }
            // Only the messages of the last `window` stay candidates.
            byKey[key] =
                candidates.filter { Self.nanoseconds(from: all[$0].time, to: message.time) <= windowNs } + [index]
        }

        var journeys: [Journey] = []
        var journeyOf: [Int: (journey: Int, hop: Int)] = [:]
        for index in all.indices where previous[index] == nil && duplicateOf[index] == nil {
            var hops = [all[index]]
            var members = [index]
            var cursor = index
            while let following = next[cursor] {
                hops.append(all[following])
                members.append(following)
                cursor = following
            }
            for (hop, member) in members.enumerated() { journeyOf[member] = (journeys.count, hop) }
            journeys.append(Journey(hops: hops))
        }
        for index in all.indices {
            guard let original = duplicateOf[index], let place = journeyOf[original] else { continue }
            journeys[place.journey].duplicates[place.hop + 1, default: []].append(all[index])
        }

        let findings = self.findings(journeys, inputs: inputs, mirrors: mirrors)
        return TraceReport(
            inputs: inputs.map(\.name), journeys: journeys, clockOffsets: offsets, findings: findings,
            stages: Self.stages(journeys), accounts: Self.accounts(journeys), mirrors: mirrors)
    }

    /// The time from one to the other, in nanoseconds (as a Double: times at the ends of the range do not overflow).
    static func nanoseconds(from start: Timestamp, to end: Timestamp) -> Double {
        Double(end.nanoseconds) - Double(start.nanoseconds)
    }

    /// The clock of `input` against `reference`'s from the PDUs both hold, when they share most of them.
    static func clock(of input: Input, index: Int, against reference: Input, _ referenceIndex: Int) -> ClockOffset? {
        var points: [(x: Double, d: Double)] = []
        let base = input.first?.nanoseconds ?? 0
        for (hash, time) in input.fingerprints {
            guard let other = reference.fingerprints[hash] else { continue }
            points.append(((Double(time) - Double(base)) / 1e9, (Double(other) - Double(time)) / 1e9))
        }
        let smaller = min(input.fingerprints.count, reference.fingerprints.count)
        guard points.count >= 3, points.count * 2 >= smaller else { return nil }
        let n = Double(points.count)
        let meanX = points.reduce(0) { $0 + $1.x } / n
        let meanD = points.reduce(0) { $0 + $1.d } / n
        let sxx = points.reduce(0) { $0 + ($1.x - meanX) * ($1.x - meanX) }
        let sxd = points.reduce(0) { $0 + ($1.x - meanX) * ($1.d - meanD) }
        let slope = sxx > 0 ? sxd / sxx : 0
        let residual = points.map { abs($0.d - (meanD + slope * ($0.x - meanX))) }.max() ?? 0
        let sortedD = points.map(\.d).sorted()
        return ClockOffset(
            input: index, reference: referenceIndex, offset: sortedD[sortedD.count / 2], driftPPM: slope * 1e6,
            matches: points.count, residual: residual)
    }

    func findings(_ journeys: [Journey], inputs: [Input], mirrors: [Int: Int]) -> [TraceFinding] {
        var found: [TraceFinding.Code: (count: Int, journeys: [Int], example: String)] = [:]
        func note(_ code: TraceFinding.Code, _ journey: Int, _ example: @autoclosure () -> String) {
            var entry = found[code] ?? (0, [], example())
            entry.count += 1
            if entry.journeys.count < 10 { entry.journeys.append(journey) }
            found[code] = entry
        }
        // The SMSC addresses that are a first hop of some journey with a next hop: where a message may get lost.
        var forwarded: Set<String> = []
        for journey in journeys where journey.hops.count > 1 {
            for hop in journey.hops.dropLast() { forwarded.insert(hop.smsc) }
        }
        let lateNs = lateReceipt * 1e9
        for (number, journey) in journeys.enumerated() {
            for (position, hop) in journey.hops.enumerated() {
                if let receipt = hop.parts.compactMap(\.receipt).first, receipt.session != hop.session {
                    note(
                        .receiptOnOtherBind, number,
                        "the receipt for \(hop.destination) came on session \(receipt.session), the submit on \(hop.session)"
                    )
                }
                guard position + 1 < journey.hops.count else {
                    if forwarded.contains(hop.smsc), hop.accepted,
                        inputs.contains(where: { ($0.last ?? hop.time) > hop.time })
                    {
                        note(
                            .messageLostBetweenHops, number,
                            "\(hop.destination) accepted at \(hop.smsc) and not sent on")
                    }
                    continue
                }
                let after = journey.hops[position + 1]
                if hop.parts.count != after.parts.count {
                    note(
                        .partsRegrouped, number,
                        "\(hop.destination): \(hop.parts.count) parts at \(hop.smsc), \(after.parts.count) at \(after.smsc)"
                    )
                }
                if hop.parts.allSatisfy({ $0.statusValue != nil }), after.parts.allSatisfy({ $0.statusValue != nil }),
                    hop.accepted != after.accepted
                {
                    note(
                        .statusChangedBetweenHops, number,
                        "\(hop.destination): \(hop.parts.first?.status ?? "") at \(hop.smsc), "
                            + "\(after.parts.first { $0.statusValue != 0 }?.status ?? after.parts.first?.status ?? "") at \(after.smsc)"
                    )
                }
                if let upstream = after.firstReceipt {
                    if let downstream = hop.firstReceipt {
                        if Self.nanoseconds(from: upstream, to: downstream) > lateNs {
                            note(
                                .receiptForwardedLate, number,
                                "\(hop.destination): the receipt came to \(hop.esme) "
                                    + "\\(Self.nanoseconds(from: upstream, to: downstream) / 1e9) s after \(after.smsc) sent it"
                            )
                        }
                    } else if hop.parts.contains(where: \.registeredDelivery),
                        inputs[hop.input].last.map({ Self.nanoseconds(from: upstream, to: $0) > lateNs }) ?? false
                    {
                        note(
                            .receiptNotForwarded, number,
                            "\(hop.destination): \(after.smsc) sent a receipt, \(hop.esme) got none")
                    }
                }
            }
            for (hop, copies) in journey.duplicates.sorted(by: { $0.key < $1.key }) {
                note(
                    .messageDuplicatedBetweenHops, number,
                    "\(journey.hops[0].destination) sent \(copies.count + 1) times to \(copies[0].smsc) (hop \(hop + 1))"
                )
            }
        }
        let severities: [TraceFinding.Code: TraceFinding.Severity] = [
            .receiptNotForwarded: .error, .messageLostBetweenHops: .error, .messageDuplicatedBetweenHops: .warning,
            .receiptForwardedLate: .warning, .receiptOnOtherBind: .info, .partsRegrouped: .info,
            .statusChangedBetweenHops: .warning,
        ]
        return TraceFinding.Code.allCases.compactMap { code in
            guard let entry = found[code] else { return nil }
            return TraceFinding(
                code: code, severity: severities[code] ?? .info,
                message:
                    "\(entry.count) message\(entry.count == 1 ? "" : "s"): \(entry.example)\(entry.count > 1 ? ", ..." : "")",
                count: entry.count, journeys: entry.journeys)
        }
    }

    static func stages(_ journeys: [Journey]) -> [(name: String, summary: LatencySummary)] {
        var values: [String: [Double]] = [:]
        var order: [String] = []
        func add(_ name: String, _ from: Timestamp?, _ to: Timestamp?) {
            guard let from, let to else { return }
            if values[name] == nil { order.append(name) }
            values[name, default: []].append(nanoseconds(from: from, to: to) / 1e6)
        }
        for journey in journeys {
            for (position, hop) in journey.hops.enumerated() {
                let label = "hop\(position + 1)"
                for part in hop.parts { add("\(label).submit_response", part.time, part.response) }
                add("\(label).receipt", hop.time, hop.firstReceipt)
                if position + 1 < journey.hops.count {
                    let after = journey.hops[position + 1]
                    add("\(label)_to_hop\(position + 2).forward", hop.time, after.time)
                    add("hop\(position + 2)_to_\(label).receipt_forward", after.firstReceipt, hop.firstReceipt)
                }
            }
        }
        return order.sorted().compactMap { name in LatencySummary(values[name] ?? []).map { (name, $0) } }
    }

    static func accounts(_ journeys: [Journey]) -> [(systemID: String, messages: Int, endToEnd: LatencySummary?)] {
        var byAccount: [String: (count: Int, values: [Double])] = [:]
        for journey in journeys {
            guard let first = journey.hops.first else { continue }
            var entry = byAccount[first.systemID ?? "", default: (0, [])]
            entry.count += 1
            if let receipt = first.firstReceipt {
                entry.values.append(nanoseconds(from: first.time, to: receipt) / 1e6)
            }
            byAccount[first.systemID ?? ""] = entry
        }
        return byAccount.keys.sorted().map {
            ($0, byAccount[$0]?.count ?? 0, LatencySummary(byAccount[$0]?.values ?? []))
        }
    }
}
