// Writing a source into the store: reassembly events numbered in order, key fields pulled out for searching,
// passwords redacted (or sealed apart), whole batches in single transactions so that an interrupted import leaves
// whole batches only and can be resumed.

import Capture
import Crypto
import Foundation
import NIOCore
import Reassembly
import SMPP

/// How an import treats what it stores.
public struct ImportOptions: Sendable {
    /// When set, bind passwords are also kept apart, sealed with this key (AES-GCM); without it they are only
    /// redacted. The raw bytes are redacted either way.
    public var passwordKey: SymmetricKey?
    /// Events per transaction.
    public var batchSize = 20_000
    /// Write at a lower priority than the process's other threads (for a recorder beside live traffic).
    public var background = false

    public init(passwordKey: SymmetricKey? = nil) {
        self.passwordKey = passwordKey
    }

    /// Reads a 32-byte key from a file: raw, hex or base64.
    public static func key(fromFile path: String) throws -> SymmetricKey {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StoreError(.unreadableFile, "cannot read the key file \(path)", location: path)
        }
        if data.count == 32 { return SymmetricKey(data: data) }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.count == 64, let bytes = hexBytes(text) { return SymmetricKey(data: bytes) }
        if let decoded = Data(base64Encoded: text), decoded.count == 32 { return SymmetricKey(data: decoded) }
        throw StoreError(
            .unreadableFile, "the key file \(path) must hold 32 bytes (raw, 64 hex digits or base64)", location: path)
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2, limitedBy: text.endIndex) ?? text.endIndex
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}

/// One import in progress. Feed it every event of the source in order, then call ``finish()``.
public final class StoreImport {
    let store: any ImportBackend
    public let source: StoredSource
    /// Events stored by an earlier, interrupted import of the same source: the first ones fed are skipped.
    public let resumeAfter: Int
    let options: ImportOptions

    private struct ConnectionState {
        var connection: Connection
        var pdus = 0
        var lastPDU: Int64?
        var dirty = false
        /// A bind request waits for its response.
        var awaitingBind = false
        /// Requests that can be given a message id by their response: sequence -> the block holding them.
        var submits: [UInt32: Int64] = [:]
    }

    struct EventRow {
        var id: Int64
        var connection: Int?
        var kind: StoredEventKind
        var timestamp: Int64?
        var frame: Int?
        var fromFirst: Bool?
        var streamOffset: UInt64?
        var size: Int?
        var fileOffset: Int?
        var detail: String
    }

    struct LookupKey: Equatable, Comparable {
        var hash: Int64
        var blockID: Int64

        init(_ kind: StoreSchema.Key, _ value: String, blockID: Int64) {
            hash = kind.hash(value)
            self.blockID = blockID
        }

        static func < (lhs: LookupKey, rhs: LookupKey) -> Bool {
            (lhs.hash, lhs.blockID) < (rhs.hash, rhs.blockID)
        }
    }

    /// What one transaction writes.
    struct Batch {
        var newSessions: [(connection: Connection, ordinal: Int)] = []
        var sessionUpdates: [Int: [String: StoreValue]] = [:]
        /// One block per connection that had PDUs in the batch.
        var blocks: [Int: PDUBlockBuilder] = [:]
        var eventRows: [EventRow] = []
        /// Sorted, without repeats, by the writer.
        var lookupKeys: [LookupKey] = []
        var secretRows: [(pduID: Int64, sealed: [UInt8])] = []
        var firstID: Int64 = 0
        var lastID: Int64 = 0
        /// The source's progress once the batch is written.
        var events = 0
        var pdus = 0
    }

    private var connections: [Int: ConnectionState] = [:]
    private var ordinal = 0
    private var totalPDUs: Int
    private var pending = 0
    private var batch = Batch()
    /// Writes batches on its own thread, one at a time, while the next one is built.
    private let writer: BatchWriter

    deinit { writer.end() }

    init(store: any ImportBackend, source: StoredSource, options: ImportOptions) throws {
        self.store = store
        self.source = source
        self.options = options
        resumeAfter = source.events
        totalPDUs = source.pdus
        var sessionIDs: [Int: Int64] = [:]
        // A resumed import: the sessions already stored keep their ids.
        for session in try store.sessions(sourceID: source.id) {
            sessionIDs[session.connection] = session.id
            connections[session.connection] = ConnectionState(
                connection: Connection(
                    id: session.connection, first: session.first, second: session.second, synSender: session.synSender,
                    firstSeen: session.firstSeen),
                pdus: session.pdus, lastPDU: session.lastPDU?.nanoseconds)
        }
        writer = BatchWriter(
            backend: store, sourceID: source.id, sessionIDs: sessionIDs, background: options.background)
    }

