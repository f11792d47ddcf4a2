// Rewrites one SMPP PDU: addresses, logins and texts replaced by pseudonyms and filler of the same shape, passwords
// blanked, TLVs that may carry personal data pseudonymized, unknown TLVs kept or dropped. Everything else (ids,
// statuses, sequence numbers, data_coding, UDH, SAR TLVs, receipt ids, states, dates and errors) stays, so the
// result decodes, links and times as the original did.

import NIOCore
@_spi(Lent) import SMPP

/// What anonymize changes and keeps.
public struct AnonymizeOptions: Sendable {
    public enum UnknownTLVs: String, Sendable, CaseIterable {
        /// Kept as they are (a vendor TLV may carry an address).
        case keep
        /// Removed (the PDU's command_length and the TCP stream shrink accordingly).
        case drop
    }

    /// Leading digits of numeric addresses kept (country and network), 0 to 15.
    public var keptDigits: Int
    /// Texts kept as they are.
    public var keepText: Bool
    /// SMSC.kz's markers (`__MMS__:`, `\nsubj:`, the `\n~~~\n` comment separator) kept in filled texts.
    public var keepMarkers: Bool
    /// SMSC.kz comments (after `\n~~~\n`) kept as they are.
    public var keepComments: Bool
    public var unknownTLVs: UnknownTLVs

    public init(
        keptDigits: Int = 4, keepText: Bool = false, keepMarkers: Bool = true, keepComments: Bool = false,
        unknownTLVs: UnknownTLVs = .drop
    ) {
        self.keptDigits = keptDigits
        self.keepText = keepText
        self.keepMarkers = keepMarkers
        self.keepComments = keepComments
        self.unknownTLVs = unknownTLVs
    }
}

/// How many fields of each kind were changed.
public struct AnonymizeCounts: Hashable, Sendable {
    public var pdus = 0
    public var addresses = 0
    public var systemIDs = 0
    public var passwords = 0
    public var texts = 0
    public var receiptTexts = 0
    public var tlvsPseudonymized = 0
    public var unknownTLVsDropped = 0
    public var unknownTLVsKept = 0
    /// PDUs whose body did not decode (or whose command is unknown): the body is zeroed, the header kept.
    public var bodiesScrubbed = 0

    public init() {}

    /// The counts by name, for reports.
    public var named: [(String, Int)] {
        [
            ("pdus", pdus), ("addresses", addresses), ("system_ids", systemIDs), ("passwords", passwords),
            ("texts", texts), ("receipt_texts", receiptTexts), ("tlvs_pseudonymized", tlvsPseudonymized),
            ("unknown_tlvs_dropped", unknownTLVsDropped), ("unknown_tlvs_kept", unknownTLVsKept),
            ("bodies_scrubbed", bodiesScrubbed),
        ]
    }
}

/// Receives what the input held that must not be in the output (addresses, logins, passwords, texts), for
/// `--check`.
public protocol SecretSink: AnyObject {
    func add(_ secret: UnsafeRawBufferPointer, wide: Bool)
}

/// Rewrites PDUs, one at a time.
public struct PDUAnonymizer {
    public let options: AnonymizeOptions
    var addresses: AddressPseudonyms
    let filler: TextFiller
    public private(set) var counts = AnonymizeCounts()
    /// Where the originals of what is replaced go, when a check will follow.
    public var secrets: (any SecretSink)?

    /// Pseudonym namespaces.
    static let addressKind: UInt8 = 0
    static let loginKind: UInt8 = 1

    public init(key: AnonymizationKey, options: AnonymizeOptions) {
        self.options = options
        addresses = AddressPseudonyms(key: key, keptDigits: options.keptDigits)
        filler = TextFiller(key: key)
    }

    /// The pseudonym of an address or a login, as `anonymize` writes it (for tests and reports).
    public mutating func pseudonym(ofAddress value: String) -> String {
        let bytes = Array(value.utf8)
        return String(decoding: bytes.withUnsafeBytes { addresses.pseudonym(of: $0) }, as: UTF8.self)
    }

