// `--dcs0`: what data_coding 0 is read as, and (by default) what each peer's messages show it carries.

@_spi(Lent) import Analysis
import ArgumentParser
@_spi(Lent) import Reassembly
@_spi(Lent) import Report
@_spi(Lent) import SMPP
@_spi(Lent) import Timeline

/// The values of `--dcs0`.
enum DefaultAlphabetChoice: String, ExpressibleByArgument, CaseIterable {
    case auto
    case gsm7
    case gsm7Packed = "gsm7-packed"
    case latin1
    case ascii

    /// The alphabet named; nil for `auto`.
    var alphabet: DefaultAlphabet? { DefaultAlphabet(rawValue: rawValue) }
}

extension InputOptions {
    /// How many data_coding 0 messages ``inferDefaultAlphabets()`` scores at most.
    static let defaultAlphabetSample = 50_000

    /// For each session and direction, the alphabet its peer's data_coding 0 messages show when it is not the one
    /// the session's system_type says (``DefaultAlphabetInference/differing``): scored per account (bind
    /// system_id) and direction over the first ``defaultAlphabetSample`` such messages of a capture file or store.
    /// Empty for a live capture or standard input, which cannot be read twice.
    func inferDefaultAlphabets() throws -> [Int: DefaultAlphabet] {
        guard interface == nil, capture != "-" else { return [:] }
        struct Enough: Error {}
        var accountOf: [Int: String] = [:]
        var sessionsOf: [String: Set<Int>] = [:]
        var inferences: [String: DefaultAlphabetInference] = [:]
        var scored = 0
        do {
            try readTimeline(
                label: "reading data_coding 0", decodesEveryPDU: false,
                lent: { item in
                    let command = item.header.commandID
                    switch command {
                    case .bindTransmitter, .bindReceiver, .bindTransceiver:
                        if case .bind(let bind) = item.decoded().body { accountOf[item.session] = bind.systemID }
                    case .submitSM, .deliverSM:
                        guard let location = item.digest.shortMessage, location.dataCoding == 0,
                            command == .submitSM
                                || !DeliveryReceipt.isMarked(
                                    esmClass: location.esmClass, hasReceiptedMessageID: false)
                        else { return }
                        let key = (accountOf[item.session] ?? "") + (command == .deliverSM ? "\u{0}mo" : "")
                        guard inferences[key, default: DefaultAlphabetInference()].add(item, at: location) else {
                            return
                        }
                        sessionsOf[key, default: []].insert(item.session)
                        scored += 1
                        if scored >= Self.defaultAlphabetSample { throw Enough() }
                    default:
                        break
                    }
                }, other: { _ in })
        } catch is Enough {}
        var alphabets: [Int: DefaultAlphabet] = [:]
        for (key, inference) in inferences {
            guard let alphabet = inference.differing else { continue }
            for session in sessionsOf[key] ?? [] {
                alphabets[RenderOptions.alphabetKey(session: session, fromSMSC: key.hasSuffix("\u{0}mo"))] = alphabet
            }
        }
        return alphabets
    }
}