    /// Adds a reassembly event.
    public func add(_ event: StreamEvent) throws {
        ordinal += 1
        guard ordinal > resumeAfter else { return }
        let id = StoreSchema.rowID(source: source.id, ordinal: ordinal)
        if pending == 0 { batch.firstID = id }
        batch.lastID = id
        switch event {
        case .opened(let connection):
            connections[connection.id] = ConnectionState(connection: connection)
            batch.newSessions.append((connection, ordinal))
        case .pdu(let framed):
            addPDU(framed, id: id)
        case .gap(let gap):
            let state = connections[gap.connection]
            batch.eventRows.append(
                EventRow(
                    id: id, connection: state == nil ? nil : gap.connection, kind: .gap,
                    timestamp: gap.timestamp.nanoseconds,
                    frame: gap.frame, fromFirst: state.map { gap.source == $0.connection.first },
                    streamOffset: gap.streamOffset,
                    size: gap.size, fileOffset: nil, detail: gap.reason.rawValue))
        case .ended(let end):
            guard let state = connections[end.connection] else { break }
            batch.eventRows.append(
                EventRow(
                    id: id, connection: end.connection, kind: .ended, timestamp: end.timestamp.nanoseconds,
                    frame: end.frame,
                    fromFirst: end.by == state.connection.first, streamOffset: nil, size: nil, fileOffset: nil,
                    detail: end.kind.rawValue))
            batch.sessionUpdates[end.connection, default: [:]]["end_kind"] = .text(end.kind.rawValue)
            batch.sessionUpdates[end.connection, default: [:]]["end_by"] = .text(end.by.description)
            batch.sessionUpdates[end.connection, default: [:]]["end_ns"] = .integer(end.timestamp.nanoseconds)
        case .diagnostic(let diagnostic):
            let known = diagnostic.connection.flatMap { connections[$0] } != nil
            batch.eventRows.append(
                EventRow(
                    id: id, connection: known ? diagnostic.connection : nil, kind: .streamDiagnostic,
                    timestamp: diagnostic.timestamp.nanoseconds, frame: diagnostic.frame, fromFirst: nil,
                    streamOffset: diagnostic.streamOffset, size: nil, fileOffset: nil,
                    detail: "\(diagnostic.source)|\(diagnostic.destination)|\(diagnostic.message)"))
        }
        try countAndFlush()
    }

    /// Adds a capture diagnostic (a damaged record, an unsupported link type).
    public func add(_ diagnostic: CaptureDiagnostic) throws {
        ordinal += 1
        guard ordinal > resumeAfter else { return }
        let id = StoreSchema.rowID(source: source.id, ordinal: ordinal)
        if pending == 0 { batch.firstID = id }
        batch.lastID = id
        batch.eventRows.append(
            EventRow(
                id: id, connection: nil, kind: .captureDiagnostic, timestamp: nil, frame: diagnostic.frame,
                fromFirst: nil,
                streamOffset: nil, size: nil, fileOffset: diagnostic.fileOffset, detail: diagnostic.message))
        try countAndFlush()
    }

    private func countAndFlush() throws {
        pending += 1
        if pending >= options.batchSize { try flush() }
    }