    /// Slots of the mandatory part.
    enum Slot {
        case u8
        case u32
        case keep
        case address
        case systemID
        case password
        case esmClass
        case dataCoding
        case shortMessage
        case destinations
        case unsuccessful
    }

    static let shortMessageSlots: [Slot] = [
        .keep, .u8, .u8, .address, .u8, .u8, .address, .esmClass, .u8, .u8, .keep, .keep, .u8, .u8, .dataCoding, .u8,
        .shortMessage,
    ]

    static let bindSlots: [Slot] = [.systemID, .password, .keep, .u8, .u8, .u8, .address]
    static let systemIDSlots: [Slot] = [.systemID]
    static let outbindSlots: [Slot] = [.systemID, .password]
    static let messageIDSlots: [Slot] = [.keep]
    static let submitMultiSlots: [Slot] = [
        .keep, .u8, .u8, .address, .destinations, .esmClass, .u8, .u8, .keep, .keep, .u8, .u8, .dataCoding, .u8,
        .shortMessage,
    ]
    static let submitMultiRespSlots: [Slot] = [.keep, .unsuccessful]
    static let dataSMSlots: [Slot] = [.keep, .u8, .u8, .address, .u8, .u8, .address, .esmClass, .u8, .dataCoding]
    static let querySlots: [Slot] = [.keep, .u8, .u8, .address]
    static let querySMRespSlots: [Slot] = [.keep, .keep, .u8, .u8]
    static let cancelSMSlots: [Slot] = [.keep, .keep, .u8, .u8, .address, .u8, .u8, .address]
    static let replaceSMSlots: [Slot] = [.keep, .u8, .u8, .address, .keep, .keep, .u8, .u8, .shortMessage]
    static let alertNotificationSlots: [Slot] = [.u8, .u8, .address, .u8, .u8, .address]
    static let broadcastSMSlots: [Slot] = [.keep, .u8, .u8, .address, .keep, .u8, .keep, .keep, .u8, .dataCoding, .u8]
    static let cancelBroadcastSMSlots: [Slot] = [.keep, .keep, .u8, .u8, .address]

    /// The mandatory fields of an operation; nil for header-only operations and unknown ids.
    static func slots(of id: CommandID) -> [Slot]? {
        switch id {
        case .bindTransmitter, .bindReceiver, .bindTransceiver: return bindSlots
        case .bindTransmitterResp, .bindReceiverResp, .bindTransceiverResp: return systemIDSlots
        case .outbind: return outbindSlots
        case .submitSM, .deliverSM: return shortMessageSlots
        case .submitSMResp, .deliverSMResp, .dataSMResp, .broadcastSMResp, .queryBroadcastSMResp: return messageIDSlots
        case .submitMulti: return submitMultiSlots
        case .submitMultiResp: return submitMultiRespSlots
        case .dataSM: return dataSMSlots
        case .querySM, .queryBroadcastSM: return querySlots
        case .querySMResp: return querySMRespSlots
        case .cancelSM: return cancelSMSlots
        case .replaceSM: return replaceSMSlots
        case .alertNotification: return alertNotificationSlots
        case .broadcastSM: return broadcastSMSlots
        case .cancelBroadcastSM: return cancelBroadcastSMSlots
        default: return nil
        }
    }

    /// Appends the anonymized form of `pdu` (a whole PDU: its command_length is its size) to `out`. The result is
    /// as long as the PDU or shorter (a blanked password, dropped TLVs), its command_length set to its size.
    /// The PDU rewritten (``anonymize(_:into:)``), as a buffer.
    public mutating func anonymized(_ pdu: ByteBuffer) -> ByteBuffer {
        var out: [UInt8] = []
        pdu.withUnsafeReadableBytes { anonymize($0, into: &out) }
        return ByteBuffer(bytes: out)
    }

