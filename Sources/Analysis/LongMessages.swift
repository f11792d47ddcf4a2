// Long messages put together from their accepted parts, per account, destination and reference: parts missing,
// accepted twice, two messages under one reference, one message told in two ways or over two binds.

/// How a part says it belongs to a long message. A closed set.
enum ConcatenationKind: UInt8 {
    /// A user data header with an 8-bit reference (IEI 0x00).
    case udh8 = 1
    /// A user data header with a 16-bit reference (IEI 0x08).
    case udh16 = 2
    /// The sar_msg_ref_num, sar_total_segments and sar_segment_seqnum TLVs.
    case sar = 3

    var name: String {
        switch self {
        case .udh8: "UDH 8-bit reference"
        case .udh16: "UDH 16-bit reference"
        case .sar: "SAR TLVs"
        }
    }
}

/// A part of a long message as its submit_sm says.
struct ConcatenatedPart {
    var reference: UInt16
    var total: UInt8
    var sequence: UInt8
    var kind: ConcatenationKind
}

/// The long messages of the input, followed part by part as the SMSC accepts them.
struct LongMessageTracker {
    struct Message {
        /// Per part (sequence 1...total at 0..<total), the content key of the accepted part; 0 while not accepted.
        var parts: [UInt64]
        var kinds: UInt8 = 0
        var firstSession: Int
        var otherSession = false
        var lastTime: Int64
        var first: Finding.Evidence
        var counted = false
        /// Its receipt roll-up in the receipt tracker (from 1); 0 for none yet.
        var rollup: UInt32 = 0
        /// Its key in `index`, and whether its slot holds it (slots of closed messages are used again).
        var identity: UInt64
        var live = true

        /// Every part accepted, all over one bind: nothing to report of it but that it was whole.
        var isPlain: Bool { !otherSession && !parts.contains(0) }
    }

    /// Messages whose last part came less than this long ago may still get their missing parts (capture time).
    static let openNanoseconds: Int64 = 600 * 1_000_000_000
    /// At most this many messages are followed at once; past it the oldest are closed early.
    static let maximumOpen = 200_000

    /// Messages being followed: their slots in `messages` (from 1) by identity (account, destination, reference
    /// and number of parts mixed into one key), free slots for new ones.
    private var index = IntegerTable<UInt32>(placeholder: 0)
    private var messages: [Message] = []
    private var free: [Int] = []
    private var operations = 0
    private(set) var report = LongMessageReport()

    /// A part the SMSC accepted. Returns the index of its message's receipt roll-up (0 for none), made with
    /// `makeRollup` the first time a part of the message asks for a receipt.
    mutating func accepted(
        _ part: ConcatenatedPart, account: UInt64, destination: UInt32, content: UInt64, session: Int,
        submit: Finding.Evidence, at time: Int64, wantsReceipt: Bool, makeRollup: () -> UInt32
    ) -> UInt32 {
        guard part.total > 1, part.sequence >= 1, part.sequence <= part.total else {
            report.malformed += 1
            return 0
        }
        let identity =
            (account &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(destination) &* 0xC2B2_AE3D_27D4_EB4F)
            ^ (UInt64(part.reference) << 8 | UInt64(part.total))
        let slot: Int
        if let found = index[identity] {
            slot = Int(found) - 1
        } else {
            let message = Message(
                parts: Array(repeating: 0, count: Int(part.total)), firstSession: session, lastTime: time,
                first: submit,
                identity: identity)
            if let reused = free.popLast() {
                messages[reused] = message
                slot = reused
            } else {
                messages.append(message)
                slot = messages.count - 1
            }
            index[identity] = UInt32(slot + 1)
            report.messages += 1
        }
        // The message changed where it is (a copy would copy its parts too).
        let rollup = Self.update(
            &messages[slot], with: part, content: content, session: session, submit: submit, at: time,
            report: &report, wantsReceipt: wantsReceipt, makeRollup: makeRollup)
        operations += 1
        if operations >= 65_536 || index.count > Self.maximumOpen {
            operations = 0
            close(before: index.count > Self.maximumOpen ? time : time - Self.openNanoseconds)
        }
        return rollup
    }