    private func addPDU(_ framed: TimelinePDU, id: Int64) {
        let header = framed.header
        // Taken out while it changes, so that its tables are not copied.
        guard var state = connections.removeValue(forKey: framed.session) else { return }
        totalPDUs += 1
        let time = framed.timestamp.nanoseconds
        // Taken out of the batch while it grows, so that its bytes are not copied.
        var block =
            batch.blocks.removeValue(forKey: framed.session) ?? PDUBlockBuilder(firstOrdinal: ordinal, time: time)
        let blockID = StoreSchema.rowID(source: source.id, ordinal: block.firstOrdinal)
        let digest = framed.digest
        let keys = PDUKeys(frame: framed.raw, header: header, digest: digest)
        let command = header.commandID
        var redacted: [UInt8]?

        if command == .submitSM || command == .dataSM || command == .submitMulti {
            state.submits[header.sequenceNumber] = blockID
            if state.submits.count > 100_000 { state.submits.removeAll() }
        } else if command.isResponse {
            // The request gets the message id its response carried, in whichever block it sits.
            if let request = state.submits.removeValue(forKey: header.sequenceNumber), let messageID = keys.messageID,
                command == .submitSMResp || command == .dataSMResp || command == .submitMultiResp
            {
                batch.lookupKeys.append(LookupKey(.messageID, StoreSchema.messageIDKey(messageID), blockID: request))
            }
            if command == .bindTransmitterResp || command == .bindReceiverResp || command == .bindTransceiverResp,
                state.awaitingBind
            {
                state.awaitingBind = false
                batch.sessionUpdates[framed.session, default: [:]]["bind_status"] = .integer(
                    Int64(header.commandStatus.rawValue))
            }
            if header.commandStatus != .ok {
                batch.lookupKeys.append(
                    LookupKey(.status, StoreStatusKey.key(header.commandStatus.rawValue), blockID: blockID))
            }
        }
        if let bind = keys.bind {
            batch.sessionUpdates[framed.session, default: [:]]["system_id"] = .text(bind.systemID)
            batch.sessionUpdates[framed.session, default: [:]]["system_type"] = .text(bind.systemType)
            batch.sessionUpdates[framed.session, default: [:]]["bind_command"] = .integer(Int64(command.rawValue))
            state.awaitingBind = true
            redacted = sealAndRedact(framed.raw, pduID: id, password: bind.password)
        } else if let outbind = keys.outbind {
            redacted = sealAndRedact(framed.raw, pduID: id, password: outbind.password)
        } else if command.carriesPassword {
            // A bind that does not decode may still hold a password: redact what stands where it would be.
            redacted = sealAndRedact(framed.raw, pduID: id, password: nil)
        }
        for (kind, key) in keys.lookupKeys {
            batch.lookupKeys.append(LookupKey(kind, key, blockID: blockID))
        }
        let fromFirst = framed.source == state.connection.first
        if let redacted {
            redacted.withUnsafeBytes { bytes in
                block.append(
                    ordinal: ordinal, time: time, frame: framed.frame, streamOffset: framed.streamOffset,
                    fromFirst: fromFirst, bytes: bytes)
            }
        } else {
            framed.raw.withUnsafeReadableBytes { bytes in
                block.append(
                    ordinal: ordinal, time: time, frame: framed.frame, streamOffset: framed.streamOffset,
                    fromFirst: fromFirst, bytes: bytes)
            }
        }
        batch.blocks[framed.session] = block
        state.pdus += 1
        state.lastPDU = max(state.lastPDU ?? .min, time)
        state.dirty = true
        connections[framed.session] = state
    }

    /// The PDU with its password octets (the C-string after system_id) overwritten with '*', keeping the length
    /// so the PDU stays whole; with a key, the password is also kept apart, sealed.
    private func sealAndRedact(_ frame: ByteBuffer, pduID: Int64, password: String?) -> [UInt8] {
        if let password, let key = options.passwordKey,
            let sealed = try? AES.GCM.seal(Data(password.utf8), using: key).combined
        {
            batch.secretRows.append((pduID, Array(sealed)))
        }
        return Array((PasswordRedaction.redacted(frame) ?? frame).readableBytesView)
    }

    /// Hands the batch to the writer (after the previous one is written) and starts the next.
    public func flush() throws {
        guard pending > 0 else { return }
        for (connection, state) in connections where state.dirty {
            batch.sessionUpdates[connection, default: [:]]["pdus"] = .integer(Int64(state.pdus))
            batch.sessionUpdates[connection, default: [:]]["last_pdu_ns"] = StoreValue(state.lastPDU)
            connections[connection]?.dirty = false
        }
        batch.events = ordinal
        batch.pdus = totalPDUs
        try writer.write(batch)
        batch = Batch()
        pending = 0
    }

    /// Writes what is left and marks the source complete.
    public func finish() throws {
        try flush()
        try writer.wait()
        try store.complete(sourceID: source.id)
    }

    /// Waits until the batches already handed over are written, leaving the import incomplete (to be resumed).
    public func waitForWrites() throws {
        try writer.wait()
    }

    /// PDUs stored so far (this import and any earlier part of it).
    public var pdus: Int { totalPDUs }
}

/// How error statuses are written as lookup keys.
enum StoreStatusKey {
    static func key(_ status: UInt32) -> String {
        let hex = String(status, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - hex.count)) + hex
    }
}