    @_spi(Lent) public mutating func anonymize(_ pdu: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        let start = out.count
        counts.pdus += 1
        guard let header = PDUHeader.peek(in: pdu), Int(header.commandLength) == pdu.count else {
            // Not a PDU: nothing of it is kept.
            out.append(contentsOf: repeatElement(0, count: pdu.count))
            counts.bodiesScrubbed += 1
            return
        }
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: pdu[0..<PDUHeader.size]))
        if pdu.count > PDUHeader.size {
            if !rewriteBody(pdu, header.commandID, into: &out) {
                out.removeSubrange((start + PDUHeader.size)...)
                out.append(contentsOf: repeatElement(0, count: pdu.count - PDUHeader.size))
                counts.bodiesScrubbed += 1
            }
        }
        let length = UInt32(out.count - start)
        out[start] = UInt8(truncatingIfNeeded: length >> 24)
        out[start + 1] = UInt8(truncatingIfNeeded: length >> 16)
        out[start + 2] = UInt8(truncatingIfNeeded: length >> 8)
        out[start + 3] = UInt8(truncatingIfNeeded: length)
    }

    /// The body, field by field; false when it does not decode (the caller zeroes it).
    private mutating func rewriteBody(_ pdu: UnsafeRawBufferPointer, _ id: CommandID, into out: inout [UInt8]) -> Bool {
        guard let slots = Self.slots(of: id) else {
            // A header-only command with a body, or an unknown command: nothing says what the bytes are.
            return false
        }
        var offset = PDUHeader.size
        let end = pdu.count
        var esmClass: UInt8 = 0
        var dataCoding: UInt8 = 0
        var messageText: Range<Int>?

        func cString() -> Range<Int>? {
            var index = offset
            while index < end {
                if pdu[index] == 0 { return offset..<index }
                index += 1
            }
            return nil
        }
        for slot in slots {
            // A response may stop after its message_id (error responses often have no body at all).
            if offset == end, id.isResponse { break }
            switch slot {
            case .u8, .esmClass, .dataCoding:
                guard offset < end else { return false }
                if slot == .esmClass { esmClass = pdu[offset] }
                if slot == .dataCoding { dataCoding = pdu[offset] }
                out.append(pdu[offset])
                offset += 1
            case .u32:
                guard offset + 4 <= end else { return false }
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: pdu[offset..<offset + 4]))
                offset += 4
            case .keep:
                guard let field = cString() else { return false }
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: pdu[field.lowerBound...field.upperBound]))
                offset = field.upperBound + 1
            case .address, .systemID:
                guard let field = cString() else { return false }
                appendPseudonym(pdu, field, kind: slot == .address ? Self.addressKind : Self.loginKind, into: &out)
                if slot == .systemID { counts.systemIDs += 1 }
                offset = field.upperBound + 1
            case .password:
                guard let field = cString() else { return false }
                if !field.isEmpty {
                    counts.passwords += 1
                    secrets?.add(UnsafeRawBufferPointer(rebasing: pdu[field]), wide: false)
                }
                out.append(0)
                offset = field.upperBound + 1
            case .shortMessage:
                guard offset < end else { return false }
                let length = Int(pdu[offset])
                guard offset + 1 + length <= end else { return false }
                out.append(pdu[offset])
                messageText = (offset + 1)..<(offset + 1 + length)
                let place = out.count
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: pdu[offset + 1..<offset + 1 + length]))
                offset += 1 + length
                if length > 0 {
                    fillMessage(
                        &out, place..<(place + length), original: pdu, originalStart: messageText!.lowerBound,
                        id: id, esmClass: esmClass, dataCoding: dataCoding)
                }
            case .destinations:
                guard offset < end else { return false }
                let count = Int(pdu[offset])
                out.append(pdu[offset])
                offset += 1
                for _ in 0..<count {
                    guard offset < end else { return false }
                    let flag = pdu[offset]
                    out.append(flag)
                    offset += 1
                    if flag == 1 {
                        guard offset + 2 <= end else { return false }
                        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: pdu[offset..<offset + 2]))
                        offset += 2
                    } else if flag != 2 {
                        return false
                    }
                    guard let field = cString() else { return false }
                    appendPseudonym(pdu, field, kind: flag == 1 ? Self.addressKind : Self.loginKind, into: &out)
                    offset = field.upperBound + 1
                }
            case .unsuccessful:
                guard offset < end else { return false }
                let count = Int(pdu[offset])
                out.append(pdu[offset])
                offset += 1
                for _ in 0..<count {
                    guard offset + 2 <= end else { return false }
                    out.append(contentsOf: UnsafeRawBufferPointer(rebasing: pdu[offset..<offset + 2]))
                    offset += 2
                    guard let field = cString(), field.upperBound + 5 <= end else { return false }
                    appendPseudonym(pdu, field, kind: Self.addressKind, into: &out)
                    offset = field.upperBound + 1
                    out.append(contentsOf: UnsafeRawBufferPointer(rebasing: pdu[offset..<offset + 4]))
                    offset += 4
                }
            }
        }
        if offset == end { return true }
        if id.hasNoOptionalPart { return false }
        return rewriteTLVs(pdu, from: offset, id: id, esmClass: esmClass, dataCoding: dataCoding, into: &out)
    }

    private mutating func appendPseudonym(
        _ pdu: UnsafeRawBufferPointer, _ field: Range<Int>, kind: UInt8, into out: inout [UInt8]
    ) {
        let original = UnsafeRawBufferPointer(rebasing: pdu[field])
        let start = out.count
        addresses.appendPseudonym(of: original, kind: kind, to: &out)
        if kind == Self.addressKind, !field.isEmpty { counts.addresses += 1 }
        if let secrets, !out[start...].elementsEqual(original) { secrets.add(original, wide: false) }
        out.append(0)
    }

    private mutating func rewriteTLVs(
        _ pdu: UnsafeRawBufferPointer, from start: Int, id: CommandID, esmClass: UInt8, dataCoding: UInt8,
        into out: inout [UInt8]
    ) -> Bool {
        var offset = start
        let end = pdu.count
        while offset < end {
            guard offset + 4 <= end else { return false }
            let tag = TLVTag(UInt16(pdu[offset]) << 8 | UInt16(pdu[offset + 1]))
            let length = Int(pdu[offset + 2]) << 8 | Int(pdu[offset + 3])
            let value = (offset + 4)..<(offset + 4 + length)
            guard value.upperBound <= end else { return false }
            defer { offset = value.upperBound }
            if !tag.isKnown, options.unknownTLVs == .drop {
                counts.unknownTLVsDropped += 1
                continue
            }
            if !tag.isKnown { counts.unknownTLVsKept += 1 }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: pdu[offset..<value.lowerBound]))
            let place = out.count
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: pdu[value]))
            guard !value.isEmpty else { continue }
            switch tag.rawValue {
            case 0x0424:  // message_payload
                fillMessage(
                    &out, place..<out.count, original: pdu, originalStart: value.lowerBound, id: id, esmClass: esmClass,
                    dataCoding: dataCoding)
            case 0x0381:  // callback_num: digit mode, TON, NPI, then the number
                guard length > 3 else { continue }
                replace(&out, from: place + 3, with: pseudonymOf(pdu, (value.lowerBound + 3)..<value.upperBound))
                counts.tlvsPseudonymized += 1
            case 0x0202, 0x0203, 0x060B:  // subaddresses (a type octet first), billing_identification (a format)
                guard length > 1 else { continue }
                let rest = UnsafeRawBufferPointer(rebasing: pdu[(value.lowerBound + 1)..<value.upperBound])
                secrets?.add(rest, wide: false)
                replace(
                    &out, from: place + 1, with: addresses.octets(rest, kind: UInt8(truncatingIfNeeded: tag.rawValue)))
                counts.tlvsPseudonymized += 1
            case 0x0612:  // dest_addr_np_information
                let all = UnsafeRawBufferPointer(rebasing: pdu[value])
                replace(&out, from: place, with: addresses.octets(all, kind: 0x12))
                counts.tlvsPseudonymized += 1
            case 0x0303:  // callback_num_atag: a data coding, then the display text
                guard length > 1, !options.keepText else { continue }
                fillText(&out, (place + 1)..<out.count, dataCoding: pdu[value.lowerBound], kept: [])
                counts.tlvsPseudonymized += 1
            case 0x001D:  // additional_status_info_text
                guard !options.keepText else { continue }
                let textEnd = pdu[value.upperBound - 1] == 0 ? out.count - 1 : out.count
                fillText(&out, place..<textEnd, dataCoding: 1, kept: [])
                counts.tlvsPseudonymized += 1
            default:
                continue
            }
        }
        return true
    }

    private mutating func pseudonymOf(_ pdu: UnsafeRawBufferPointer, _ range: Range<Int>) -> [UInt8] {
        let original = UnsafeRawBufferPointer(rebasing: pdu[range])
        let replaced = addresses.pseudonym(of: original, kind: Self.addressKind)
        if !replaced.elementsEqual(original) { secrets?.add(original, wide: false) }
        return replaced
    }

    private func replace(_ out: inout [UInt8], from start: Int, with bytes: [UInt8]) {
        for (n, byte) in bytes.enumerated() where start + n < out.count { out[start + n] = byte }
    }

    /// Is the data coding's text one unit per byte, two, or octets?
    enum Units {
        case bytes
        case wide
        case binary
    }

    static func units(of dataCoding: UInt8) -> Units {
        let charset = DataCoding(dataCoding).charset()
        switch charset {
        case .ucs2: return .wide
        case .gsm7, .ascii, .latin1, .cyrillic, .hebrew: return .bytes
        default: return .binary
        }
    }

    /// A short_message or message_payload, copied to `out[range]`: its UDH kept, a receipt's text rebuilt, any
    /// other text filled.
    private mutating func fillMessage(
        _ out: inout [UInt8], _ range: Range<Int>, original: UnsafeRawBufferPointer, originalStart: Int, id: CommandID,
        esmClass: UInt8, dataCoding: UInt8
    ) {
        var textStart = range.lowerBound
        if esmClass & 0x40 != 0 {
            let headerLength = Int(out[range.lowerBound]) + 1
            textStart = min(range.upperBound, range.lowerBound + headerLength)
        }
        let text = textStart..<range.upperBound
        guard !text.isEmpty else { return }
        let units = Self.units(of: dataCoding)
        let isReceiptKind = id == .deliverSM || id == .dataSM
        let receiptFlag = esmClass & 0x3C
        let looksLikeReceipt =
            isReceiptKind && units == .bytes
            && (receiptFlag == 0x04 || receiptFlag == 0x08 || receiptFlag == 0x10 || receiptFlag == 0x20
                || Self.startsWith(out, text, "id:"))
        if looksLikeReceipt {
            rebuildReceipt(&out, text)
            return
        }
        guard !options.keepText else { return }
        let kept = keptRanges(out, text, units: units)
        if let secrets {
            // What is filled is secret; markers and kept comments are not.
            let shift = originalStart - range.lowerBound
            var from = text.lowerBound
            for piece in kept + [text.upperBound..<text.upperBound] {
                if piece.lowerBound > from {
                    secrets.add(
                        UnsafeRawBufferPointer(rebasing: original[(from + shift)..<(piece.lowerBound + shift)]),
                        wide: units == .wide)
                }
                from = max(from, piece.upperBound)
            }
        }
        fillText(&out, text, dataCoding: dataCoding, kept: kept)
        counts.texts += 1
    }

    private func fillText(_ out: inout [UInt8], _ range: Range<Int>, dataCoding: UInt8, kept: [Range<Int>]) {
        let units = Self.units(of: dataCoding)
        _ = out.withUnsafeMutableBytes { buffer in
            switch units {
            case .bytes: filler.fillBytes(buffer, range, state: filler.initialState, binary: false, kept: kept)
            case .wide: filler.fillWide(buffer, range, state: filler.initialState, kept: kept)
            case .binary: filler.fillBytes(buffer, range, state: filler.initialState, binary: true, kept: kept)
            }
        }
    }

    static func startsWith(_ bytes: [UInt8], _ range: Range<Int>, _ prefix: String) -> Bool {
        let pattern = Array(prefix.utf8)
        guard range.count >= pattern.count else { return false }
        for (n, byte) in pattern.enumerated() where bytes[range.lowerBound + n] | 0x20 != byte | 0x20 { return false }
        return true
    }

    /// The places of SMSC.kz's markers and comment within a text (byte offsets into `out`), to be kept.
    private func keptRanges(_ out: [UInt8], _ text: Range<Int>, units: Units) -> [Range<Int>] {
        guard options.keepMarkers || options.keepComments, units != .binary else { return [] }
        let width = units == .wide ? 2 : 1
        // Markers start with `_` or a line feed: a text without either (most) has none.
        var hasMarkerCharacter = false
        var scan = text.lowerBound
        while scan + width <= text.upperBound {
            let unit = width == 1 ? out[scan] : (out[scan] == 0 ? out[scan + 1] : 0)
            if unit == 0x0A || unit == 0x5F || (width == 1 && unit == 0x11) {
                hasMarkerCharacter = true
                break
            }
            scan += width
        }
        guard hasMarkerCharacter else { return [] }
        func spellings(_ string: String) -> [[UInt8]] {
            (width == 2 ? Self.wideSpellings : Self.byteSpellings)[string] ?? []
        }
        func find(_ string: String, from: Int) -> Range<Int>? {
            var best: Range<Int>?
            for pattern in spellings(string) {
                guard !pattern.isEmpty, text.upperBound - from >= pattern.count else { continue }
                var index = from
                while index + pattern.count <= text.upperBound {
                    if out[index] == pattern[0], out[index..<(index + pattern.count)].elementsEqual(pattern) {
                        if best == nil || index < best!.lowerBound { best = index..<(index + pattern.count) }
                        break
                    }
                    index += width
                }
            }
            return best
        }
        var kept: [Range<Int>] = []
        let comment = find("\n~~~\n", from: text.lowerBound)
        if options.keepMarkers {
            // A leading __NAME__ marker, and its colon.
            if let open = find("__", from: text.lowerBound), open.lowerBound == text.lowerBound,
                let close = find("__", from: open.upperBound)
            {
                var markerEnd = close.upperBound
                if let colon = find(":", from: markerEnd), colon.lowerBound == markerEnd {
                    markerEnd = colon.upperBound
                }
                kept.append(text.lowerBound..<markerEnd)
            }
            for keyword in ["\nsubj:", "\nvoice:", "\nbot:"] {
                if let at = find(keyword, from: text.lowerBound) { kept.append(at) }
            }
            if let comment { kept.append(comment) }
        }
        if options.keepComments, let comment {
            kept.append(comment.lowerBound..<text.upperBound)
        }
        return kept.sorted { $0.lowerBound < $1.lowerBound }
    }

    /// The SMSC.kz markers' spellings in one-byte encodings (ASCII / Latin-1, and GSM 03.38 where `_` is 0x11 and
    /// `~` an escape) and in UCS-2.
    static let markerStrings = ["\n~~~\n", "__", ":", "\nsubj:", "\nvoice:", "\nbot:"]
    static let byteSpellings: [String: [[UInt8]]] = Dictionary(
        uniqueKeysWithValues: markerStrings.map { string in
            let ascii = Array(string.utf8)
            guard let gsm = GSM0338.encode(string), gsm != ascii else { return (string, [ascii]) }
            return (string, [ascii, gsm])
        })
    static let wideSpellings: [String: [[UInt8]]] = Dictionary(
        uniqueKeysWithValues: markerStrings.map { ($0, [$0.utf8.flatMap { [0, $0] }]) })

    static func unitsEqual(_ bytes: [UInt8], at start: Int, _ pattern: [UInt8]) -> Bool {
        guard start + pattern.count <= bytes.count else { return false }
        return bytes[start..<(start + pattern.count)].elementsEqual(pattern)
    }

    /// A receipt's text (`id:… sub:… dlvrd:… submit date:… done date:… stat:… err:… text:…`): ids, counts, dates,
    /// states and errors kept; `text:` filled as the message's first characters were; any other value (an HLR
    /// answer's imsi, msc, operator names) pseudonymized as an address.
    private mutating func rebuildReceipt(_ out: inout [UInt8], _ range: Range<Int>) {
        counts.receiptTexts += 1
        var index = range.lowerBound
        var previousWord: Range<Int>?
        while index < range.upperBound {
            // A token: up to the next space.
            var tokenEnd = index
            while tokenEnd < range.upperBound, out[tokenEnd] != 0x20 { tokenEnd += 1 }
            var colon = index
            while colon < tokenEnd, out[colon] != 0x3A { colon += 1 }
            if colon < tokenEnd {
                let key = index..<colon
                let value = (colon + 1)..<tokenEnd
                let kind = Self.receiptKey(out, key, after: previousWord)
                previousWord = nil
                if kind == .text {
                    // The rest of the text, spaces included, is the message's beginning.
                    let rest = (colon + 1)..<range.upperBound
                    if !options.keepText, !rest.isEmpty {
                        _ = out.withUnsafeMutableBytes { buffer in
                            filler.fillBytes(buffer, rest, state: filler.initialState, binary: false)
                        }
                    }
                    return
                }
                if kind == .other, !value.isEmpty {
                    let replaced = out[value].withUnsafeBytes { addresses.pseudonym(of: $0, kind: Self.addressKind) }
                    replace(&out, from: value.lowerBound, with: replaced)
                }
            } else {
                previousWord = index..<tokenEnd
            }
            index = tokenEnd + 1
        }
    }

    enum ReceiptKey {
        /// id, sub, dlvrd, submit date, done date, stat, err, mcc, mnc: kept.
        case kept
        case text
        /// Anything else (an HLR answer's imsi, msc, operator names): pseudonymized.
        case other
    }

    static let keptReceiptKeys: [[UInt8]] = ["id", "sub", "dlvrd", "stat", "err", "mcc", "mnc"].map { Array($0.utf8) }
    static let dateWord = Array("date".utf8)
    static let submitWord = Array("submit".utf8)
    static let doneWord = Array("done".utf8)
    static let textWord = Array("text".utf8)

    /// What a receipt's `key:` is, read without regard to case; `date` counts with the word before it (`submit date`,
    /// `done date`).
    static func receiptKey(_ bytes: [UInt8], _ key: Range<Int>, after previous: Range<Int>?) -> ReceiptKey {
        func equals(_ range: Range<Int>, _ word: [UInt8]) -> Bool {
            guard range.count == word.count else { return false }
            for (n, byte) in word.enumerated() where bytes[range.lowerBound + n] | 0x20 != byte { return false }
            return true
        }
        if let previous, equals(key, dateWord) {
            return equals(previous, submitWord) || equals(previous, doneWord) ? .kept : .other
        }
        if equals(key, textWord) { return .text }
        return keptReceiptKeys.contains { equals(key, $0) } ? .kept : .other
    }
}
