// What the texts' encodings show, per peer and direction: what data_coding 0 carries (scored on every message),
// UCS-2 under data_coding 0, user data headers without UDHI, GSM escapes cut between parts, UCS-2 that GSM 03.38
// would have carried in fewer segments.

@_spi(Lent) import Reassembly
@_spi(Lent) import SMPP

/// What one message's octets show of its encoding, in 16 bits (carried in the prepared facts word).
struct EncodingFacts: Hashable {
    /// Bits 0-3: the default alphabets that read the text cleanly (``DefaultAlphabet/bit``), for data_coding 0;
    /// 4: scored (data_coding 0, some text); 5: UCS-2 under data_coding 0; 6: a user data header without UDHI;
    /// 7: a part ending in a GSM escape; 8: UCS-2 that GSM 03.38 can carry; 9-15: the septets it needs, halved.
    var bits: UInt16 = 0

    init(bits: UInt16 = 0) { self.bits = bits }

    var clean: UInt8 { UInt8(bits & 0xF) }
    var scored: Bool { bits & 0x10 != 0 }
    var ucs2UnderDefault: Bool { bits & 0x20 != 0 }
    var headerWithoutUDHI: Bool { bits & 0x40 != 0 }
    var escapeSplit: Bool { bits & 0x80 != 0 }
    var fitsGSM: Bool { bits & 0x100 != 0 }
    /// The septets GSM 03.38 needs for a UCS-2 text that fits (at most 254).
    var septets: Int { Int(bits >> 9) * 2 }

    /// - Parameters:
    ///   - message: the short message (or message_payload) octets; `text` the same after a user data header.
    init(
        message: UnsafeRawBufferPointer, text: UnsafeRawBufferPointer, dataCoding: UInt8, hasUDH: Bool,
        concatenated: Bool
    ) {
        let charset = DataCoding(dataCoding).charset()
        if dataCoding == 0, !text.isEmpty {
            bits |= 0x10 | UInt16(DefaultAlphabetScore.clean(text))
            if Self.looksLikeUCS2(text) { bits |= 0x20 }
        }
        if !hasUDH, Self.startsWithConcatenationHeader(message) { bits |= 0x40 }
        if concatenated, charset == .gsm7, let last = text.last, last == 0x1B {
            // An odd run of escapes at the end: the last one's character is in the next part.
            var run = 0
            var index = text.count - 1
            while index >= 0, text[index] == 0x1B {
                run += 1
                index -= 1
            }
            if run % 2 == 1 { bits |= 0x80 }
        }
        if charset == .ucs2, text.count >= 2, let septets = Self.gsmSeptets(ofUCS2: text) {
            bits |= 0x100 | UInt16(min(127, (septets + 1) / 2)) << 9
        }
    }

    /// UCS-2 octets sent as data_coding 0: an even length of 4 or more, and the high octet of at least 80% of the
    /// units 0x00 (Latin) or 0x04 (Cyrillic) with a low octet that is not zero.
    static func looksLikeUCS2(_ text: UnsafeRawBufferPointer) -> Bool {
        guard text.count >= 4, text.count % 2 == 0, text[0] == 0x00 || text[0] == 0x04 else { return false }
        var units = 0
        var index = 0
        while index < text.count {
            if text[index] == 0x00 || text[index] == 0x04, text[index + 1] != 0 { units += 1 }
            index += 2
        }
        return units * 5 >= (text.count / 2) * 4
    }

    /// A concatenation user data header at the start (UDHL 5, IEI 0x00 length 3; or UDHL 6, IEI 0x08 length 4),
    /// its part number between 1 and its total.
    static func startsWithConcatenationHeader(_ octets: UnsafeRawBufferPointer) -> Bool {
        if octets.count > 6, octets[0] == 5, octets[1] == 0x00, octets[2] == 3 {
            return octets[4] > 1 && (1...octets[4]).contains(octets[5])
        }
        if octets.count > 7, octets[0] == 6, octets[1] == 0x08, octets[2] == 4 {
            return octets[5] > 1 && (1...octets[5]).contains(octets[6])
        }
        return false
    }

    /// The septets GSM 03.38 needs for UCS-2 octets (extension characters take two), or nil when a character is
    /// not in it.
    static func gsmSeptets(ofUCS2 text: UnsafeRawBufferPointer) -> Int? {
        var septets = 0
        var index = 0
        while index + 1 < text.count {
            let unit = UInt16(text[index]) << 8 | UInt16(text[index + 1])
            index += 2
            guard let cost = GSM0338.septets(ofUnit: unit) else { return nil }
            septets += cost
        }
        return septets
    }
}

/// One peer's and direction's figures.
struct EncodingCounters {
    var messages = 0
    var scored = 0
    /// The scores of data_coding 0 messages.
    var alphabets = DefaultAlphabetInference()
    var ucs2UnderDefault = 0
    var headerWithoutUDHI = 0
    var escapeSplit = 0
    var costlier = 0
    /// UCS-2 segments sent less the GSM 03.38 segments they would have needed, summed (parts count fractions).
    var segmentsSaved = 0.0
    var evidence: [Finding.Code: [Finding.Evidence]] = [:]