    private static func update(
        _ message: inout Message, with part: ConcatenatedPart, content: UInt64, session: Int,
        submit: Finding.Evidence, at time: Int64, report: inout LongMessageReport, wantsReceipt: Bool,
        makeRollup: () -> UInt32
    ) -> UInt32 {
        let index = Int(part.sequence) - 1
        let previous = message.parts[index]
        if previous != 0 {
            if previous == content {
                report.duplicateParts += 1
                note(&report.duplicateEvidence, submit)
            } else {
                report.referenceClashes += 1
                note(&report.clashEvidence, submit)
            }
        } else {
            message.parts[index] = content == 0 ? 1 : content
        }
        message.kinds |= 1 << part.kind.rawValue
        if session != message.firstSession { message.otherSession = true }
        message.lastTime = time
        if !message.counted, message.kinds.nonzeroBitCount > 1 {
            message.counted = true
            report.mixedMethods += 1
            note(&report.mixedMethodsEvidence, message.first)
        }
        if message.rollup == 0, wantsReceipt { message.rollup = makeRollup() }
        return message.rollup
    }

    /// Closes the messages whose last part came before `horizon` (all of them with `.max`): counts them whole or
    /// not, those with something to report in the order of their first parts.
    private mutating func close(before horizon: Int64, keepingInFlightAfter inFlight: Int64 = .max) {
        var reported: [Message] = []
        for slot in messages.indices where messages[slot].live && messages[slot].lastTime < horizon {
            let message = messages[slot]
            messages[slot].live = false
            messages[slot].parts = []
            _ = index.removeValue(forKey: message.identity)
            free.append(slot)
            if message.lastTime > inFlight, message.parts.contains(0) {
                report.inFlight += 1
            } else if message.isPlain {
                report.complete += 1
            } else {
                reported.append(message)
            }
        }
        for message in Self.inOrder(reported) { account(message) }
    }

    /// Messages in the order of their first parts (a dictionary's order is not the same from one table to another,
    /// and the evidence must be).
    private static func inOrder(_ messages: [Message]) -> [Message] {
        messages.sorted {
            ($0.first.time, $0.first.session, $0.first.sequenceNumber)
                < ($1.first.time, $1.first.session, $1.first.sequenceNumber)
        }
    }

    private mutating func account(_ message: Message) {
        let missing = message.parts.enumerated().filter { $0.element == 0 }.map { $0.offset + 1 }
        if missing.isEmpty {
            report.complete += 1
        } else {
            report.incomplete += 1
            report.missingParts += missing.count
            if report.incompleteEvidence.count < Finding.evidenceLimit {
                Self.note(&report.incompleteEvidence, message.first)
                report.incompleteExamples.append(.init(total: message.parts.count, missing: missing))
            }
        }
        if message.otherSession {
            report.mixedSessions += 1
            Self.note(&report.mixedSessionsEvidence, message.first)
        }
    }

    /// Keeps evidence up to ``Finding/evidenceLimit``.
    private static func note(_ list: inout [Finding.Evidence], _ evidence: Finding.Evidence) {
        if list.count < Finding.evidenceLimit { list.append(evidence) }
    }

    /// Closes the books at the end of the input: messages whose last part came within `pendingAfter` are still in
    /// flight and counted apart.
    mutating func finish(pendingAfter: Int64) -> LongMessageReport {
        close(before: .max, keepingInFlightAfter: pendingAfter)
        return report
    }
}

/// What the long messages of the input did.
public struct LongMessageReport: Hashable, Sendable {
    /// Long messages seen (by account, destination, reference and number of parts).
    public var messages = 0
    /// All parts accepted.
    public var complete = 0
    /// Some part never accepted; the parts missing in all.
    public var incomplete = 0
    public var missingParts = 0
    /// Still getting parts at the end of the input.
    public var inFlight = 0
    /// A part accepted again with the same content (the handset gets it twice).
    public var duplicateParts = 0
    /// A part number accepted again with other content: two messages under one reference.
    public var referenceClashes = 0
    /// Messages whose parts say they are parts in more than one way (UDH 8-bit, UDH 16-bit, SAR).
    public var mixedMethods = 0
    /// Messages whose parts went over more than one bind.
    public var mixedSessions = 0
    /// Parts whose numbers make no sense (0, or past the total).
    public var malformed = 0
    public var incompleteEvidence: [Finding.Evidence] = []
    /// For the first incomplete messages: how many parts, and which are missing.
    public var incompleteExamples: [IncompleteExample] = []
    public var duplicateEvidence: [Finding.Evidence] = []
    public var clashEvidence: [Finding.Evidence] = []
    public var mixedMethodsEvidence: [Finding.Evidence] = []
    public var mixedSessionsEvidence: [Finding.Evidence] = []

    public init() {}

}

/// An incomplete long message: its number of parts and the numbers of those missing.
public struct IncompleteExample: Hashable, Sendable {
    public var total: Int
    public var missing: [Int]

    public init(total: Int, missing: [Int]) {
        self.total = total
        self.missing = missing
    }
}