    /// Counts one message (in place: the counters are not copied per message).
    mutating func add(
        _ facts: EncodingFacts, fromSMSC: Bool, concatenated: Bool, ucs2Octets: Int, isoDefault: Bool,
        evidence: @autoclosure () -> Finding.Evidence
    ) {
        messages += 1
        if facts.scored {
            scored += 1
            alphabets.add(clean: facts.clean, isoDefault: isoDefault)
        }
        guard facts.bits & 0x1E0 != 0 else { return }
        let example = evidence()
        func note(_ code: Finding.Code) {
            if self.evidence[code, default: []].count < Finding.evidenceLimit {
                self.evidence[code, default: []].append(example)
            }
        }
        if facts.ucs2UnderDefault {
            ucs2UnderDefault += 1
            note(.ucs2UnderDefault)
        }
        if facts.headerWithoutUDHI {
            headerWithoutUDHI += 1
            note(.udhWithoutUDHI)
        }
        if facts.escapeSplit {
            escapeSplit += 1
            note(.gsmEscapeSplit)
        }
        if facts.fitsGSM, !fromSMSC {
            costlier += 1
            note(.costlierEncoding)
            let septets = Double(facts.septets)
            if concatenated {
                // A part of up to 67 UCS-2 characters; in GSM 03.38 a part holds 153 septets.
                segmentsSaved += max(0, 1 - septets / 153)
            } else {
                let characters = ucs2Octets / 2
                let ucs2 = characters <= 70 ? 1 : (characters + 66) / 67
                let gsm = septets <= 160 ? 1 : (Int(septets) + 152) / 153
                segmentsSaved += Double(max(0, ucs2 - gsm))
            }
        }
    }
}

/// The encoding figures per peer (account) and direction, while the input is read.
struct EncodingTracker {
    /// By account index (``ReceiptTracker/accountIndex(_:)``) times 2, plus 1 for messages from the SMSC.
    private var groups: [EncodingCounters] = []
    /// What the SMSC reads data_coding 0 as, when told (``AnalysisConfiguration/defaultAlphabet``).
    var told: DefaultAlphabet?

    mutating func message(
        _ facts: EncodingFacts, account: UInt16, fromSMSC: Bool, concatenated: Bool, ucs2Octets: Int,
        isoDefault: Bool, evidence: @autoclosure () -> Finding.Evidence
    ) {
        let key = Int(account) * 2 + (fromSMSC ? 1 : 0)
        if key >= groups.count {
            var empty = EncodingCounters()
            empty.alphabets.told = told
            groups.grow(toInclude: key, with: empty)
        }
        groups[key].add(
            facts, fromSMSC: fromSMSC, concatenated: concatenated, ucs2Octets: ucs2Octets, isoDefault: isoDefault,
            evidence: evidence())
    }

    /// The figures, named by `account` (the account's system_id).
    func report(account: (UInt16) -> String) -> [EncodingReport] {
        groups.enumerated().filter { $0.element.messages > 0 }.map { key, counters in
            var report = EncodingReport(
                peer: account(UInt16(key / 2)), direction: key % 2 == 0 ? "submit" : "deliver")
            report.messages = counters.messages
            report.scored = counters.scored
            let alphabets = counters.alphabets
            for alphabet in DefaultAlphabet.allCases where alphabets.scored > 0 {
                report.cleanShares[alphabet] = alphabets.share(alphabet)
                report.cleanOnly[alphabet] = alphabets.cleanOnly(alphabet)
            }
            report.inferred = alphabets.inferred
            report.declared = alphabets.declared
            report.differing = alphabets.differing
            report.ucs2UnderDefault = counters.ucs2UnderDefault
            report.headerWithoutUDHI = counters.headerWithoutUDHI
            report.escapeSplit = counters.escapeSplit
            report.costlier = counters.costlier
            report.segmentsSaved = Int(counters.segmentsSaved.rounded(.down))
            report.evidence = counters.evidence
            return report
        }
    }
}

/// What one peer's messages in one direction show of their encodings.
public struct EncodingReport: Hashable, Sendable {
    /// The account (bind system_id) whose session carried them; "" before any bind.
    public var peer: String
    /// "submit" (from the ESME) or "deliver" (from the SMSC: mobile-originated messages, not receipts).
    public var direction: String
    public var messages = 0
    /// Messages with data_coding 0 and some text, scored.
    public var scored = 0
    /// Per default alphabet, the share of scored messages it reads cleanly (``DefaultAlphabetScore``).
    public var cleanShares: [DefaultAlphabet: Double] = [:]
    /// What data_coding 0 carries: the alphabet reading the most messages cleanly (the GSM 03.38 one-septet form,
    /// then ASCII, ISO-8859-1 and packed GSM first among equals), nil when none reads half of them or none was
    /// scored.
    public var inferred: DefaultAlphabet?
    /// What the SMSC reads data_coding 0 as: GSM 03.38, or ISO-8859-1 on sessions whose system_type says `ISO`.
    public var declared = DefaultAlphabet.gsm7
    /// Per alphabet, the scored messages it reads cleanly and the declared one does not.
    public var cleanOnly: [DefaultAlphabet: Int] = [:]
    /// The inferred alphabet when the messages show it is not the declared one
    /// (``DefaultAlphabetInference/differing``).
    public var differing: DefaultAlphabet?
    public var ucs2UnderDefault = 0
    public var headerWithoutUDHI = 0
    public var escapeSplit = 0
    /// UCS-2 messages GSM 03.38 could carry, and the segments that would have saved.
    public var costlier = 0
    public var segmentsSaved = 0
    public var evidence: [Finding.Code: [Finding.Evidence]] = [:]

    public init(peer: String, direction: String) {
        self.peer = peer
        self.direction = direction
    }
}

/// What data_coding 0 carries, from the scores of messages (``DefaultAlphabetScore``): the alphabet reading the most
/// of them cleanly, the GSM 03.38 one-septet form, then ASCII, ISO-8859-1 and packed GSM 03.38 first among equals;
/// none when no alphabet reads half of them.
public struct DefaultAlphabetInference: Sendable, Hashable {
    public private(set) var scored = 0
    /// Messages by the alphabets that read them cleanly (the four bits of ``DefaultAlphabetScore/clean(_:)``).
    private var patterns = [Int](repeating: 0, count: 16)
    /// Messages on sessions whose system_type says data_coding 0 is ISO-8859-1 (SMSC.kz `ISO`).
    private var isoDefault = 0
    /// What the SMSC reads data_coding 0 as, when told (`--dcs0`); else as the sessions' system_type says.
    public var told: DefaultAlphabet?

    public init(told: DefaultAlphabet? = nil) { self.told = told }

    /// One message's scores (``DefaultAlphabetScore/clean(_:)``).
    public mutating func add(clean bits: UInt8, isoDefault iso: Bool) {
        scored += 1
        if iso { isoDefault += 1 }
        patterns[Int(bits & 0xF)] += 1
    }

    /// One message's scores, from a submit_sm or deliver_sm with data_coding 0 whose short message is at
    /// `location`: its text (without the UDH, when esm_class says there is one) scored. False when it has no text.
    @_spi(Lent) public mutating func add(_ pdu: LentPDU, at location: ShortMessageLocation) -> Bool {
        let bytes = pdu.bytes
        var text = PDULayout.messageOctets(in: bytes, at: location).range
        if location.esmClass & 0x40 != 0, let first = text.first {
            text = min(text.upperBound, first + 1 + Int(bytes[first]))..<text.upperBound
        }
        guard !text.isEmpty else { return false }
        add(
            clean: DefaultAlphabetScore.clean(UnsafeRawBufferPointer(rebasing: bytes[text])), isoDefault: pdu.isoDefault
        )
        return true
    }

    /// Messages that `alphabet` reads cleanly and `other` (when given) does not.
    private func count(_ alphabet: DefaultAlphabet, not other: DefaultAlphabet? = nil) -> Int {
        var total = 0
        for (pattern, count) in patterns.enumerated()
        where UInt8(pattern) & alphabet.bit != 0 && other.map { UInt8(pattern) & $0.bit == 0 } ?? true {
            total += count
        }
        return total
    }

    /// The share of messages an alphabet reads cleanly.
    public func share(_ alphabet: DefaultAlphabet) -> Double {
        scored == 0 ? 0 : Double(count(alphabet)) / Double(scored)
    }

    /// What the SMSC reads data_coding 0 as: as told, else ISO-8859-1 when most messages came on sessions whose
    /// system_type says `ISO`, else GSM 03.38.
    public var declared: DefaultAlphabet { told ?? (isoDefault * 2 > scored ? .latin1 : .gsm7) }

    /// Messages an alphabet reads cleanly and the declared one does not.
    public func cleanOnly(_ alphabet: DefaultAlphabet) -> Int {
        count(alphabet, not: declared)
    }

    public var inferred: DefaultAlphabet? {
        guard scored > 0, let best = DefaultAlphabet.allCases.map(share).max(), best >= 0.5 else { return nil }
        return DefaultAlphabet.allCases.first { share($0) >= best - 1e-9 }
    }

    /// The inferred alphabet when it is not the declared one and the messages show it: it reads more of them
    /// cleanly, and at least 3 that the declared one does not.
    public var differing: DefaultAlphabet? {
        guard let inferred, inferred != declared, share(inferred) > share(declared), cleanOnly(inferred) >= 3
        else { return nil }
        return inferred
    }
}
